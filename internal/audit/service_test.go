package audit_test

import (
	"crypto"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sceau/sceau/internal/audit"
	"github.com/sceau/sceau/internal/sceautest"
)

// AUD-1: the start and stop of logging are events; a part of the journal
// that fails records the failure once, with the action taken, and its
// recovery; the stop signs a final checkpoint and flushes the export
// (AUD-2, AUD-5).
func TestAUD1_LoggingStartStopAndFailuresAreRecorded(t *testing.T) {
	ctx := t.Context()
	db := sceautest.OpenSQLite(t)
	j := audit.NewJournal(nil)
	signer := newSigner(t)
	tmp := t.TempDir()
	// The export directory's place is taken by a file: the export fails.
	blocker := filepath.Join(tmp, "backup")
	if err := os.WriteFile(blocker, []byte("not a directory"), 0o600); err != nil {
		t.Fatal(err)
	}
	exportDir := filepath.Join(blocker, "audit")
	svc, err := audit.Start(ctx, audit.Options{DB: db, Journal: j, Signer: signer, KeyLabel: "audit-signing",
		ExportDir: exportDir, ExportInterval: 50 * time.Millisecond, AnalysisInterval: 50 * time.Millisecond,
		Settings: map[string]any{"source": "test"}})
	if err != nil {
		t.Fatal(err)
	}
	has := func(action string) bool {
		recs, _ := audit.Read(ctx, db, 0, 1000)
		for _, r := range recs {
			if r.Action == action {
				return true
			}
		}
		return false
	}
	waitFor(t, "the export failure to be recorded", func() bool { return has(audit.ActionLoggingFailed) })
	time.Sleep(200 * time.Millisecond) // several failing runs
	if err := os.Remove(blocker); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the export recovery to be recorded", func() bool { return has(audit.ActionLoggingRecovered) })
	waitFor(t, "the analysis of the failure", func() bool {
		al, _ := audit.Alerts(ctx, db, time.Now().Add(-time.Hour), 10)
		return len(al) == 1 && al[0].Rule == audit.RuleLoggingFailure
	})
	appendN(t, db, j, 3, testActor, audit.ActionCRLIssued, "ca:issuing")
	svc.Stop()
	svc.Stop() // twice is harmless

	recs, err := audit.Read(ctx, db, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	for _, r := range recs {
		count[r.Action]++
		if r.Action == audit.ActionLoggingFailed && (!strings.Contains(r.Details, `"part":"export"`) || !strings.Contains(r.Details, "action_taken")) {
			t.Errorf("the failure event does not say what failed and what was done: %s", r.Details)
		}
		if r.Action == audit.ActionLoggingStarted && !strings.Contains(r.Details, `"source":"test"`) {
			t.Errorf("logging_started does not carry the settings: %s", r.Details)
		}
	}
	for action, n := range map[string]int{audit.ActionLoggingStarted: 1, audit.ActionLoggingFailed: 1, audit.ActionLoggingRecovered: 1,
		audit.ActionLoggingStopped: 1, audit.ActionAlertRaised: 1} {
		if count[action] != n {
			t.Errorf("%d %s events, want %d (all: %v)", count[action], action, n, count)
		}
	}
	last := recs[len(recs)-1]
	if last.Action != audit.ActionLoggingStopped {
		t.Errorf("the last event is %s, want %s", last.Action, audit.ActionLoggingStopped)
	}
	cp, err := audit.LastCheckpoint(ctx, db)
	if err != nil || cp == nil || cp.Kind != audit.KindFinal || cp.Seq != last.Seq {
		t.Errorf("last checkpoint %+v, %v; want a final one covering event %d", cp, err, last.Seq)
	}
	st, err := audit.ReadExportStatus(ctx, db, exportDir, time.Now())
	if err != nil || st.LagEvents != 0 || st.Checkpoint != cp.ID {
		t.Errorf("export after the stop: %+v, %v; want no lag, through checkpoint %d", st, err, cp.ID)
	}
	res, anchor, err := audit.VerifyExport(ctx, exportDir, audit.VerifyOptions{TrustedKeys: []crypto.PublicKey{signer.Public()}})
	if err != nil || !res.OK() {
		t.Fatalf("VerifyExport = %+v, %v", res, err)
	}
	if res, err := audit.VerifyWith(ctx, db, audit.VerifyOptions{Anchor: anchor}); err != nil || !res.OK() || res.Unsigned != 0 {
		t.Errorf("Verify against the export = %+v, %v", res, err)
	}
}
