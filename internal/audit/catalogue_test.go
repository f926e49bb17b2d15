package audit_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/sceau/sceau/internal/audit"
)

// The ways Sceau's code names the action of an event it writes.
var actionLiteral = regexp.MustCompile(`(?:Action:\s*|\baction\s*:?=\s*|\brecord\([^")]*"|\bAction[A-Z]\w*\s*=\s*)"([a-z][a-z_]*(?:\.[a-z][a-z_]*)?)"`)

// AUD-1: every action written anywhere in Sceau is in the catalogue, with
// a category and a description, once.
func TestAUD1_EveryRecordedActionIsInTheCatalogue(t *testing.T) {
	seen := map[string]bool{}
	for _, k := range audit.Catalogue {
		if seen[k.Action] {
			t.Errorf("%s is listed twice", k.Action)
		}
		seen[k.Action] = true
		if k.Category == "" || k.Description == "" || k.Source == "" {
			t.Errorf("%s lacks a category, description or source: %+v", k.Action, k)
		}
	}
	root := filepath.Join("..", "..")
	found := 0
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") ||
			strings.Contains(filepath.ToSlash(path), "internal/access/decide.go") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range actionLiteral.FindAllStringSubmatch(string(b), -1) {
			found++
			if _, ok := audit.Describe(m[1]); !ok {
				t.Errorf("%s writes action %q, which is not in the catalogue (internal/audit/catalogue.go)", path, m[1])
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if found < 30 {
		t.Errorf("found %d actions in the code: the scan is broken", found)
	}
}

// AUD-1: the catalogue covers every kind of event the policy lists.
func TestAUD1_CatalogueCoversThePolicyList(t *testing.T) {
	want := map[string]string{
		"account":       "account creation, change, deletion, authentication data",
		"session":       "login, logout and failed attempts of trusted roles",
		"personnel":     "personnel changes",
		"system":        "start and stop of systems and the application",
		"logging":       "start, stop, configuration and failures of logging",
		"physical":      "physical access",
		"maintenance":   "maintenance",
		"configuration": "configuration changes",
		"media":         "media destruction",
		"ca":            "CA operations",
		"key":           "CA key events",
	}
	have := map[string]int{}
	for _, k := range audit.Catalogue {
		have[k.Category]++
	}
	for c, what := range want {
		if have[c] == 0 {
			t.Errorf("no event of category %s (%s)", c, what)
		}
	}
	for _, a := range []string{audit.ActionServiceStarted, audit.ActionServiceStopped, audit.ActionLoggingStarted, audit.ActionLoggingStopped,
		audit.ActionLoggingConfigChanged, audit.ActionLoggingFailed, audit.ActionLoginFailed, audit.ActionPhysicalAccess,
		audit.ActionMaintenance, audit.ActionMediaDestroyed, audit.ActionConfigChanged, audit.ActionRoleGranted} {
		if _, ok := audit.Describe(a); !ok {
			t.Errorf("%s is missing", a)
		}
	}
}
