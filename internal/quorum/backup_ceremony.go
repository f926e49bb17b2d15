package quorum

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/sceau/sceau/internal/audit"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/store"
)

// Backups made at key ceremonies (KEY-4, KEY-8): the same core as an
// approved request (makeBackup), approved by participants in the room
// (ROLE-3), and undone if the ceremony does not complete.

// CeremonyApprovalPrefix starts the approval ID of a backup made at a key
// ceremony: "ceremony:<transcript ID>/<CA>". Only such a copy may be
// discarded (DiscardCeremonyBackup).
const CeremonyApprovalPrefix = "ceremony:"

// CeremonyApproval is the approval of a backup given in the room of a key
// ceremony (KEY-8): its ID, "ceremony:<transcript ID>/<CA>", and the
// participants who confirmed the backup step.
type CeremonyApproval struct {
	ID        string
	Approvers []string
}

// BackupAtCeremony makes the backup of CA caID's new key at a key ceremony
// (KEY-4, KEY-8), with the very same wrapping, split, sealing, files and
// registration as Backup. The approval is not a request in the approvals
// registry but the confirmations of two or more distinct participants in
// the room, none of them actor, who conducts the ceremony (ROLE-3); the
// transcript records them. The caller wipes the PINs.
func (b *Backups) BackupAtCeremony(ctx context.Context, actor sceau.Actor, caID string, approval CeremonyApproval, plan BackupPlan, pins map[string][]byte) (*BackupRecord, error) {
	const op = "quorum: backup"
	if !strings.HasPrefix(approval.ID, CeremonyApprovalPrefix) || len(approval.ID) == len(CeremonyApprovalPrefix) {
		return nil, sceau.Errorf(sceau.Invalid, op, "a ceremony's approval ID starts with %q", CeremonyApprovalPrefix)
	}
	// ROLE-3: two distinct people other than the one who carries it out.
	seen := map[string]bool{}
	for _, a := range approval.Approvers {
		if a == "" || a == actor.ID || seen[a] {
			return nil, sceau.Errorf(sceau.Denied, op, "a backup needs two distinct approvers other than %s, who makes it (ROLE-3)", actor.ID)
		}
		seen[a] = true
	}
	if len(seen) < 2 {
		return nil, sceau.Errorf(sceau.Denied, op, "a backup needs two distinct approvers other than %s, who makes it (ROLE-3)", actor.ID)
	}
	if err := plan.Validate(); err != nil {
		return nil, err
	}
	return b.makeBackup(ctx, actor, caID, approval.ID, slices.Clone(approval.Approvers), plan, pins)
}

// DiscardCeremonyBackup undoes backup id, made at a key ceremony that then
// stopped (KEY-4, KEY-8): a copy of a key from a ceremony that did not
// complete must not outlive it. In one transaction with the audit event
// key.backup_discarded, the registration is deleted and the split of its
// wrapping key discarded (key.split_discarded); then the backup file and
// the share files still at their place are removed. A backup made under
// an approval request, or one imported already, is refused: those are
// destroyed only with the key (KEY-6). It returns the files removed.
func (b *Backups) DiscardCeremonyBackup(ctx context.Context, actor sceau.Actor, id, reason string) ([]string, error) {
	const op = "quorum: discard backup"
	rec, err := b.lookup(ctx, b.db, id)
	if err != nil {
		return nil, err
	}
	if !strings.HasPrefix(rec.Approval, CeremonyApprovalPrefix) {
		return nil, sceau.Errorf(sceau.Denied, op, "backup %s was not made at a ceremony: it is destroyed only with its key (KEY-6)", id)
	}
	holders := rec.Holders
	if sp, err := b.reg.Lookup(ctx, id); err == nil {
		holders = nil
		for _, h := range sp.Holders {
			holders = append(holders, h.Holder)
		}
	}
	err = b.db.InTx(ctx, func(tx *store.Tx) error {
		var imported int
		if err := tx.QueryRowContext(ctx, qImportsOfBackup, id).Scan(&imported); err != nil {
			return store.Classify(op, err)
		}
		if imported > 0 {
			return sceau.Errorf(sceau.Conflict, op, "backup %s was imported already", id)
		}
		if _, err := tx.ExecContext(ctx, qDeleteBackup, id); err != nil {
			return store.Classify(op, err)
		}
		if err := b.reg.discardIn(ctx, tx, actor, id, reason); err != nil && sceau.KindOf(err) != sceau.NotFound {
			return err
		}
		return b.journal.Append(ctx, tx, audit.Event{Actor: actor, Action: "key.backup_discarded", Object: "key:" + rec.Label,
			Details: map[string]any{"ca": rec.CA, "backup": id, "location": rec.Location, "sha256": rec.SHA256, "approval": rec.Approval,
				"reason": reason}})
	})
	if err != nil {
		return nil, err
	}
	var removed []string
	files := []string{rec.Location}
	for _, h := range holders {
		files = append(files, filepath.Join(b.ShareDir(id), h+".share"))
	}
	for _, f := range files {
		if os.Remove(f) == nil {
			removed = append(removed, f)
		}
	}
	os.Remove(b.ShareDir(id))
	return removed, nil
}
