package quorum_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sceau/sceau/internal/access"
	"github.com/sceau/sceau/internal/audit"
	"github.com/sceau/sceau/internal/keys"
	"github.com/sceau/sceau/internal/quorum"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/sceautest"
	"github.com/sceau/sceau/internal/store"
)

// custodyFixture is an installation with one CA key, "ca-issuing", its
// people, and the backup service wired as the node wires it.
type custodyFixture struct {
	t       *testing.T
	db      *store.DB
	clock   *sceautest.Clock
	acc     *access.Service
	reg     *quorum.Registry
	backups *quorum.Backups
	dir     string
	vault   keys.Vault // where CA issuing's key is now
	signer  func() (crypto.Signer, error)
	pub     crypto.PublicKey
}

var (
	so1   = access.Principal{Account: "so1", Roles: []access.Role{access.SecurityOfficer}}
	so2   = access.Principal{Account: "so2", Roles: []access.Role{access.SecurityOfficer}}
	sys1  = access.Principal{Account: "sys1", Roles: []access.Role{access.SystemAdministrator, access.SystemOperator}}
	alice = access.Principal{Account: "alice", Roles: []access.Role{access.KeyShareHolder}}
	bob   = access.Principal{Account: "bob", Roles: []access.Role{access.KeyShareHolder}}
)

var holderPINs = map[string]string{"alice": "alice-pin-1234", "bob": "bob-pin-12345", "carol": "carol-pin-1234"}

func newCustodyFixture(t *testing.T, db *store.DB) *custodyFixture {
	t.Helper()
	ctx := context.Background()
	clock := sceautest.NewClock(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	journal := audit.NewJournal(clock)
	acc := access.New(db, journal, access.Options{Clock: clock, KDF: access.KDFParams{Memory: 1024, Time: 1, Threads: 1}})
	var people []access.Person
	for _, p := range []access.Principal{so1, so2, sys1, alice, bob, {Account: "carol", Roles: []access.Role{access.KeyShareHolder}}} {
		people = append(people, access.Person{Name: p.Account, FullName: "Person " + p.Account, Roles: p.Roles})
	}
	if _, err := acc.Bootstrap(ctx, sceau.System("test"), people); err != nil {
		t.Fatal(err)
	}
	f := &custodyFixture{t: t, db: db, clock: clock, acc: acc, reg: quorum.NewRegistry(db, journal, clock), dir: t.TempDir()}
	f.backups = quorum.NewBackups(db, journal, f.reg, acc.Approvals(), quorum.BackupOptions{
		Dir: filepath.Join(f.dir, "backups"), SharesDir: filepath.Join(f.dir, "shares"), Clock: clock,
		Vault: func(caID string) (keys.Vault, string, error) {
			if caID != "issuing" {
				return nil, "", sceau.Errorf(sceau.NotFound, "test", "no CA %q", caID)
			}
			return f.vault, "ca-issuing", nil
		},
		Public: func(string) (crypto.PublicKey, error) { return f.pub, nil },
		HolderCheck: func(ctx context.Context, holder string) error {
			ok, err := acc.HasRole(ctx, holder, access.KeyShareHolder)
			if err == nil && !ok {
				err = sceau.Errorf(sceau.Denied, "test", "%s is not a key share holder", holder)
			}
			return err
		},
	})
	if err := f.backups.Register(); err != nil {
		t.Fatal(err)
	}
	return f
}

// softKey puts CA issuing's key in a fresh software keystore.
func (f *custodyFixture) softKey() *keys.SoftStore {
	f.t.Helper()
	s := freshSoftStore(f.t)
	k, err := s.Generate("ca-issuing", keys.ECDSAP256)
	if err != nil {
		f.t.Fatal(err)
	}
	f.vault, f.pub = s, k.Public()
	return s
}

func freshSoftStore(t *testing.T) *keys.SoftStore {
	t.Helper()
	s := keys.OpenSoftStore(filepath.Join(t.TempDir(), "keys"))
	if err := s.Init([]byte("a test activation secret")); err != nil {
		t.Fatal(err)
	}
	return s
}

func (f *custodyFixture) approve(id string, by ...access.Principal) *access.Request {
	f.t.Helper()
	var req *access.Request
	for _, p := range by {
		var err error
		if req, err = f.acc.Approvals().Approve(context.Background(), p, id); err != nil {
			f.t.Fatalf("%s approves %s: %v", p.Account, id, err)
		}
	}
	return req
}

func pins(holders ...string) map[string][]byte {
	out := map[string][]byte{}
	for _, h := range holders {
		out[h] = []byte(holderPINs[h])
	}
	return out
}

// backup makes an approved backup of CA issuing shared 2 of 3 among
// alice, bob and carol.
func (f *custodyFixture) backup() *quorum.BackupRecord {
	f.t.Helper()
	ctx := context.Background()
	req, err := f.backups.RequestBackup(ctx, sys1, "issuing", quorum.BackupPlan{Holders: []string{"alice", "bob", "carol"}, Threshold: 2})
	if err != nil {
		f.t.Fatalf("RequestBackup: %v", err)
	}
	if req = f.approve(req.ID, so1, alice); req.Status != access.StatusExecuted {
		f.t.Fatalf("after two approvals the request is %s (%s)", req.Status, req.Result)
	}
	rec, err := f.backups.Backup(ctx, sys1, "issuing", req.ID, pins("alice", "bob", "carol"))
	if err != nil {
		f.t.Fatalf("Backup: %v", err)
	}
	return rec
}

func (f *custodyFixture) shares(rec *quorum.BackupRecord, holders ...string) []quorum.PresentedShare {
	f.t.Helper()
	var out []quorum.PresentedShare
	for _, h := range holders {
		b, err := os.ReadFile(filepath.Join(f.dir, "shares", rec.ID, h+".share"))
		if err != nil {
			f.t.Fatal(err)
		}
		out = append(out, quorum.PresentedShare{Holder: h, File: b, PIN: []byte(holderPINs[h])})
	}
	return out
}

func (f *custodyFixture) requestImport(rec *quorum.BackupRecord) string {
	f.t.Helper()
	req, err := f.backups.RequestImport(context.Background(), sys1, "issuing", quorum.ImportPlan{Backup: rec.ID})
	if err != nil {
		f.t.Fatalf("RequestImport: %v", err)
	}
	f.approve(req.ID, so1, bob)
	return req.ID
}

// events returns the actions journaled, in order.
func (f *custodyFixture) events() []string {
	f.t.Helper()
	rows, err := f.db.QueryContext(context.Background(), `SELECT action FROM audit_events ORDER BY seq`)
	if err != nil {
		f.t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var a string
		if err := rows.Scan(&a); err != nil {
			f.t.Fatal(err)
		}
		out = append(out, a)
	}
	return out
}

func signsFor(t *testing.T, k crypto.Signer, pub crypto.PublicKey) {
	t.Helper()
	d := sha256.Sum256([]byte("signed with the restored key"))
	sig, err := k.Sign(rand.Reader, d[:], crypto.SHA256)
	if err != nil {
		t.Fatalf("the key does not sign: %v", err)
	}
	if !ecdsa.VerifyASN1(pub.(*ecdsa.PublicKey), d[:], sig) {
		t.Fatal("the signature does not verify with the original public key")
	}
}

func TestKEY4_BackupNeedsTwoApprovers(t *testing.T) {
	sceautest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newCustodyFixture(t, db)
		f.softKey()
		plan := quorum.BackupPlan{Holders: []string{"alice", "bob", "carol"}, Threshold: 2}

		// ROLE-3: a Security Officer may not request a backup; only an operator or administrator.
		if _, err := f.backups.RequestBackup(ctx, so1, "issuing", plan); sceau.KindOf(err) != sceau.Denied {
			t.Fatalf("a Security Officer requests a backup: %v, want Denied", err)
		}
		if _, err := f.backups.RequestBackup(ctx, sys1, "issuing", quorum.BackupPlan{Holders: []string{"alice"}, Threshold: 1}); sceau.KindOf(err) != sceau.Invalid {
			t.Fatalf("a 1-of-1 split: %v, want Invalid", err)
		}
		req, err := f.backups.RequestBackup(ctx, sys1, "issuing", plan)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.backups.Backup(ctx, sys1, "issuing", req.ID, pins("alice", "bob", "carol")); sceau.KindOf(err) != sceau.Denied {
			t.Fatalf("backup without approvals: %v, want Denied", err)
		}
		if _, err := f.acc.Approvals().Approve(ctx, sys1, req.ID); sceau.KindOf(err) != sceau.Denied {
			t.Fatalf("the requester approves: %v, want Denied", err)
		}
		f.approve(req.ID, so1)
		if _, err := f.backups.Backup(ctx, sys1, "issuing", req.ID, pins("alice", "bob", "carol")); sceau.KindOf(err) != sceau.Denied {
			t.Fatalf("backup with one approval: %v, want Denied", err)
		}
		if _, err := f.acc.Approvals().Approve(ctx, so1, req.ID); sceau.KindOf(err) != sceau.Conflict {
			t.Fatalf("the same approver twice: %v, want Conflict", err)
		}
		if got := f.approve(req.ID, alice); got.Status != access.StatusExecuted {
			t.Fatalf("after two approvals: %s", got.Status)
		}
		if _, err := f.backups.Backup(ctx, so1, "issuing", req.ID, pins("alice", "bob", "carol")); sceau.KindOf(err) != sceau.Denied {
			t.Fatalf("someone else carries out the backup: %v, want Denied", err)
		}
		if _, err := f.backups.Backup(ctx, sys1, "issuing", req.ID, pins("alice", "bob")); sceau.KindOf(err) != sceau.Invalid {
			t.Fatalf("backup without carol's PIN: %v, want Invalid", err)
		}
		rec, err := f.backups.Backup(ctx, sys1, "issuing", req.ID, pins("alice", "bob", "carol"))
		if err != nil {
			t.Fatalf("Backup: %v", err)
		}
		if _, err := f.backups.Backup(ctx, sys1, "issuing", req.ID, pins("alice", "bob", "carol")); sceau.KindOf(err) != sceau.Conflict {
			t.Fatalf("the same approval twice: %v, want Conflict", err)
		}

		// KEY-4: the copy is registered: where, when, by whom, approved by whom.
		list, err := f.backups.List(ctx, "issuing")
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != 1 {
			t.Fatalf("%d backups registered, want 1", len(list))
		}
		got := list[0]
		if got.ID != "backup-issuing-1" || got.Location != rec.Location || got.CreatedBy != "sys1" || got.Status != quorum.BackupActive ||
			!slices.Equal(slices.Sorted(slices.Values(got.Approvers)), []string{"alice", "so1"}) || got.Threshold != 2 || !slices.Equal(got.Holders, []string{"alice", "bob", "carol"}) ||
			!got.CreatedAt.Equal(f.clock.Now()) || got.Mechanism != keys.MechAESGCM {
			t.Errorf("registered backup = %+v", got)
		}
		raw, err := os.ReadFile(got.Location)
		if err != nil {
			t.Fatal(err)
		}
		if sum := sha256.Sum256(raw); fmt.Sprintf("%x", sum) != got.SHA256 {
			t.Error("the registered SHA-256 is not the file's")
		}
		if !slices.Contains(f.events(), "key.backup_created") {
			t.Error("no key.backup_created event")
		}
		sp, err := f.reg.Lookup(ctx, got.ID)
		if err != nil || sp.Threshold != 2 || sp.Total != 3 {
			t.Fatalf("the wrapping key's split: %+v, %v", sp, err)
		}

		// An approval is good for one day.
		req2, err := f.backups.RequestBackup(ctx, sys1, "issuing", plan)
		if err != nil {
			t.Fatal(err)
		}
		f.approve(req2.ID, so2, bob)
		f.clock.Advance(25 * time.Hour)
		if _, err := f.backups.Backup(ctx, sys1, "issuing", req2.ID, pins("alice", "bob", "carol")); sceau.KindOf(err) != sceau.Denied {
			t.Fatalf("an approval older than a day: %v, want Denied", err)
		}
	})
}

func TestKEY4_ImportNeedsMSharesAndRestores(t *testing.T) {
	sceautest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newCustodyFixture(t, db)
		f.softKey()
		rec := f.backup()

		// The key is lost: a fresh keystore takes its place.
		fresh := freshSoftStore(t)
		f.vault = fresh
		id := f.requestImport(rec)
		if _, err := f.backups.Import(ctx, sys1, "issuing", id, f.shares(rec, "alice")); sceau.KindOf(err) != sceau.Denied {
			t.Fatalf("import with m-1 shares: %v, want Denied", err)
		}
		if _, err := fresh.Signer("ca-issuing"); err == nil {
			t.Fatal("m-1 shares restored the key")
		}
		wrong := f.shares(rec, "alice", "bob")
		wrong[1].PIN = []byte("not bob's pin")
		if _, err := f.backups.Import(ctx, sys1, "issuing", id, wrong); sceau.KindOf(err) != sceau.Denied {
			t.Fatalf("import with a wrong PIN: %v, want Denied", err)
		}
		if _, err := f.backups.Import(ctx, so1, "issuing", id, f.shares(rec, "alice", "bob")); sceau.KindOf(err) != sceau.Denied {
			t.Fatalf("import carried out by someone else: %v, want Denied", err)
		}
		if _, err := f.backups.Import(ctx, sys1, "issuing", id, f.shares(rec, "carol", "bob")); err != nil {
			t.Fatalf("Import: %v", err)
		}
		k, err := fresh.Signer("ca-issuing")
		if err != nil {
			t.Fatal(err)
		}
		signsFor(t, k, f.pub)
		if _, err := f.backups.Import(ctx, sys1, "issuing", id, f.shares(rec, "carol", "bob")); sceau.KindOf(err) != sceau.Conflict {
			t.Fatalf("the same import twice: %v, want Conflict", err)
		}
		if !slices.Contains(f.events(), "key.imported") {
			t.Error("no key.imported event")
		}
	})
}

func TestKEY4_TamperedBackupFileIsNotImported(t *testing.T) {
	ctx := context.Background()
	f := newCustodyFixture(t, sceautest.OpenSQLite(t))
	f.softKey()
	rec := f.backup()
	raw, err := os.ReadFile(rec.Location)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	m["ca"] = "root"
	edited, _ := json.Marshal(m)
	if err := os.WriteFile(rec.Location, edited, 0o600); err != nil {
		t.Fatal(err)
	}
	f.vault = freshSoftStore(t)
	id := f.requestImport(rec)
	_, err = f.backups.Import(ctx, sys1, "issuing", id, f.shares(rec, "alice", "bob"))
	if sceau.KindOf(err) != sceau.Invalid || !strings.Contains(err.Error(), "SHA-256") {
		t.Fatalf("import of an edited file: %v, want Invalid naming its SHA-256", err)
	}
}

func TestKEY6_DestroyMarksBackupsAndRevokesCarriers(t *testing.T) {
	sceautest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newCustodyFixture(t, db)
		store := f.softKey()
		signer, err := store.Signer("ca-issuing")
		if err != nil {
			t.Fatal(err)
		}
		// The activation secret's split, as a ceremony registers it.
		shares, err := quorum.Split([]byte("activation secret"), 2, 3, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.reg.Register(ctx, sceau.System("test"), "ca-issuing", shares, []string{"alice", "bob", "carol"}, "file"); err != nil {
			t.Fatal(err)
		}
		first, second := f.backup(), f.backup()

		if _, err := f.backups.RequestDestroy(ctx, sys1, "issuing"); sceau.KindOf(err) != sceau.Denied {
			t.Fatalf("an administrator requests destruction: %v, want Denied", err)
		}
		req, err := f.backups.RequestDestroy(ctx, so1, "issuing")
		if err != nil {
			t.Fatal(err)
		}
		if got := f.approve(req.ID, so2); got.Status != access.StatusPending {
			t.Fatalf("after one approval the request is %s", got.Status)
		}
		if err := signsOnce(signer); err != nil {
			t.Fatalf("one approval destroyed the key: %v", err)
		}
		if got := f.approve(req.ID, bob); got.Status != access.StatusExecuted {
			t.Fatalf("after two approvals the request is %s: %s", got.Status, got.Result)
		}

		err = signsOnce(signer)
		if err == nil || !strings.Contains(err.Error(), "destroyed") {
			t.Fatalf("signing after destruction: %v, want an error saying the key was destroyed", err)
		}
		list, err := f.backups.List(ctx, "issuing")
		if err != nil {
			t.Fatal(err)
		}
		for _, rec := range list {
			if rec.Status != quorum.BackupDestroyed || rec.DestroyedBy != "so1" || rec.DestroyedAt == nil {
				t.Errorf("backup %s after destruction: %+v", rec.ID, rec)
			}
			if _, err := os.Stat(rec.Location); !os.IsNotExist(err) {
				t.Errorf("the file of backup %s is still there (%v)", rec.ID, err)
			}
		}
		for _, keyID := range []string{"ca-issuing", first.ID, second.ID} {
			sp, err := f.reg.Lookup(ctx, keyID)
			if err != nil {
				t.Fatal(err)
			}
			for _, h := range sp.Holders {
				if !h.Revoked {
					t.Errorf("the share of %s of %s is not revoked", h.Holder, keyID)
				}
			}
		}
		ev := f.events()
		for _, want := range []string{"key.backup_destroyed", "key.shares_revoked", "key.destroyed", "approval.executed"} {
			if !slices.Contains(ev, want) {
				t.Errorf("no %s event in %v", want, ev)
			}
		}
		// Nothing brings the key back: the backups are destroyed.
		if _, err := f.backups.RequestImport(ctx, sys1, "issuing", quorum.ImportPlan{Backup: first.ID}); sceau.KindOf(err) != sceau.Conflict {
			t.Fatalf("import of a destroyed backup: %v, want Conflict", err)
		}
	})
}

func signsOnce(k crypto.Signer) error {
	d := sha256.Sum256([]byte("x"))
	_, err := k.Sign(rand.Reader, d[:], crypto.SHA256)
	return err
}

// KEY-4: a backup whose files cannot be written (here the share directory
// is blocked by a file, as a full or failed disk would) is refused with
// the reason and leaves nothing: no backup file, no share file, no
// registered copy or split. Once the cause is fixed, the same approved
// request is carried out.
func TestKEY4_BackupThatCannotBeWrittenLeavesNothing(t *testing.T) {
	sceautest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		f := newCustodyFixture(t, db)
		f.softKey()
		ctx := context.Background()
		req, err := f.backups.RequestBackup(ctx, sys1, "issuing", quorum.BackupPlan{Holders: []string{"alice", "bob", "carol"}, Threshold: 2})
		if err != nil {
			t.Fatal(err)
		}
		f.approve(req.ID, so1, alice)
		blocker := filepath.Join(f.dir, "shares")
		if err := os.WriteFile(blocker, []byte("not a directory"), 0o600); err != nil {
			t.Fatal(err)
		}
		before := len(f.events())
		if _, err := f.backups.Backup(ctx, sys1, "issuing", req.ID, pins("alice", "bob", "carol")); err == nil {
			t.Fatal("a backup was made with its share directory blocked")
		} else if !strings.Contains(err.Error(), "shares") {
			t.Errorf("the error does not say where it failed: %v", err)
		}
		if entries, _ := os.ReadDir(filepath.Join(f.dir, "backups")); len(entries) != 0 {
			t.Errorf("files left in the backup directory: %v", entries)
		}
		list, err := f.backups.List(ctx, "issuing")
		if err != nil || len(list) != 0 {
			t.Errorf("registered copies after the failure: %+v, %v", list, err)
		}
		if _, err := f.reg.Lookup(ctx, "backup-issuing-1"); sceau.KindOf(err) != sceau.NotFound {
			t.Errorf("the wrapping key's split is registered after the failure: %v", err)
		}
		if after := f.events(); len(after) != before {
			t.Errorf("events journaled for a backup that was not made: %v", after[before:])
		}

		if err := os.Remove(blocker); err != nil {
			t.Fatal(err)
		}
		rec, err := f.backups.Backup(ctx, sys1, "issuing", req.ID, pins("alice", "bob", "carol"))
		if err != nil {
			t.Fatalf("the same request once the directory is fixed: %v", err)
		}
		if _, err := os.Stat(rec.Location); err != nil {
			t.Errorf("the backup file: %v", err)
		}
	})
}
