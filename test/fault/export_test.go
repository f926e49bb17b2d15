package fault

import (
	"fmt"
	"os"
	"testing"
	"time"
)

// TestAUD5_ExportDirectoryLost takes the journal's export directory away
// under load (odd trials: renamed away; even trials: renamed away and a
// regular file put in its place, so it cannot be made again), then puts it
// back. Issuance must go on or be refused cleanly; afterwards the export
// catches up, `sceau audit verify` passes against it, and serve restarts on
// it (AUD-5).
func TestAUD5_ExportDirectoryLost(t *testing.T) {
	for _, engine := range engines {
		t.Run(engine, func(t *testing.T) {
			in := newInstallation(t, engine, installOptions{})
			in.mustStart()
			for trial := 1; trial <= *trials; trial++ {
				before := in.snapshot()
				in.exportTrial(trial)
				lost := in.verifyAll(trial)
				in.stop()
				if err := in.start(); err != nil {
					t.Fatalf("trial %d: serve does not start again on the restored export: %v", trial, err)
				}
				addFigures(t, in.since("export-lost", before, lost))
				if stopEarly(t) {
					return
				}
			}
			in.stop()
		})
	}
}

// exportTrial takes the export directory away under load and puts it back.
func (in *installation) exportTrial(trial int) {
	t := in.t
	t.Helper()
	l := in.startLoad(trial, loadOptions{})
	defer l.halt()
	time.Sleep(700 * time.Millisecond)
	if err := in.waitExported(1); err != nil {
		t.Fatal(err)
	}
	headBefore := in.journalHead()
	away := fmt.Sprintf("%s.lost-%d", in.export, trial)
	if err := os.Rename(in.export, away); err != nil {
		t.Fatal(err)
	}
	if trial%2 == 0 {
		if err := os.WriteFile(in.export, []byte("not a directory\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	acked := in.snapshot().issued
	time.Sleep(2500 * time.Millisecond) // two export runs or more meet the loss
	if !in.proc.running() {
		t.Fatalf("trial %d: sceau serve exited when its export directory went away (%v):\n%s", trial, in.proc.err, tail(in.proc.log, 30))
	}
	t.Logf("trial %d: %d issuances acknowledged while the export directory was away", trial, in.snapshot().issued-acked)

	// Put it back: whatever the service made at the path goes aside.
	if fi, err := os.Lstat(in.export); err == nil {
		if fi.IsDir() {
			err = os.Rename(in.export, fmt.Sprintf("%s.recreated-%d", in.export, trial))
		} else {
			err = os.Remove(in.export)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Rename(away, in.export); err != nil {
		t.Fatal(err)
	}
	in.recovered = time.Now()
	time.Sleep(time.Second)
	l.halt()
	if err := in.waitExported(in.journalHead()); err != nil {
		t.Errorf("trial %d: the restored export does not catch up: %v\n%s", trial, err, tail(in.proc.log, 20))
	}

	// AUD-1: a logging failure and its recovery are journaled. When the
	// directory cannot be made again (even trials) the export must fail,
	// and say so; a directory renamed away is made again, empty, and the
	// export starts over in it.
	var failed, recovered int
	for _, e := range in.events("audit.", headBefore) {
		if e.Details["part"] != "export" {
			continue
		}
		switch e.Action {
		case "audit.failure":
			failed++
		case "audit.recovered":
			if failed > 0 {
				recovered++
			}
		}
	}
	t.Logf("trial %d: export directory %s: %d audit.failure and %d audit.recovered events for the export", trial,
		map[bool]string{true: "replaced by a file", false: "renamed away"}[trial%2 == 0], failed, recovered)
	if trial%2 == 0 && (failed == 0 || recovered == 0) {
		t.Errorf("trial %d: the export could not be written, but the journal holds %d audit.failure and %d audit.recovered events for it, want both", trial, failed, recovered)
	}
}
