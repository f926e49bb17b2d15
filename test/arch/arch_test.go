// Package arch checks the dependency rules of STYLE.md: cmd -> server ->
// domain -> store; domain packages never import server, config or a
// database driver; sceau imports nothing of Sceau.
package arch

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/sceau/sceau/"

var domain = map[string]bool{"ca": true, "revocation": true, "keys": true, "quorum": true, "ceremony": true, "access": true,
	"audit": true, "archive": true, "publication": true, "ra": true, "incident": true, "compliance": true}

var drivers = []string{"modernc.org/sqlite", "github.com/jackc/pgx"}

func TestImportsGoOneWay(t *testing.T) {
	root := filepath.Join("..", "..", "internal")
	entries, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		pkg := e.Name()
		for _, imp := range imports(t, filepath.Join(root, pkg)) {
			inner, ours := strings.CutPrefix(imp, module+"internal/")
			inner, _, _ = strings.Cut(inner, "/")
			switch {
			case pkg == "sceau" && ours:
				t.Errorf("sceau imports %s: it must import nothing of Sceau", imp)
			case pkg == "store" && ours && inner != "sceau":
				t.Errorf("store imports %s: store is below every domain package", imp)
			case domain[pkg] && ours && (inner == "server" || inner == "config"):
				t.Errorf("domain package %s imports %s", pkg, imp)
			case domain[pkg] && isDriver(imp):
				t.Errorf("domain package %s imports the database driver %s", pkg, imp)
			case strings.HasPrefix(imp, module+"cmd"):
				t.Errorf("%s imports the command %s", pkg, imp)
			}
		}
	}
}

func isDriver(imp string) bool {
	for _, d := range drivers {
		if strings.HasPrefix(imp, d) {
			return true
		}
	}
	return false
}

// imports lists the imports of the non-test Go files in dir.
func imports(t *testing.T, dir string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	fset := token.NewFileSet()
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		af, err := parser.ParseFile(fset, f, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range af.Imports {
			p, _ := strconv.Unquote(s.Path.Value)
			out = append(out, p)
		}
	}
	return out
}
