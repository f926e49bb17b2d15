package quorum_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/sceau/sceau/internal/audit"
	"github.com/sceau/sceau/internal/quorum"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/sceautest"
)

// KEY-4, ROLE-3, KEY-8: a backup made at a ceremony goes through the same
// core as an approved request (same files, registration, split and audit
// event), refuses fewer than two distinct approvers or the maker among
// them, and can be discarded, files and all, only when it came from a
// ceremony.
func TestKEY4_BackupAtCeremonySharesTheCoreAndIsDiscardable(t *testing.T) {
	ctx := context.Background()
	f := newCustodyFixture(t, sceautest.OpenSQLite(t))
	f.softKey()
	sophie := sceau.Actor{ID: "sophie", Role: "security-officer"}
	plan := quorum.BackupPlan{Holders: []string{"alice", "bob", "carol"}, Threshold: 2}
	approval := quorum.CeremonyApproval{ID: "ceremony:20260314-00aa/issuing", Approvers: []string{"martin", "olivier"}}

	for name, a := range map[string]quorum.CeremonyApproval{
		"one approver":      {ID: approval.ID, Approvers: []string{"martin"}},
		"the same twice":    {ID: approval.ID, Approvers: []string{"martin", "martin"}},
		"the maker":         {ID: approval.ID, Approvers: []string{"martin", "sophie"}},
		"not from a ritual": {ID: "abc123", Approvers: approval.Approvers},
	} {
		if _, err := f.backups.BackupAtCeremony(ctx, sophie, "issuing", a, plan, pins("alice", "bob", "carol")); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := f.backups.BackupAtCeremony(ctx, sophie, "issuing", approval, quorum.BackupPlan{Holders: []string{"alice"}, Threshold: 1},
		pins("alice")); sceau.KindOf(err) != sceau.Invalid {
		t.Errorf("a split of 1 of 1: %v", err)
	}

	rec, err := f.backups.BackupAtCeremony(ctx, sophie, "issuing", approval, plan, pins("alice", "bob", "carol"))
	if err != nil {
		t.Fatal(err)
	}
	if rec.ID != "backup-issuing-1" || rec.CreatedBy != "sophie" || rec.Approval != approval.ID || len(rec.Approvers) != 2 {
		t.Fatalf("record: %+v", rec)
	}
	shares := filepath.Join(f.dir, "shares", rec.ID)
	for _, p := range []string{rec.Location, filepath.Join(shares, "alice.share"), filepath.Join(shares, "carol.share")} {
		if _, err := os.Stat(p); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := f.backups.BackupAtCeremony(ctx, sophie, "issuing", approval, plan, pins("alice", "bob", "carol")); sceau.KindOf(err) != sceau.Conflict {
		t.Errorf("the same approval twice: %v", err)
	}
	recs, _ := audit.Read(ctx, f.db, 0, 1000)
	var created *audit.Record
	for i := range recs {
		if recs[i].Action == "key.backup_created" {
			created = &recs[i]
		}
	}
	if created == nil || created.Actor != "sophie" {
		t.Fatalf("key.backup_created: %+v", created)
	}

	// An approved backup is not discardable; the ceremony's is.
	normal := f.backup()
	if normal.ID != "backup-issuing-2" {
		t.Errorf("the next ID is %s", normal.ID)
	}
	if _, err := f.backups.DiscardCeremonyBackup(ctx, sophie, normal.ID, "test"); sceau.KindOf(err) != sceau.Denied {
		t.Errorf("discarding an approved backup: %v", err)
	}
	removed, err := f.backups.DiscardCeremonyBackup(ctx, sophie, rec.ID, "the ceremony stopped")
	if err != nil || len(removed) != 4 {
		t.Fatalf("discard: %v %v", removed, err)
	}
	if _, err := os.Stat(shares); !os.IsNotExist(err) {
		t.Errorf("the share directory remains: %v", err)
	}
	if _, err := f.backups.Lookup(ctx, rec.ID); sceau.KindOf(err) != sceau.NotFound {
		t.Errorf("still registered: %v", err)
	}
	if _, err := f.reg.Lookup(ctx, rec.ID); sceau.KindOf(err) != sceau.NotFound {
		t.Errorf("the split remains: %v", err)
	}
	recs, _ = audit.Read(ctx, f.db, 0, 1000)
	last := recs[len(recs)-1]
	if last.Action != "key.backup_discarded" || last.Actor != "sophie" || recs[len(recs)-2].Action != "key.split_discarded" {
		t.Errorf("journal ends with %s, %s", recs[len(recs)-2].Action, last.Action)
	}
	if _, ok := audit.Describe("key.backup_discarded"); !ok {
		t.Error("key.backup_discarded is not in the catalogue")
	}
}
