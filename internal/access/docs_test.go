package access_test

import (
	"os"
	"strings"
	"testing"

	"github.com/sceau/sceau/internal/access"
)

// TestSYS1_DocumentedMatrixIsThePolicy keeps the matrix of docs/roles.md
// true to the code's.
func TestSYS1_DocumentedMatrixIsThePolicy(t *testing.T) {
	b, err := os.ReadFile("../../docs/roles.md")
	if err != nil {
		t.Fatal(err)
	}
	documented := map[access.Action][]string{}
	for _, line := range strings.Split(string(b), "\n") {
		if !strings.HasPrefix(line, "| `") || strings.Count(line, "|") != 10 {
			continue
		}
		cells := strings.Split(line, "|")
		action := access.Action(strings.Trim(strings.TrimSpace(cells[1]), "`"))
		documented[action] = cells[2:9]
	}
	for _, r := range access.Policy() {
		cells, ok := documented[r.Action]
		if !ok {
			t.Errorf("%s is not in docs/roles.md", r.Action)
			continue
		}
		for i, role := range access.Roles {
			want := r.Terminal || r.Person || r.ShareHolder
			for _, x := range r.Roles {
				want = want || x == role
			}
			if got := strings.TrimSpace(cells[i]) == "✓"; got != want {
				t.Errorf("docs/roles.md, %s, %s: documented %v, the policy says %v", r.Action, role, got, want)
			}
		}
		delete(documented, r.Action)
	}
	for a := range documented {
		t.Errorf("docs/roles.md documents %s, which the policy does not have", a)
	}
}
