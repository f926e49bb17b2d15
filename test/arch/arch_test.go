// Package arch checks the shape that ARCHITECTURE.md and STYLE.md describe:
// cmd/sceau wires flags to packages; the wiring packages (server, node,
// adminapi, bench, demo) sit above the domain packages; domain packages
// import each other only along the edges listed below, and never the
// wiring, the configuration or a database driver; store, config, cms and
// safefile sit below them and sceau below everything. A domain package
// keeps its SQL in sql.go; the wiring and cmd/sceau hold none.
package arch

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/sceau/sceau/"

// Every package under internal/ has a class; a package that is not listed,
// or a listed one that does not exist, fails the test.
var classes = map[string]string{
	"sceau":    "base",
	"safefile": "support", "store": "support", "config": "support", "cms": "support", "clockguard": "support",
	"ca": "domain", "revocation": "domain", "keys": "domain", "quorum": "domain", "ceremony": "domain",
	"access": "domain", "audit": "domain", "etsi": "domain", "publication": "domain", "archive": "domain", "tsa": "domain", "incident": "domain",
	"compliance": "domain", "registration": "domain", "continuity": "domain", "acme": "domain", "est": "domain",
	"server": "wiring", "node": "wiring", "adminapi": "wiring", "bench": "wiring", "demo": "wiring",
	"sceautest": "testing",
}

// The domain-to-domain imports allowed. ca names revocation's value types
// (Issuer, SerialHex) but holds the service behind an interface; quorum
// names access's Principal and Request but books approvals through an
// interface; the ceremony drives quorum's splits and the key stores.
var domainEdges = map[string][]string{
	// CA-4: the ACME server reads dossiers through a small interface
	// (registration's types), issues through ca and revokes through
	// revocation.
	"acme": {"access", "audit", "ca", "registration", "revocation"},
	// CA-4: the EST server likewise (RFC 7030): dossiers through a small
	// interface, issuance through ca (the key types its profiles take),
	// serials named as revocation does.
	"est":         {"access", "audit", "ca", "keys", "registration", "revocation"},
	"access":      {"audit", "keys"},
	"archive":     {"audit"},
	"audit":       {},
	"compliance":  {},
	"ca":          {"audit", "etsi", "keys", "revocation"},
	"ceremony":    {"audit", "keys", "quorum"},
	"continuity":  {"audit"},
	"etsi":        {},
	"incident":    {"audit"},
	"keys":        {},
	"publication": {"audit"},
	"quorum":      {"access", "audit", "keys"},
	"revocation":  {"audit"},
	// CA-4: the registration authority issues through ca, revokes through
	// revocation, archives evidence and proofs, and asks publication which
	// CGU version is in force.
	"registration": {"access", "archive", "audit", "ca", "etsi", "keys", "publication", "revocation"},
	"tsa":          {},
}

// The wiring packages' own order: server is below the installation (node),
// which is below the client-side packages.
var wiringBelow = map[string][]string{
	"server":   {"node", "adminapi", "bench", "demo"},
	"node":     {"adminapi", "bench", "demo"},
	"adminapi": {"node", "bench", "demo"},
	"demo":     {"bench"},
	"bench":    {"demo"},
}

var drivers = []string{"modernc.org/sqlite", "github.com/jackc/pgx"}

// cmd/sceau holds flags, prompts and printing: no database, no randomness
// (keys and secrets are made in the packages), no SQL.
var cmdForbidden = []string{"database/sql", "crypto/rand", "modernc.org/sqlite", "github.com/jackc/pgx"}

var sqlText = regexp.MustCompile(`(?is)\b(SELECT\s.+\sFROM\s|INSERT\s+INTO\s|UPDATE\s+\w+\s+SET\s|DELETE\s+FROM\s|CREATE\s+(TABLE|INDEX)\s)`)

func TestArchitectureHolds(t *testing.T) {
	for _, v := range check(t, filepath.Join("..", "..")) {
		t.Error(v)
	}
}

// The checker catches what it is for: the fixture under testdata/wrong
// breaks each rule once.
func TestArchitectureCatchesAWrongImport(t *testing.T) {
	got := check(t, filepath.Join("testdata", "wrong"))
	for _, want := range []string{
		"internal/ca imports internal/server",
		"internal/ca imports internal/ceremony",
		"internal/ca imports the database driver modernc.org/sqlite",
		"internal/mystery has no class",
		"cmd/sceau imports crypto/rand",
		"cmd/sceau imports database/sql",
		"cmd/sceau/main.go holds SQL",
		"internal/server imports internal/node",
		"internal/ca/ca.go holds SQL",
	} {
		if !slices.ContainsFunc(got, func(v string) bool { return strings.Contains(v, want) }) {
			t.Errorf("the fixture's %q was not caught; caught: %q", want, got)
		}
	}
}

// check returns every violation in the tree at root (a module root).
func check(t *testing.T, root string) []string {
	t.Helper()
	var out []string
	report := func(format string, args ...any) {
		if v := fmt.Sprintf(format, args...); !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	entries, err := os.ReadDir(filepath.Join(root, "internal"))
	if err != nil {
		t.Fatal(err)
	}
	present := map[string]bool{}
	for _, e := range entries {
		if !e.IsDir() || e.Name() == "testdata" {
			continue
		}
		pkg := e.Name()
		present[pkg] = true
		class, ok := classes[pkg]
		if !ok {
			report("internal/%s has no class in test/arch: say where it sits", pkg)
		}
		imps, files := parse(t, filepath.Join(root, "internal", pkg))
		for name, lits := range files {
			// A domain package keeps its queries in sql.go, next to the
			// comment on which tables and columns it owns; the wiring
			// holds none and calls the package that owns the table.
			if (class == "domain" && name != "sql.go") || class == "wiring" {
				if s, ok := firstSQL(lits); ok {
					report("internal/%s/%s holds SQL (%.40q…): queries belong in the owning package's sql.go", pkg, name, s)
				}
			}
		}
		for _, imp := range imps {
			inner, ours := strings.CutPrefix(imp, module+"internal/")
			inner, _, _ = strings.Cut(inner, "/")
			switch {
			case strings.HasPrefix(imp, module+"cmd"):
				report("internal/%s imports the command %s", pkg, imp)
			case class == "base" && ours:
				report("internal/%s imports internal/%s: it must import nothing of Sceau", pkg, inner)
			case class == "support" && ours && inner != "sceau" && inner != "safefile":
				report("internal/%s imports internal/%s: it is below every domain package", pkg, inner)
			case class == "domain" && isDriver(imp):
				report("internal/%s imports the database driver %s", pkg, imp)
			case class == "domain" && ours && classes[inner] == "domain" && !slices.Contains(domainEdges[pkg], inner):
				report("internal/%s imports internal/%s: not an allowed domain edge (test/arch domainEdges)", pkg, inner)
			case class == "domain" && ours && classes[inner] != "domain" && classes[inner] != "base" && classes[inner] != "support":
				report("internal/%s imports internal/%s: a domain package never imports the %s", pkg, inner, classes[inner])
			case class == "domain" && ours && inner == "config":
				report("internal/%s imports internal/config: a domain package takes options, not the configuration", pkg)
			case class == "wiring" && ours && slices.Contains(wiringBelow[pkg], inner):
				report("internal/%s imports internal/%s: it sits below it", pkg, inner)
			}
		}
	}
	for pkg := range classes {
		if !present[pkg] && root == filepath.Join("..", "..") {
			report("test/arch names internal/%s, which does not exist", pkg)
		}
	}
	cmdDir := filepath.Join(root, "cmd", "sceau")
	imps, files := parse(t, cmdDir)
	for _, imp := range imps {
		if slices.ContainsFunc(cmdForbidden, func(f string) bool { return imp == f || strings.HasPrefix(imp, f+"/") }) {
			report("cmd/sceau imports %s: that belongs in a package", imp)
		}
	}
	for name, lits := range files {
		if s, ok := firstSQL(lits); ok {
			report("cmd/sceau/%s holds SQL (%.40q…): queries belong to the package that owns the table", name, s)
		}
	}
	return out
}

func firstSQL(lits []string) (string, bool) {
	for _, s := range lits {
		if sqlText.MatchString(s) {
			return s, true
		}
	}
	return "", false
}

func isDriver(imp string) bool {
	return slices.ContainsFunc(drivers, func(d string) bool { return imp == d || strings.HasPrefix(imp, d+"/") })
}

// parse lists the imports of the non-test Go files in dir, and the string
// literals of each file.
func parse(t *testing.T, dir string) (imports []string, literals map[string][]string) {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	literals = map[string][]string{}
	fset := token.NewFileSet()
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		af, err := parser.ParseFile(fset, f, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range af.Imports {
			p, _ := strconv.Unquote(s.Path.Value)
			imports = append(imports, p)
		}
		ast.Inspect(af, func(n ast.Node) bool {
			if lit, ok := n.(*ast.BasicLit); ok && lit.Kind == token.STRING {
				if s, err := strconv.Unquote(lit.Value); err == nil {
					literals[filepath.Base(f)] = append(literals[filepath.Base(f)], s)
				}
			}
			return true
		})
	}
	return imports, literals
}
