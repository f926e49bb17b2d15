package audit_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sceau/sceau/internal/audit"
	"github.com/sceau/sceau/internal/sceautest"
)

// AUD-1, AUD-6 (issue 11, defect 7): a part of the journal fails while the
// journal itself cannot be written (the disk is full: here a trigger makes
// every insert of an event fail). When the journal can be written again,
// the failure is recorded before the recovery, marked late with the time it
// covers, and the analysis raises an alert for the time nothing could be
// recorded.
func TestAUD1_AnOutageOfTheJournalIsRecordedBeforeItsRecovery(t *testing.T) {
	ctx := t.Context()
	db := sceautest.OpenSQLite(t)
	j := audit.NewJournal(nil)
	tmp := t.TempDir()
	svc, err := audit.Start(ctx, audit.Options{DB: db, Journal: j, Signer: newSigner(t), KeyLabel: "audit-signing",
		ExportDir: filepath.Join(tmp, "export"), ExportInterval: 50 * time.Millisecond, AnalysisInterval: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Stop()
	appendN(t, db, j, 3, testActor, audit.ActionCRLIssued, "ca:issuing")

	// The journal refuses every event, and the export's directory is
	// taken by a file, so the export fails.
	if _, err := db.ExecContext(ctx, `CREATE TRIGGER full BEFORE INSERT ON audit_events BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END`); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(filepath.Join(tmp, "export")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(tmp, "export"), []byte("in the way"), 0o600); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1500 * time.Millisecond) // many failing passes, none recordable
	if _, err := db.ExecContext(ctx, `DROP TRIGGER full`); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(tmp, "export")); err != nil {
		t.Fatal(err)
	}
	seqOf := func(action string) (int64, string) {
		recs, _ := audit.Read(ctx, db, 0, 1000)
		for _, r := range recs {
			if r.Action == action {
				return r.Seq, r.Details
			}
		}
		return 0, ""
	}
	waitFor(t, "the recovery to be recorded", func() bool { s, _ := seqOf(audit.ActionLoggingRecovered); return s > 0 })
	failed, details := seqOf(audit.ActionLoggingFailed)
	recovered, _ := seqOf(audit.ActionLoggingRecovered)
	if failed == 0 || failed > recovered {
		t.Fatalf("audit.failure at event %d, audit.recovered at %d: the failure must come first", failed, recovered)
	}
	for _, want := range []string{`"part":"export"`, `"recorded_late":true`, `"failed_at":`, `"unrecorded_for":`} {
		if !strings.Contains(details, want) {
			t.Errorf("the late failure event lacks %s: %s", want, details)
		}
	}
	waitFor(t, "an alert for the unrecorded time", func() bool {
		al, _ := audit.Alerts(ctx, db, time.Now().Add(-time.Hour), 10)
		for _, a := range al {
			if a.Rule == audit.RuleLoggingFailure && strings.Contains(a.Message, "the journal could not record for") {
				return true
			}
		}
		return false
	})
}
