package fault

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestAUD2_RollbackRefusedAtStart backs the database up while serve is
// stopped, does more work so that the journal's export moves past the
// backup, restores the backup, and expects serve to refuse to start, naming
// the rollback, and `sceau audit verify` to name it too (AUD-2, AUD-5).
// Every rollback must be refused. Then the newer database is put back, and
// nothing acknowledged is missing.
func TestAUD2_RollbackRefusedAtStart(t *testing.T) {
	for _, engine := range engines {
		t.Run(engine, func(t *testing.T) {
			in := newInstallation(t, engine, installOptions{})
			in.mustStart()
			for trial := 1; trial <= *trials; trial++ {
				before := in.snapshot()
				f := in.rollbackTrial(trial)
				now := in.snapshot()
				f.Issued, f.Revoked, f.Bad = now.issued-before.issued, now.revoked-before.revoked, now.bad-before.bad
				f.Lost += in.verifyAll(trial)
				addFigures(t, f)
				if stopEarly(t) {
					return
				}
			}
			in.stop()
		})
	}
}

// rollbackTrial runs one rollback on a running installation and leaves it
// running on its newest database.
func (in *installation) rollbackTrial(trial int) figures {
	t := in.t
	t.Helper()
	f := figures{Class: "rollback", Engine: in.engine, Trials: 1}
	in.work(trial)
	in.stop()
	old := in.backupDB(fmt.Sprintf("%d-old", trial))
	oldHead := in.journalHead()

	in.mustStart()
	in.work(trial)
	if in.exported() <= oldHead {
		t.Fatalf("trial %d: the export holds event %d, not past the backup's %d: no rollback to detect", trial, in.exported(), oldHead)
	}
	in.stop()
	newer := in.backupDB(fmt.Sprintf("%d-new", trial))

	in.restoreDB(old)
	f.Faults++
	code, out, err := in.startRefused()
	switch {
	case err != nil:
		f.Lost++
		t.Errorf("trial %d: serve on the rolled-back database: %v\n%s", trial, err, out)
	case code == 0 || !strings.Contains(out, "rolled back"):
		f.Lost++
		t.Errorf("trial %d: serve on the rolled-back database exited %d without naming the rollback:\n%s", trial, code, out)
	default:
		f.Refused++
	}
	if out, code := in.sceau("audit", "verify"); code == 0 || !strings.Contains(out, "rolled back") {
		t.Errorf("trial %d: sceau audit verify on the rolled-back database: exit %d, want a failure naming the rollback:\n%s", trial, code, out)
	}

	in.restoreDB(newer)
	in.mustStart()
	return f
}

// work runs a load for a second, then waits until the export holds the
// journal's head.
func (in *installation) work(trial int) {
	t := in.t
	t.Helper()
	l := in.startLoad(trial, loadOptions{})
	time.Sleep(time.Second)
	l.halt()
	if err := in.waitExported(in.journalHead()); err != nil {
		t.Fatalf("trial %d: %v", trial, err)
	}
}
