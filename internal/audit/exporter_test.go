package audit_test

import (
	"bufio"
	"bytes"
	"crypto"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sceau/sceau/internal/audit"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/sceautest"
)

// AUD-5: the export is JSON lines with the checkpoints and the key, made
// durable batch by batch; a run cut short is resumed from the cursor, what
// it wrote beyond the cursor is dropped, and the export verifies alone.
func TestAUD5_ExportIsResumableAndVerifiesAlone(t *testing.T) {
	ctx := t.Context()
	db := sceautest.OpenSQLite(t)
	clock := sceautest.NewClock(time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC))
	j := audit.NewJournal(clock)
	signer := newSigner(t)
	cp := checkpointer(t, db, j, signer)
	dir := filepath.Join(t.TempDir(), "backup")
	exp := audit.NewExporter(db, dir, clock)
	actor := sceau.Actor{ID: "alice", Role: "registration-officer"}

	for round := range 4 {
		for range 5 {
			appendN(t, db, j, 500, actor, audit.ActionCertificateIssued, "certificate:1")
			if _, err := cp.Checkpoint(ctx, audit.KindPeriodic); err != nil {
				t.Fatal(err)
			}
		}
		if round == 2 {
			// A crash after a write that was never made durable nor
			// recorded in the cursor: half a line at the end of the segment.
			cur, err := audit.ReadExportCursor(dir)
			if err != nil {
				t.Fatal(err)
			}
			f, err := os.OpenFile(filepath.Join(dir, cur.Segment), os.O_WRONLY|os.O_APPEND, 0)
			if err != nil {
				t.Fatal(err)
			}
			f.WriteString(`{"type":"event","seq":99999,"at":"`)
			f.Close()
		}
		n, err := exp.Export(ctx)
		if err != nil {
			t.Fatalf("round %d: Export: %v", round, err)
		}
		if round > 0 && n != 2500 {
			t.Errorf("round %d exported %d events, want 2500", round, n)
		}
	}
	head, _, _ := audit.Head(ctx, db)
	res, anchor, err := audit.VerifyExport(ctx, dir, audit.VerifyOptions{TrustedKeys: []crypto.PublicKey{signer.Public()}})
	if err != nil || !res.OK() || res.Events != head || res.Checkpoints != 20 || res.Unsigned != 0 {
		t.Fatalf("VerifyExport = %+v, %v; want %d events, 20 checkpoints", res, err, head)
	}
	if anchor.Seq != head || anchor.Checkpoint == nil || anchor.Checkpoint.ID != 20 {
		t.Errorf("anchor %+v", anchor)
	}
	segs, _ := filepath.Glob(filepath.Join(dir, "journal-*.jsonl"))
	if len(segs) < 3 {
		t.Errorf("%d segments, want the export split in several", len(segs))
	}
	// Every line is JSON with its type first; details are embedded JSON.
	types := map[string]int{}
	for _, s := range segs {
		b, _ := os.ReadFile(s)
		sc := bufio.NewScanner(bytes.NewReader(b))
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			var l struct {
				Type    string          `json:"type"`
				Details json.RawMessage `json:"details"`
			}
			if err := json.Unmarshal(sc.Bytes(), &l); err != nil || !bytes.HasPrefix(sc.Bytes(), []byte(`{"type":"`)) {
				t.Fatalf("%s: bad line %q: %v", s, sc.Text(), err)
			}
			types[l.Type]++
		}
	}
	if types["event"] != int(head) || types["checkpoint"] != 20 || types["key"] != 1 {
		t.Errorf("lines by type %v, want %d events, 20 checkpoints, 1 key", types, head)
	}
	// Nothing new: nothing written.
	if n, err := exp.Export(ctx); err != nil || n != 0 {
		t.Errorf("an export with nothing new wrote %d, %v", n, err)
	}
}

// AUD-5: the export's lag is visible, in events and in time; one exporter
// writes to a directory at a time.
func TestAUD5_ExportLagIsVisible(t *testing.T) {
	ctx := t.Context()
	db := sceautest.OpenSQLite(t)
	clock := sceautest.NewClock(time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC))
	j := audit.NewJournal(clock)
	dir := filepath.Join(t.TempDir(), "backup")
	appendN(t, db, j, 10, testActor, audit.ActionCRLIssued, "ca:issuing")
	if _, err := audit.NewExporter(db, dir, clock).Export(ctx); err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Minute)
	appendN(t, db, j, 7, testActor, audit.ActionCRLIssued, "ca:issuing")
	clock.Advance(90 * time.Second)
	st, err := audit.ReadExportStatus(ctx, db, dir, clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	if st.LagEvents != 7 || st.Lag != 90*time.Second || st.Cursor.Seq != 10 {
		t.Errorf("export status %+v, want 7 events and 90s behind", st)
	}
	status, err := audit.ReadStatus(ctx, db, dir, clock.Now())
	if err != nil || status.Export == nil || status.Export.LagEvents != 7 {
		t.Errorf("ReadStatus export %+v, %v", status.Export, err)
	}

	// Two exporters of one directory: the second is refused while the
	// first holds it.
	release, err := audit.LockExportDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	_, err = audit.NewExporter(db, dir, clock).Export(ctx)
	release()
	if err == nil || sceau.KindOf(err) != sceau.Conflict || !strings.Contains(err.Error(), "another exporter") {
		t.Errorf("a second exporter: %v, want a conflict", err)
	}
	if _, err := audit.NewExporter(db, dir, clock).Export(ctx); err != nil {
		t.Errorf("after the lock is released: %v", err)
	}
}
