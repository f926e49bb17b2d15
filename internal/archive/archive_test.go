package archive_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/sceau/sceau/internal/archive"
	"github.com/sceau/sceau/internal/audit"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/sceautest"
	"github.com/sceau/sceau/internal/store"
)

func crlItem(n int) archive.New {
	return archive.New{Kind: archive.KindCRL, Source: "crl:issuing:" + strings.Repeat("9", n%5+1), MediaType: "application/pkix-crl",
		Class: archive.Public, Content: bytes.Repeat([]byte{byte(n)}, 1000+n)}
}

// ARC-1, ARC-6: an item goes in with its description and comes back with
// every check passed: hash, the signed head's signature and chain, and the
// item's inclusion in it.
func TestARC1_AddThenGetVerifiesHashHeadAndInclusion(t *testing.T) {
	sceautest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s, _ := newService(t, db, archive.Options{})
		var items []archive.New
		for i := range 7 {
			items = append(items, crlItem(i))
		}
		got := add(t, s, items...)
		if len(got) != 7 || got[0].Leaf != 0 || got[6].Leaf != 6 {
			t.Fatalf("leaves: %+v", got)
		}
		if want := got[0].EventAt.AddDate(10, 0, 0); got[0].RetainUntil.Before(want) {
			t.Errorf("retained until %s, want ten calendar years from the event: %s", got[0].RetainUntil, want)
		}
		add(t, s, crlItem(8))
		for _, leaf := range []int64{0, 3, 6, 7} {
			r, err := s.Get(ctx, actor, leaf, archive.GetOptions{})
			if err != nil {
				t.Fatalf("get %d: %v", leaf, err)
			}
			want := []string{"hash", "head signature", "head chain", "inclusion"}
			if strings.Join(r.Checks, ",") != strings.Join(want, ",") {
				t.Errorf("get %d checks %v, want %v", leaf, r.Checks, want)
			}
			if !bytes.Equal(r.Content, items[min(int(leaf), 6)].Content) && leaf != 7 {
				t.Errorf("get %d: other content", leaf)
			}
		}
		// A second head is consistent with the first.
		add(t, s, crlItem(9), crlItem(10))
		h, err := s.IssueHead(ctx, actor)
		if err != nil || h.Size != 10 {
			t.Fatalf("head: %+v %v", h, err)
		}
		rep, err := s.VerifyAll(ctx, archive.VerifyOptions{})
		if err != nil || !rep.OK() || rep.Items != 10 || rep.Heads < 2 {
			t.Fatalf("verify a clean archive: %+v %v", rep, err)
		}
		if _, err := s.Get(ctx, actor, 99, archive.GetOptions{}); sceau.KindOf(err) != sceau.NotFound {
			t.Errorf("get 99: %v, want not found", err)
		}
		expectEvent(t, db, audit.ActionArchiveAdded, `"count":7,"first":0`)
		expectEvent(t, db, audit.ActionArchiveHead, `"number":2,"root"`)
	})
}

// ARC-1: bad input is refused before anything is written.
func TestARC1_BadItemsAreRefusedAndNothingIsWritten(t *testing.T) {
	db := sceautest.OpenSQLite(t)
	s, _ := newService(t, db, archive.Options{})
	ctx := context.Background()
	for name, it := range map[string]archive.New{
		"kind":         {Kind: "CRL!", Source: "x", Content: []byte("x")},
		"source":       {Kind: "crl", Content: []byte("x")},
		"future":       {Kind: "crl", Source: "x", EventAt: time.Now().Add(time.Hour), Content: []byte("x")},
		"class":        {Kind: "crl", Source: "x", Class: "secret", Content: []byte("x")},
		"confidential": {Kind: "identity-evidence", Source: "x", Class: archive.Confidential, Content: []byte("x")},
	} {
		if _, err := s.Add(ctx, actor, crlItem(1), it); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	st, err := s.Status(ctx)
	if err != nil || st.Size != 0 || st.Items != 0 {
		t.Fatalf("after refusals: %+v %v", st, err)
	}
}

// ARC-2: nothing leaves before its retention date: the database refuses a
// DELETE, an UPDATE, and a purge record does not help before the date; a
// shorter per-kind retention is not applied; an item past its date is
// purged by the explicit command, and verification counts it as purged.
func TestARC2_TheDatabaseRefusesDeletionBeforeTheRetentionDate(t *testing.T) {
	sceautest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s, _ := newService(t, db, archive.Options{Retention: map[string]time.Duration{archive.KindCRL: time.Hour}})
		it := add(t, s, crlItem(1))[0]
		if d := it.RetainUntil.Sub(it.EventAt); d < archive.DefaultRetention-time.Second {
			t.Errorf("a 1h retention setting gave %s: retention may only lengthen", d)
		}
		for _, q := range []string{
			"DELETE FROM archive_items",
			"UPDATE archive_items SET retain_until = '2000-01-01T00:00:00.000000000Z'",
			"DELETE FROM archive_objects",
			"UPDATE archive_objects SET retain_until = '2000-01-01T00:00:00.000000000Z'",
			"DELETE FROM archive_tree",
			"UPDATE archive_state SET size = 0",
		} {
			if _, err := db.ExecContext(ctx, q); err == nil {
				t.Errorf("%s: allowed", q)
			}
		}
		if _, err := db.ExecContext(ctx, "INSERT INTO archive_purges (leaf, purged_at, purged_by) VALUES (0, 'x', 'mallory')"); err != nil {
			t.Fatal(err)
		}
		if _, err := db.ExecContext(ctx, "DELETE FROM archive_items WHERE leaf = 0"); err == nil {
			t.Error("a purge record let an item go before its date")
		}
		// An old document, its event eleven years ago: past its date.
		old := archive.New{Kind: archive.KindDocument, Source: "document:cps/0.9/fr", EventAt: time.Now().AddDate(-11, 0, 0), Content: []byte("old CPS")}
		oldItem := add(t, s, old)[0]
		if _, err := s.IssueHead(ctx, actor); err != nil {
			t.Fatal(err)
		}
		dry, err := s.Purge(ctx, actor, 0, true)
		if err != nil || len(dry) != 1 || dry[0] != oldItem.Leaf {
			t.Fatalf("dry run: %v %v", dry, err)
		}
		if _, err := s.Item(ctx, oldItem.Leaf); err != nil {
			t.Fatalf("a dry run removed the item: %v", err)
		}
		purged, err := s.Purge(ctx, actor, 0, false)
		if err != nil || len(purged) != 1 {
			t.Fatalf("purge: %v %v", purged, err)
		}
		if _, err := s.Item(ctx, oldItem.Leaf); sceau.KindOf(err) != sceau.NotFound || !strings.Contains(err.Error(), "purged") {
			t.Errorf("purged item: %v", err)
		}
		rep, err := s.VerifyAll(ctx, archive.VerifyOptions{})
		if err != nil || !rep.OK() || rep.Purged != 1 || rep.Items != 1 {
			t.Fatalf("verify after purge: %+v %v", rep, err)
		}
		expectEvent(t, db, audit.ActionArchivePurged, `"leaves":[1]`)
	})
}

// ARC-3: each tamper class is found, and says which check failed.
func TestARC3_TamperedItemsIndexAndHeadsAreDetected(t *testing.T) {
	sceautest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		cases := []struct {
			name, sql, check string
		}{
			{"one byte of an object", "UPDATE archive_objects SET content = ? WHERE sha256 = (SELECT object FROM archive_items WHERE leaf = 2)", "hash"},
			{"an item's description", "UPDATE archive_items SET source = 'crl:issuing:1' WHERE leaf = 2", "index"},
			{"an item removed", "DELETE FROM archive_items WHERE leaf = 2", "removed"},
			{"a leaf replaced", "UPDATE archive_tree SET hash = ? WHERE level = 0 AND idx = 2", "consistency"},
			{"a head's signature", "UPDATE archive_heads SET signature = ? WHERE number = 1", "head signature"},
		}
		for _, c := range cases {
			t.Run(strings.ReplaceAll(c.name, " ", "_"), func(t *testing.T) {
				db := db
				if c.name != cases[0].name {
					db = reopen(t, db)
				}
				s, _ := newService(t, db, archive.Options{})
				for i := range 5 {
					add(t, s, crlItem(i))
				}
				if _, err := s.IssueHead(ctx, actor); err != nil {
					t.Fatal(err)
				}
				rep, err := s.VerifyAll(ctx, archive.VerifyOptions{})
				if err != nil || !rep.OK() {
					t.Fatalf("before: %+v %v", rep, err)
				}
				untrigger(t, db)
				var args []any
				switch c.check {
				case "hash":
					r, _ := s.Get(ctx, actor, 2, archive.GetOptions{})
					b := bytes.Clone(r.Content)
					b[10] ^= 1
					args = append(args, b)
				case "consistency":
					args = append(args, bytes.Repeat([]byte{7}, 32))
				case "head signature":
					h, _ := s.LatestHead(ctx)
					b := bytes.Clone(h.Signature)
					b[len(b)-5] ^= 1
					args = append(args, b)
				}
				if _, err := db.ExecContext(ctx, c.sql, args...); err != nil {
					t.Fatal(err)
				}
				rep, err = s.VerifyAll(ctx, archive.VerifyOptions{})
				if err != nil {
					t.Fatal(err)
				}
				found := false
				for _, f := range rep.Failures {
					found = found || f.Check == c.check
				}
				if !found {
					t.Fatalf("%s: verify found %+v, want a %q failure", c.name, rep.Failures, c.check)
				}
				if c.check == "hash" || c.check == "index" {
					if _, err := s.Get(ctx, actor, 2, archive.GetOptions{}); err == nil || !strings.Contains(err.Error(), "verify "+c.check) {
						t.Errorf("get after %s: %v", c.name, err)
					}
				}
			})
		}
	})
}

// reopen gives each tamper case a fresh database of the same engine.
func reopen(t *testing.T, db *store.DB) *store.DB {
	if db.Engine() == store.Postgres {
		return sceautest.OpenPostgres(t)
	}
	return sceautest.OpenSQLite(t)
}

// ARC-3: a head whose signer does not chain to the installation's roots
// is refused on retrieval.
func TestARC3_AHeadFromAnotherHierarchyIsRefused(t *testing.T) {
	db := sceautest.OpenSQLite(t)
	s, p := newService(t, db, archive.Options{})
	add(t, s, crlItem(1))
	if _, err := s.IssueHead(context.Background(), actor); err != nil {
		t.Fatal(err)
	}
	h, _ := s.LatestHead(context.Background())
	if _, err := archive.CheckHead(h, p.otherRoots); err == nil || !strings.Contains(err.Error(), "head chain") {
		t.Fatalf("head checked against another root: %v", err)
	}
}

// ARC-3: a confidential item is sealed with age at rest: the database holds
// no clear text, it comes back sealed without an identity, a wrong
// identity is refused, the right one opens and checks it.
func TestARC3_ConfidentialItemsAreSealedToTheRecipients(t *testing.T) {
	db := sceautest.OpenSQLite(t)
	id, _ := age.GenerateX25519Identity()
	wrong, _ := age.GenerateX25519Identity()
	s, _ := newService(t, db, archive.Options{Recipients: []age.Recipient{id.Recipient()}})
	ctx := context.Background()
	secret := []byte("passport scan of Alice Martin, n° 12AB34567")
	it := add(t, s, archive.New{Kind: "identity-evidence", Source: "dossier:42", Class: archive.Confidential, Content: secret})[0]
	if it.Object == it.SHA256 {
		t.Fatal("a confidential item is stored in clear")
	}
	var raw []byte
	db.QueryRowContext(ctx, "SELECT content FROM archive_objects WHERE sha256 = ?", it.Object).Scan(&raw)
	if bytes.Contains(raw, []byte("Alice")) {
		t.Fatal("the database holds the clear text")
	}
	r, err := s.Get(ctx, actor, it.Leaf, archive.GetOptions{})
	if err != nil || !r.Sealed || bytes.Equal(r.Content, secret) {
		t.Fatalf("without identity: %+v %v", r, err)
	}
	if _, err := s.Get(ctx, actor, it.Leaf, archive.GetOptions{Identities: []age.Identity{wrong}}); sceau.KindOf(err) != sceau.Denied {
		t.Fatalf("wrong identity: %v", err)
	}
	r, err = s.Get(ctx, actor, it.Leaf, archive.GetOptions{Identities: []age.Identity{id}})
	if err != nil || !bytes.Equal(r.Content, secret) {
		t.Fatalf("right identity: %v", err)
	}
	rep, err := s.VerifyAll(ctx, archive.VerifyOptions{Identities: []age.Identity{id}})
	if err != nil || !rep.OK() {
		t.Fatalf("verify: %+v %v", rep, err)
	}
	expectEvent(t, db, audit.ActionArchiveRetrieved, `"sealed":true`)
	expectEvent(t, db, audit.ActionArchiveRetrieved, `"sealed":false`)
}

// ARC-4: a target that is down keeps its rows queued with the error and a
// growing lag; when it returns, replication catches up, and retrieval from
// the target verifies. A target holding a newer head than the database
// reveals an index put back to an older state.
func TestARC4_DirectoryTargetCatchesUpAfterAnOutage(t *testing.T) {
	db := sceautest.OpenSQLite(t)
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "second-disk")
	if err := os.WriteFile(dir, []byte("not a directory"), 0o600); err != nil {
		t.Fatal(err)
	}
	target := archive.NewDirTarget("second-disk", dir)
	clock := sceautest.NewClock(time.Now())
	s, _ := newService(t, db, archive.Options{Targets: []archive.Target{target}, Clock: clock})
	add(t, s, crlItem(1), crlItem(2), crlItem(3))
	if _, err := s.IssueHead(ctx, actor); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Replicate(ctx); err == nil {
		t.Fatal("replication to a missing directory succeeded")
	}
	clock.Advance(90 * time.Second)
	st, err := s.TargetStatuses(ctx)
	if err != nil || st[0].Pending != 4 || st[0].Lag < 90*time.Second || st[0].LastError == "" {
		t.Fatalf("status while down: %+v %v", st, err)
	}
	os.Remove(dir)
	n, err := s.Replicate(ctx)
	if err != nil || n != 4 {
		t.Fatalf("catch up: %d %v", n, err)
	}
	st, _ = s.TargetStatuses(ctx)
	if st[0].Pending != 0 || st[0].Lag != 0 {
		t.Fatalf("after catch-up: %+v", st)
	}
	r, err := s.Get(ctx, actor, 1, archive.GetOptions{From: "second-disk"})
	if err != nil || r.From != "second-disk" {
		t.Fatalf("get from target: %v", err)
	}
	rep, err := s.VerifyAll(ctx, archive.VerifyOptions{From: "second-disk"})
	if err != nil || !rep.OK() {
		t.Fatalf("verify the target: %+v %v", rep, err)
	}
	// One byte changed on the second disk is found there.
	obj := filepath.Join(dir, "objects", r.Item.Object)
	b, _ := os.ReadFile(obj)
	b[0] ^= 1
	os.Chmod(obj, 0o600)
	os.WriteFile(obj, b, 0o600)
	if _, err := s.Get(ctx, actor, 1, archive.GetOptions{From: "second-disk"}); err == nil || !strings.Contains(err.Error(), "verify hash") {
		t.Fatalf("a changed copy: %v", err)
	}
	// The index put back before its last head: the target still holds it.
	backup := sceautest.OpenSQLite(t)
	s2, _ := newService(t, backup, archive.Options{Targets: []archive.Target{target}})
	add(t, s2, crlItem(1))
	rep, err = s2.VerifyAll(ctx, archive.VerifyOptions{})
	if err != nil || rep.OK() || rep.Failures[len(rep.Failures)-1].Check != "rollback" {
		t.Fatalf("rolled back index: %+v %v", rep, err)
	}
}

// ARC-4: replication to an S3-compatible server (s3rver, started here)
// that goes away and comes back.
func TestARC4_ReplicatesToAnS3CompatibleServer(t *testing.T) {
	endpoint := sceautest.StartS3rver(t, "archive")
	db := sceautest.OpenSQLite(t)
	ctx := context.Background()
	target, err := archive.NewS3Target("bucket", archive.S3Options{Endpoint: endpoint, Bucket: "archive", AccessKey: "S3RVER", SecretKey: "S3RVER"})
	if err != nil {
		t.Fatal(err)
	}
	down, _ := archive.NewS3Target("down", archive.S3Options{Endpoint: "http://127.0.0.1:1", Bucket: "archive", AccessKey: "S3RVER", SecretKey: "S3RVER"})
	s, _ := newService(t, db, archive.Options{Targets: []archive.Target{target, down}})
	add(t, s, crlItem(1), crlItem(2))
	n, err := s.Replicate(ctx)
	if err == nil || n != 2 {
		t.Fatalf("replicate: %d %v (want 2 to the bucket and an error for the target that is down)", n, err)
	}
	st, _ := s.TargetStatuses(ctx)
	if st[0].Pending != 0 || st[1].Pending != 2 {
		t.Fatalf("status: %+v", st)
	}
	if lock, err := target.Lock(ctx); err != nil || lock {
		t.Logf("object lock on s3rver: %v %v", lock, err)
	}
	r, err := s.Get(ctx, actor, 0, archive.GetOptions{From: "bucket"})
	if err != nil || r.From != "bucket" {
		t.Fatalf("get from the bucket: %v", err)
	}
}

// expectEvent fails unless the journal holds an event of action whose
// details contain want.
func expectEvent(t *testing.T, db *store.DB, action, want string) {
	t.Helper()
	page, err := audit.Search(context.Background(), db, audit.Filter{Action: action, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range page.Events {
		if strings.Contains(r.Details, want) {
			return
		}
	}
	t.Errorf("no %s event with %s in the journal (%d of that action)", action, want, len(page.Events))
}

// ARC-6: a retrieval that meets a damaged proof says which check failed,
// on both engines, and hands out nothing; once the damage is undone the
// same item comes back with every check passed, so nothing was lost.
func TestARC6_RetrievalNamesTheCheckThatFailed(t *testing.T) {
	sceautest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		cases := []struct {
			name, check, table, column, where string
		}{
			{"the stored bytes", "hash", "archive_objects", "content", "sha256 = (SELECT object FROM archive_items WHERE leaf = 2)"},
			{"a sibling in the tree", "inclusion", "archive_tree", "hash", "level = 0 AND idx = 3"},
			{"the head's signature", "head signature", "archive_heads", "signature", "number = 1"},
		}
		for _, c := range cases {
			t.Run(strings.ReplaceAll(c.name, " ", "_"), func(t *testing.T) {
				db := reopen(t, db)
				s, _ := newService(t, db, archive.Options{})
				for i := range 5 {
					add(t, s, crlItem(i))
				}
				if _, err := s.IssueHead(ctx, actor); err != nil {
					t.Fatal(err)
				}
				want, err := s.Get(ctx, actor, 2, archive.GetOptions{})
				if err != nil {
					t.Fatal(err)
				}
				untrigger(t, db)
				var orig []byte
				sel := "SELECT " + c.column + " FROM " + c.table + " WHERE " + c.where
				if err := db.QueryRowContext(ctx, sel).Scan(&orig); err != nil {
					t.Fatal(err)
				}
				bad := bytes.Clone(orig)
				bad[len(bad)-5] ^= 1 // the signature's value ends a CMS SignedData
				upd := "UPDATE " + c.table + " SET " + c.column + " = ? WHERE " + c.where
				if _, err := db.ExecContext(ctx, upd, bad); err != nil {
					t.Fatal(err)
				}
				r, err := s.Get(ctx, actor, 2, archive.GetOptions{})
				if err == nil || sceau.KindOf(err) != sceau.Invalid || !strings.Contains(err.Error(), "verify "+c.check) {
					t.Fatalf("get after changing %s: %v, want a failed %q check", c.name, err, c.check)
				}
				if r != nil {
					t.Fatalf("a failed retrieval handed out %d bytes", len(r.Content))
				}
				if _, err := db.ExecContext(ctx, upd, orig); err != nil {
					t.Fatal(err)
				}
				got, err := s.Get(ctx, actor, 2, archive.GetOptions{})
				if err != nil || !bytes.Equal(got.Content, want.Content) {
					t.Fatalf("get once repaired: %v", err)
				}
			})
		}
	})
}
