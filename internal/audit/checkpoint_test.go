package audit_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"strings"
	"testing"
	"time"

	"github.com/sceau/sceau/internal/audit"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/sceautest"
	"github.com/sceau/sceau/internal/store"
)

// AUD-2: checkpoints are signed by Ed25519, ECDSA (P-256, P-384) or RSA
// keys, verify with the recorded public key alone, and chain.
func TestAUD2_CheckpointsSignAndVerifyWithEveryKeyType(t *testing.T) {
	ed, edPriv, _ := ed25519.GenerateKey(rand.Reader)
	_ = ed
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	for name, signer := range map[string]crypto.Signer{"ed25519": edPriv, "ecdsa-p256": newSigner(t), "ecdsa-p384": p384, "rsa-2048": rsaKey} {
		t.Run(name, func(t *testing.T) {
			ctx := t.Context()
			db := sceautest.OpenSQLite(t)
			j := audit.NewJournal(nil)
			cp := checkpointer(t, db, j, signer)
			for range 3 {
				appendEvents(t, db, 10, 10)
				c, err := cp.Checkpoint(ctx, audit.KindPeriodic)
				if err != nil || c == nil {
					t.Fatalf("Checkpoint = %v, %v", c, err)
				}
			}
			// Nothing new: no new periodic checkpoint.
			if c, err := cp.Checkpoint(ctx, audit.KindPeriodic); err != nil || c != nil {
				t.Errorf("a periodic checkpoint of a signed head: %v, %v", c, err)
			}
			res, err := audit.VerifyWith(ctx, db, audit.VerifyOptions{TrustedKeys: []crypto.PublicKey{signer.Public()}})
			if err != nil || !res.OK() || res.Checkpoints != 3 || res.Unsigned != 0 {
				t.Errorf("Verify = %+v, %v; want 3 checkpoints and nothing unsigned", res, err)
			}
			k, err := audit.NewSigningKey(signer.Public(), "")
			if err != nil || k.Algorithm != name {
				t.Errorf("algorithm %q, %v; want %s", k.Algorithm, err, name)
			}
		})
	}
}

// AUD-2: the checkpoint signing key is recorded once, by an event, and a
// checkpointer whose key is not recorded refuses to sign.
func TestAUD2_SigningKeyIsRegisteredByAnEvent(t *testing.T) {
	ctx := t.Context()
	db := sceautest.OpenSQLite(t)
	j := audit.NewJournal(nil)
	signer := newSigner(t)
	unregistered, err := audit.NewCheckpointer(db, signer, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := unregistered.Checkpoint(ctx, audit.KindPeriodic); err == nil || !strings.Contains(err.Error(), "not registered") {
		t.Errorf("checkpoint with an unregistered key: %v", err)
	}
	k, created, err := audit.RegisterKey(ctx, db, j, sceau.System("test"), "audit-signing", signer.Public())
	if err != nil || !created || k.Seq != 1 {
		t.Fatalf("RegisterKey = %+v, %v, %v", k, created, err)
	}
	if _, created, err := audit.RegisterKey(ctx, db, j, sceau.System("test"), "audit-signing", signer.Public()); err != nil || created {
		t.Errorf("second RegisterKey: created %v, %v", created, err)
	}
	recs, err := audit.Read(ctx, db, 0, 10)
	if err != nil || len(recs) != 1 || recs[0].Action != audit.ActionKeyRegistered || !strings.Contains(recs[0].Details, k.ID) {
		t.Fatalf("journal after registration: %+v, %v", recs, err)
	}
	if _, err := unregistered.Checkpoint(ctx, audit.KindPeriodic); err != nil {
		t.Errorf("checkpoint after registration: %v", err)
	}
}

// AUD-2: the checkpoints, keys, archive, alerts and configuration versions
// are append-only in the database, on both engines; the live journal
// still refuses UPDATE, and DELETE of anything not archived.
func TestAUD2_ProofTablesAreAppendOnly(t *testing.T) {
	sceautest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		j := audit.NewJournal(nil)
		cp := checkpointer(t, db, j, newSigner(t))
		appendEvents(t, db, 20, 20)
		if _, err := cp.Checkpoint(ctx, audit.KindPeriodic); err != nil {
			t.Fatal(err)
		}
		if _, _, err := audit.RecordConfig(ctx, db, j, sceau.System("test"), "test", map[string]string{"a": "1"}); err != nil {
			t.Fatal(err)
		}
		attempts := []string{
			`UPDATE audit_checkpoints SET seq = 1`,
			`DELETE FROM audit_checkpoints`,
			`UPDATE audit_keys SET label = 'x'`,
			`DELETE FROM audit_keys`,
			`UPDATE audit_config_versions SET snapshot = '{}'`,
			`DELETE FROM audit_config_versions`,
			`UPDATE audit_events SET actor = 'mallory' WHERE seq = 3`,
			`DELETE FROM audit_events WHERE seq = 3`,
		}
		if db.Engine() == store.Postgres {
			attempts = append(attempts, `TRUNCATE audit_checkpoints`, `TRUNCATE audit_keys`, `TRUNCATE audit_archive`, `TRUNCATE audit_events`)
		}
		for _, q := range attempts {
			_, err := db.ExecContext(ctx, q)
			if err == nil || !strings.Contains(err.Error(), "append-only") {
				t.Errorf("%s: %v, want the append-only refusal", q, err)
			}
		}
		// An event copied to the archive but not under an archive
		// checkpoint stays.
		if _, err := db.ExecContext(ctx, `INSERT INTO audit_archive SELECT * FROM audit_events WHERE seq = 2`); err != nil {
			t.Fatal(err)
		}
		if _, err := db.ExecContext(ctx, `DELETE FROM audit_events WHERE seq = 2`); err == nil {
			t.Error("an event left the live journal without an archive checkpoint")
		}
		if res, err := audit.Verify(ctx, db); err != nil || res.OK() {
			// The copy makes event 2 appear twice: the verifier says so.
			t.Errorf("Verify with a stray archive copy = %+v, %v; want a break", res, err)
		}
	})
}

// AUD-2: the service signs a checkpoint every N events without waiting for
// the interval, and at the interval when fewer arrived.
func TestAUD2_CheckpointEveryNEventsOrInterval(t *testing.T) {
	ctx := t.Context()
	db := sceautest.OpenSQLite(t)
	j := audit.NewJournal(nil)
	svc, err := audit.Start(ctx, audit.Options{DB: db, Journal: j, Signer: newSigner(t), KeyLabel: "audit-signing",
		CheckpointEvery: 100, CheckpointInterval: time.Hour, AnalysisInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Stop()
	first, err := audit.LastCheckpoint(ctx, db)
	if err != nil || first == nil {
		t.Fatalf("no checkpoint at start: %v", err)
	}
	for range 3 {
		appendN(t, db, j, 50, testActor, audit.ActionCertificateIssued, "certificate:1")
	}
	waitFor(t, "a checkpoint after 100 events", func() bool {
		c, _ := audit.LastCheckpoint(ctx, db)
		return c != nil && c.ID > first.ID && c.Seq >= first.Seq+100
	})

	db2 := sceautest.OpenSQLite(t)
	j2 := audit.NewJournal(nil)
	svc2, err := audit.Start(ctx, audit.Options{DB: db2, Journal: j2, Signer: newSigner(t), KeyLabel: "audit-signing",
		CheckpointEvery: 1000, CheckpointInterval: 200 * time.Millisecond, AnalysisInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer svc2.Stop()
	appendN(t, db2, j2, 3, testActor, audit.ActionCertificateIssued, "certificate:1")
	waitFor(t, "a checkpoint at the interval", func() bool {
		c, _ := audit.LastCheckpoint(ctx, db2)
		h, _, _ := audit.Head(ctx, db2)
		return c != nil && c.Seq == h
	})
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// appendN appends n events of action by actor, one transaction.
func appendN(t *testing.T, db *store.DB, j *audit.Journal, n int, actor sceau.Actor, action, object string) {
	t.Helper()
	ctx := context.Background()
	evs := make([]audit.Event, n)
	for i := range evs {
		evs[i] = audit.Event{Actor: actor, Action: action, Object: object}
	}
	if err := db.InTx(ctx, func(tx *store.Tx) error { return j.Append(ctx, tx, evs...) }); err != nil {
		t.Fatal(err)
	}
}
