package audit_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sceau/sceau/internal/audit"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/sceautest"
	"github.com/sceau/sceau/internal/store"
)

// journalFixture is a journal of 10,000 events built once: checkpoints
// every 1,000 events, the oldest events moved to the archive, exported,
// with copies of the database taken on the way (for rollbacks). Each trial
// works on a copy of the file.
type journalFixture struct {
	path      string // the database, closed
	exportDir string
	signer    crypto.Signer
	anchor    *audit.Anchor // from the verified export
	head      int64
	archived  int64 // events 1..archived are in audit_archive
	snapshots []snapshot
}

type snapshot struct {
	path string
	head int64
}

const fixtureEvents = 10_000

var (
	fixtureOnce sync.Once
	fixture     *journalFixture
	fixtureErr  error
)

// sharedFixture builds the fixture once for the test binary.
func sharedFixture(t *testing.T) *journalFixture {
	t.Helper()
	fixtureOnce.Do(func() { fixture, fixtureErr = buildFixture() })
	if fixtureErr != nil {
		t.Fatalf("building the journal: %v", fixtureErr)
	}
	return fixture
}

var fixtureDir string

func buildFixture() (*journalFixture, error) {
	dir, err := os.MkdirTemp("", "sceau-audit-fixture-")
	if err != nil {
		return nil, err
	}
	fixtureDir = dir
	ctx := context.Background()
	f := &journalFixture{path: filepath.Join(dir, "base.db"), exportDir: filepath.Join(dir, "export")}
	db, err := store.Open(ctx, store.SQLite, f.path)
	if err != nil {
		return nil, err
	}
	if err := db.Migrate(ctx); err != nil {
		return nil, err
	}
	// Events over 40 days: a batch of 250 a day.
	clock := sceautest.NewClock(time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC))
	j := audit.NewJournal(clock)
	f.signer, err = newKey()
	if err != nil {
		return nil, err
	}
	if _, _, err := audit.RegisterKey(ctx, db, j, sceau.System("test"), "audit-signing", f.signer.Public()); err != nil {
		return nil, err
	}
	cp, err := audit.NewCheckpointer(db, f.signer, clock)
	if err != nil {
		return nil, err
	}
	exp := audit.NewExporter(db, f.exportDir, clock)
	rng := mrand.New(mrand.NewPCG(1, 2))
	snapAt := map[int]bool{9: true, 17: true, 26: true, 33: true}
	actors := []sceau.Actor{{ID: "alice", Role: "registration-officer"}, {ID: "bob", Role: "system-operator"}, sceau.System("scheduler")}
	for batch := range fixtureEvents / 250 {
		evs := make([]audit.Event, 250)
		for i := range evs {
			n := batch*250 + i + 1
			evs[i] = audit.Event{Actor: actors[rng.IntN(len(actors))], Action: audit.ActionCertificateIssued,
				Object: fmt.Sprintf("certificate:%016x", n), Details: map[string]any{"n": n, "ca": "issuing", "note": "é\"\\<>\n"}}
		}
		if err := db.InTx(ctx, func(tx *store.Tx) error { return j.Append(ctx, tx, evs...) }); err != nil {
			return nil, err
		}
		if batch%4 == 3 {
			if _, err := cp.Checkpoint(ctx, audit.KindPeriodic); err != nil {
				return nil, err
			}
		}
		if batch%10 == 5 {
			if _, err := exp.Export(ctx); err != nil {
				return nil, err
			}
		}
		if snapAt[batch] {
			head, _, err := audit.Head(ctx, db)
			if err != nil {
				return nil, err
			}
			p := filepath.Join(dir, fmt.Sprintf("snapshot-%d.db", head))
			if _, err := db.ExecContext(ctx, `VACUUM INTO '`+p+`'`); err != nil {
				return nil, err
			}
			f.snapshots = append(f.snapshots, snapshot{path: p, head: head})
		}
		clock.Advance(24 * time.Hour)
	}
	// AUD-4: move what is older than the live retention to the archive.
	mover, err := audit.NewMover(db, j, cp, audit.MinLiveRetention, clock)
	if err != nil {
		return nil, err
	}
	for {
		n, err := mover.Move(ctx)
		if err != nil {
			return nil, err
		}
		if n == 0 {
			break
		}
	}
	if _, err := cp.Checkpoint(ctx, audit.KindFinal); err != nil {
		return nil, err
	}
	if _, err := exp.Export(ctx); err != nil {
		return nil, err
	}
	if f.head, _, err = audit.Head(ctx, db); err != nil {
		return nil, err
	}
	st, err := audit.ReadStatus(ctx, db, "", clock.Now())
	if err != nil {
		return nil, err
	}
	f.archived = st.ArchivedThrough
	if err := db.Close(); err != nil {
		return nil, err
	}
	res, anchor, err := audit.VerifyExport(ctx, f.exportDir, audit.VerifyOptions{})
	if err != nil {
		return nil, err
	}
	if !res.OK() {
		return nil, fmt.Errorf("the fixture's export does not verify: %s", res.Reason)
	}
	f.anchor = anchor
	return f, nil
}

func newKey() (*ecdsa.PrivateKey, error) {
	return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
}

// trial opens a copy of the fixture's database (or of src), with the
// append-only triggers dropped, as an attacker with write access to the
// file could.
func (f *journalFixture) trial(t *testing.T, src string) *store.DB {
	t.Helper()
	if src == "" {
		src = f.path
	}
	dst := filepath.Join(t.TempDir(), "sceau.db")
	copyFile(t, src, dst)
	db, err := store.Open(t.Context(), store.SQLite, dst)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	rows, err := db.QueryContext(t.Context(), `SELECT name FROM sqlite_master WHERE type = 'trigger'`)
	if err != nil {
		t.Fatal(err)
	}
	var triggers []string
	for rows.Next() {
		var n string
		rows.Scan(&n)
		triggers = append(triggers, n)
	}
	rows.Close()
	for _, n := range triggers {
		if _, err := db.ExecContext(t.Context(), `DROP TRIGGER `+n); err != nil {
			t.Fatal(err)
		}
	}
	return db
}

func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}

func (f *journalFixture) table(seq int64) string {
	if seq <= f.archived {
		return "audit_archive"
	}
	return "audit_events"
}

// verifyAnchored verifies db against the fixture's export.
func (f *journalFixture) verifyAnchored(t *testing.T, db *store.DB) audit.VerifyResult {
	t.Helper()
	res, err := audit.VerifyWith(t.Context(), db, audit.VerifyOptions{Anchor: f.anchor})
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	return res
}

func record(t *testing.T, db *store.DB, seq int64) audit.Record {
	t.Helper()
	recs, err := audit.Read(t.Context(), db, seq-1, 1)
	if err != nil || len(recs) != 1 || recs[0].Seq != seq {
		t.Fatalf("event %d: %v %v", seq, recs, err)
	}
	return recs[0]
}

func exec(t *testing.T, db *store.DB, q string, args ...any) {
	t.Helper()
	if _, err := db.ExecContext(t.Context(), q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// trials is how many random positions each kind of tampering is tried at.
var trials = map[bool]int{false: 4, true: 1}[raceEnabled]

// tailPosition draws a position in [lo, head] for the tamperings that
// rewrite every event after it; under the race detector, among the last
// 1,500 events only, to keep the run short.
func (f *journalFixture) tailPosition(rng *mrand.Rand, lo int64) int64 {
	if raceEnabled {
		lo = max(lo, f.head-1500)
	}
	return lo + rng.Int64N(f.head-lo+1)
}

func newRand(t *testing.T) *mrand.Rand {
	seed := uint64(time.Now().UnixNano())
	t.Logf("random seed %d", seed)
	return mrand.New(mrand.NewPCG(seed, seed>>7))
}

// AUD-2: an untouched journal of 10,000 events, partly archived, verifies
// whole, alone and against its export, every time.
func TestAUD2_UntouchedJournalVerifies(t *testing.T) {
	f := sharedFixture(t)
	if f.archived == 0 {
		t.Fatal("the fixture archived nothing")
	}
	for i := range trials {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			db := f.trial(t, "")
			for name, opts := range map[string]audit.VerifyOptions{"alone": {}, "anchored": {Anchor: f.anchor},
				"pinned": {TrustedKeys: []crypto.PublicKey{f.signer.Public()}}} {
				if raceEnabled && name != "anchored" {
					continue
				}
				res, err := audit.VerifyWith(t.Context(), db, opts)
				if err != nil {
					t.Fatal(err)
				}
				if !res.OK() || res.Events != f.head || res.Checkpoints < 10 {
					t.Errorf("%s: Verify = %d events, %d checkpoints, broken at %d (%s); want %d events whole",
						name, res.Events, res.Checkpoints, res.BrokenAt, res.Reason, f.head)
				}
			}
		})
	}
	res, _, err := audit.VerifyExport(t.Context(), f.exportDir, audit.VerifyOptions{TrustedKeys: []crypto.PublicKey{f.signer.Public()}})
	if err != nil || !res.OK() || res.Events != f.head {
		t.Errorf("VerifyExport = %+v, %v", res, err)
	}
}

// AUD-2: editing one byte of one event, anywhere in the archive or the
// live journal, in any column, is found at that event.
func TestAUD2_VerifyFindsEditedByte(t *testing.T) {
	f := sharedFixture(t)
	rng := newRand(t)
	columns := []string{"at", "actor", "role", "action", "object", "details", "prev_hash", "hash"}
	for i := range trials * 2 {
		seq := 2 + rng.Int64N(f.head-1)
		col := columns[rng.IntN(len(columns))]
		t.Run(fmt.Sprintf("%d-event-%d-%s", i, seq, col), func(t *testing.T) {
			db := f.trial(t, "")
			var v []byte
			if err := db.QueryRowContext(t.Context(), `SELECT CAST(`+col+` AS BLOB) FROM `+f.table(seq)+` WHERE seq = ?`, seq).Scan(&v); err != nil {
				t.Fatal(err)
			}
			if len(v) == 0 {
				t.Skipf("%s of event %d is empty", col, seq)
			}
			v[rng.IntN(len(v))] ^= 1 << rng.IntN(7)
			var arg any = string(v)
			if strings.HasSuffix(col, "hash") {
				arg = v
			}
			exec(t, db, `UPDATE `+f.table(seq)+` SET `+col+` = ? WHERE seq = ?`, arg, seq)
			if res := f.verifyAnchored(t, db); res.BrokenAt != seq {
				t.Errorf("Verify = broken at %d (%s), want %d", res.BrokenAt, res.Reason, seq)
			}
		})
	}
}

// AUD-2: deleting an event is found where it is missing.
func TestAUD2_VerifyFindsDeletedEventAtRandom(t *testing.T) {
	f := sharedFixture(t)
	rng := newRand(t)
	for i := range trials {
		seq := 1 + rng.Int64N(f.head)
		t.Run(fmt.Sprintf("%d-event-%d", i, seq), func(t *testing.T) {
			db := f.trial(t, "")
			exec(t, db, `DELETE FROM `+f.table(seq)+` WHERE seq = ?`, seq)
			if res := f.verifyAnchored(t, db); res.BrokenAt != seq {
				t.Errorf("Verify = broken at %d (%s), want %d", res.BrokenAt, res.Reason, seq)
			}
		})
	}
}

// AUD-2: cutting the tail is found where the journal now ends, even when
// the attacker also rewinds the chain head and removes the checkpoints
// that covered the tail (then the export gives it away).
func TestAUD2_VerifyFindsTruncatedTail(t *testing.T) {
	f := sharedFixture(t)
	rng := newRand(t)
	for i := range trials {
		k := 1 + rng.Int64N(f.head-1)
		t.Run(fmt.Sprintf("%d-keep-%d", i, k), func(t *testing.T) {
			for _, tc := range []struct {
				name        string
				checkpoints bool // remove the checkpoints beyond k too
				export      bool
			}{{"head rewound", false, false}, {"head rewound and checkpoints removed", true, true}} {
				t.Run(tc.name, func(t *testing.T) {
					db := f.trial(t, "")
					last := record(t, db, k)
					exec(t, db, `DELETE FROM audit_events WHERE seq > ?`, k)
					exec(t, db, `DELETE FROM audit_archive WHERE seq > ?`, k)
					exec(t, db, `UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1`, k, last.Hash)
					if tc.checkpoints {
						exec(t, db, `DELETE FROM audit_checkpoints WHERE seq > ?`, k)
					}
					opts := audit.VerifyOptions{}
					if tc.export {
						opts.Anchor = f.anchor
					}
					res, err := audit.VerifyWith(t.Context(), db, opts)
					if err != nil {
						t.Fatal(err)
					}
					if res.BrokenAt != k+1 {
						t.Errorf("Verify = broken at %d (%s), want %d", res.BrokenAt, res.Reason, k+1)
					}
				})
			}
		})
	}
}

// AUD-2: swapping two events is found at the first of them.
func TestAUD2_VerifyFindsReorderedEvents(t *testing.T) {
	f := sharedFixture(t)
	rng := newRand(t)
	for i := range trials {
		a := 1 + rng.Int64N(f.head-1)
		lo, hi := a+1, f.head
		if a <= f.archived {
			hi = f.archived
		}
		if lo > hi {
			a, lo = a-1, a
		}
		b := lo + rng.Int64N(hi-lo+1)
		t.Run(fmt.Sprintf("%d-events-%d-%d", i, a, b), func(t *testing.T) {
			db := f.trial(t, "")
			tbl := f.table(a)
			exec(t, db, `UPDATE `+tbl+` SET seq = -1 WHERE seq = ?`, a)
			exec(t, db, `UPDATE `+tbl+` SET seq = ? WHERE seq = ?`, a, b)
			exec(t, db, `UPDATE `+tbl+` SET seq = ? WHERE seq = -1`, b)
			if res := f.verifyAnchored(t, db); res.BrokenAt != a {
				t.Errorf("Verify = broken at %d (%s), want %d", res.BrokenAt, res.Reason, a)
			}
		})
	}
}

// AUD-2: a forged event slipped in, correctly hashed onto its
// predecessor, is found at the event it displaced.
func TestAUD2_VerifyFindsInsertedForgery(t *testing.T) {
	f := sharedFixture(t)
	rng := newRand(t)
	for i := range trials {
		k := f.tailPosition(rng, 2)
		t.Run(fmt.Sprintf("%d-at-%d", i, k), func(t *testing.T) {
			db := f.trial(t, "")
			prev := record(t, db, k-1)
			for _, tbl := range []string{"audit_archive", "audit_events"} {
				exec(t, db, `UPDATE `+tbl+` SET seq = -seq - 1 WHERE seq >= ?`, k)
				exec(t, db, `UPDATE `+tbl+` SET seq = -seq WHERE seq < 0`)
			}
			forged := audit.Record{Seq: k, At: prev.At, Actor: "alice", Role: "registration-officer", Action: audit.ActionCertificateRevoked,
				Object: "certificate:00", Details: `{"reason":"forged"}`, PrevHash: prev.Hash}
			forged.Hash = forged.ComputeHash()
			exec(t, db, `INSERT INTO `+f.table(k)+` (seq, at, actor, role, action, object, details, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
				forged.Seq, forged.At, forged.Actor, forged.Role, forged.Action, forged.Object, forged.Details, forged.PrevHash, forged.Hash)
			exec(t, db, `UPDATE audit_head SET seq = seq + 1 WHERE id = 1`)
			if res := f.verifyAnchored(t, db); res.BrokenAt != k+1 {
				t.Errorf("Verify = broken at %d (%s), want %d", res.BrokenAt, res.Reason, k+1)
			}
		})
	}
}

// AUD-2: a database rolled back to an older copy is whole in itself; the
// export's checkpoint gives it away, also when the rolled-back service
// went on appending and signing with the genuine key.
func TestAUD2_VerifyFindsRollbackAgainstExport(t *testing.T) {
	f := sharedFixture(t)
	for i, snap := range f.snapshots {
		if i >= trials {
			break
		}
		t.Run(fmt.Sprintf("%d-back-to-%d", i, snap.head), func(t *testing.T) {
			db := f.trial(t, snap.path)
			if res, err := audit.VerifyWith(t.Context(), db, audit.VerifyOptions{}); err != nil || !res.OK() {
				t.Fatalf("the old copy alone: %+v, %v; want whole", res, err)
			}
			if res := f.verifyAnchored(t, db); res.BrokenAt != snap.head+1 {
				t.Errorf("Verify = broken at %d (%s), want %d", res.BrokenAt, res.Reason, snap.head+1)
			}
			// The service runs on from the old copy.
			ctx := t.Context()
			j := audit.NewJournal(nil)
			evs := make([]audit.Event, 100)
			for i := range evs {
				evs[i] = audit.Event{Actor: sceau.System("test"), Action: audit.ActionCRLIssued, Object: "ca:issuing"}
			}
			if err := db.InTx(ctx, func(tx *store.Tx) error { return j.Append(ctx, tx, evs...) }); err != nil {
				t.Fatal(err)
			}
			cp, err := audit.NewCheckpointer(db, f.signer, nil)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := cp.Checkpoint(ctx, audit.KindPeriodic); err != nil {
				t.Fatal(err)
			}
			if res := f.verifyAnchored(t, db); res.OK() {
				t.Errorf("a rolled-back journal that went on verifies against the export: %+v", res)
			}
		})
	}
}

// AUD-2: an attacker who rewrites an event, recomputes every hash after
// it and the chain head, and signs new checkpoints with a key of their
// own (recorded in audit_keys) is found: their checkpoints are not signed
// by a trusted key.
func TestAUD2_VerifyFindsResignedJournal(t *testing.T) {
	f := sharedFixture(t)
	rng := newRand(t)
	for i := range trials {
		k := f.tailPosition(rng, 2)
		t.Run(fmt.Sprintf("%d-from-%d", i, k), func(t *testing.T) {
			db := f.trial(t, "")
			resign(t, f, db, k)
			for name, opts := range map[string]audit.VerifyOptions{
				"against the export": {Anchor: f.anchor},
				"with a pinned key":  {TrustedKeys: []crypto.PublicKey{f.signer.Public()}},
			} {
				res, err := audit.VerifyWith(t.Context(), db, opts)
				if err != nil {
					t.Fatal(err)
				}
				if res.BrokenAt == 0 || res.BrokenAt > k {
					t.Errorf("%s: Verify = broken at %d (%s), want a break at or before %d", name, res.BrokenAt, res.Reason, k)
				}
			}
		})
	}
}

// resign rewrites event k and everything after it as a knowledgeable
// attacker without the audit signing key would.
func resign(t *testing.T, f *journalFixture, db *store.DB, k int64) {
	t.Helper()
	ctx := t.Context()
	mallory, err := newKey()
	if err != nil {
		t.Fatal(err)
	}
	mk, err := audit.NewSigningKey(mallory.Public(), "audit-signing")
	if err != nil {
		t.Fatal(err)
	}
	exec(t, db, `INSERT INTO audit_keys (key_id, algorithm, public_key, label, registered_at, seq) VALUES (?, ?, ?, ?, ?, 0)`,
		mk.ID, mk.Algorithm, mk.DER, mk.Label, "2026-01-01T00:00:00.000000000Z")
	recs, err := audit.Read(ctx, db, k-1, int(f.head))
	if err != nil {
		t.Fatal(err)
	}
	hashes := map[int64][]byte{}
	prev := record(t, db, k-1).Hash
	for i := range recs {
		r := &recs[i]
		if i == 0 {
			r.Details = `{"n":0,"ca":"issuing","note":"rewritten"}`
		}
		r.PrevHash = prev
		r.Hash = r.ComputeHash()
		prev = r.Hash
		hashes[r.Seq] = r.Hash
		exec(t, db, `UPDATE `+f.table(r.Seq)+` SET details = ?, prev_hash = ?, hash = ? WHERE seq = ?`, r.Details, r.PrevHash, r.Hash, r.Seq)
	}
	exec(t, db, `UPDATE audit_head SET hash = ? WHERE id = 1`, prev)
	cps, err := audit.Checkpoints(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	prevDigest := make([]byte, sha256.Size)
	for i := range cps {
		c := &cps[i]
		if c.Seq >= k {
			c.Hash = hashes[c.Seq]
			c.PrevDigest = prevDigest
			c.KeyID = mk.ID
			d := sha256.Sum256(c.Message())
			if c.Signature, err = ecdsa.SignASN1(rand.Reader, mallory, d[:]); err != nil {
				t.Fatal(err)
			}
			exec(t, db, `UPDATE audit_checkpoints SET hash = ?, prev_digest = ?, key_id = ?, signature = ? WHERE id = ?`,
				c.Hash, c.PrevDigest, c.KeyID, c.Signature, c.ID)
		}
		prevDigest = c.Digest()
	}
}
