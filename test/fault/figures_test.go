package fault

import (
	"fmt"
	"io"
	"sort"
	"sync"
	"testing"
)

// figures are what one fault class did on one engine.
type figures struct {
	Class, Engine string
	Trials        int // trials run
	Faults        int // faults injected
	Issued        int // acknowledged issuances
	Revoked       int // acknowledged revocations
	Refused       int // clean refusals (503 with a reason), or refused starts for a rollback
	Bad           int // answers breaking the rules: a 5xx other than a 503 with a reason, an unexpected error
	Lost          int // acknowledged operations not found afterwards (or rollbacks not refused)
}

var tally struct {
	sync.Mutex
	m map[string]*figures
}

// addFigures adds one trial's counts to the figures of class on engine.
func addFigures(t *testing.T, f figures) {
	tally.Lock()
	defer tally.Unlock()
	if tally.m == nil {
		tally.m = map[string]*figures{}
	}
	k := f.Class + "/" + f.Engine
	g := tally.m[k]
	if g == nil {
		g = &figures{Class: f.Class, Engine: f.Engine}
		tally.m[k] = g
	}
	g.Trials += f.Trials
	g.Faults += f.Faults
	g.Issued += f.Issued
	g.Revoked += f.Revoked
	g.Refused += f.Refused
	g.Bad += f.Bad
	g.Lost += f.Lost
	t.Logf("%s", g.line())
}

func (f *figures) line() string {
	return fmt.Sprintf("fault figures: class=%s engine=%s trials=%d faults=%d acknowledged=%d (issued=%d revoked=%d) refused=%d bad=%d lost=%d",
		f.Class, f.Engine, f.Trials, f.Faults, f.Issued+f.Revoked, f.Issued, f.Revoked, f.Refused, f.Bad, f.Lost)
}

// printFigures writes one line per fault class and engine.
func printFigures(w io.Writer) {
	tally.Lock()
	defer tally.Unlock()
	var keys []string
	for k := range tally.m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintln(w, tally.m[k].line())
	}
}
