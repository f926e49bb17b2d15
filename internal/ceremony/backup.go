package ceremony

import (
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/sceau/sceau/internal/quorum"
	"github.com/sceau/sceau/internal/sceau"
)

// Backups of new CA keys at a ceremony (KEY-4): what the approvers are
// shown, who approved, and the transcript's record of the backup.

// describeBackup is what the approvers of the backup of CA id are shown.
func (x *execution) describeBackup(id string) []string {
	b := x.Script.backup(id)
	c, _ := x.Declaration.ca(id)
	officer, _ := x.Script.first(SecurityOfficer)
	return []string{
		fmt.Sprintf("once CA %s is created, its store wraps its key (%s, in %s) under a random 256-bit wrapping key; the key never leaves it in clear (KEY-3, KEY-4)",
			id, c.BackupMechanism, c.KeyStore),
		"the backup file goes to the installation's backups/, each holder's share file to shares/backup-" + id + "-<n>/",
		fmt.Sprintf("the wrapping key is split %d of %d among %s, then wiped: nobody ever holds it whole", b.Threshold, len(b.Holders), strings.Join(b.Holders, ", ")),
		fmt.Sprintf("approvers (ROLE-3): %s; made and journalled in the name of %s", strings.Join(b.Approvers, ", "), officer.Name),
		"an import of it needs two approvals again and " + fmt.Sprint(b.Threshold) + " of the holders",
	}
}

// approvers are the participants who confirmed the backup of CA id.
func (x *execution) approvers(id string) []string {
	var out []string
	for i, st := range x.plan {
		if st.Kind == StepApproveBackup && st.CA == id && x.t.Steps[i].Answer == "yes" {
			out = append(out, st.Participant.Name)
		}
	}
	return out
}

// backupRecord returns the transcript's record of the backup of CA id.
func (x *execution) backupRecord(id string) *BackupRecord {
	for i := range x.t.Backups {
		if x.t.Backups[i].CA == id {
			return &x.t.Backups[i]
		}
	}
	return nil
}

// backupOrders are the backups approved in the room (KEY-4, ROLE-3), by
// the participants who confirmed them, and the source of the PINs their
// holders choose, which refuses any other request.
func (x *execution) backupOrders() ([]BackupOrder, PINSource) {
	var orders []BackupOrder
	backupHolders := map[string]bool{}
	for _, b := range x.Script.Backups {
		orders = append(orders, BackupOrder{CA: b.CA, Holders: slices.Clone(b.Holders), Threshold: b.Threshold,
			Approvers: x.approvers(b.CA), Approval: quorum.CeremonyApprovalPrefix + x.t.ID + "/" + b.CA})
		for _, h := range b.Holders {
			backupHolders[b.CA+"/"+h] = true
		}
	}
	backupSource := x.BackupPINs
	if backupSource == nil {
		backupSource = x.PINs
	}
	backupPINs := func(caID, holder string) ([]byte, error) {
		if !backupHolders[caID+"/"+holder] || backupSource == nil {
			return nil, sceau.Errorf(sceau.Internal, "ceremony: PIN", "unexpected request for the PIN of %s for the backup of CA %q", holder, caID)
		}
		fmt.Fprintf(x.out, "\n%s: your share of the wrapping key of the backup of CA %s. Type your PIN alone; everyone else looks away.\n", holder, caID)
		pin, err := backupSource(caID, holder)
		if err == nil {
			x.pins = append(x.pins, fmt.Sprintf("%s chose the PIN of their share of the backup of %s", holder, caID))
		}
		return pin, err
	}
	return orders, backupPINs
}

// recordBackup adds the backup made of CA id's key to the transcript,
// checking its file against the registered SHA-256.
func (x *execution) recordBackup(id string, bf *BackupFacts) error {
	// KEY-4, KEY-8: the backup by its ID, mechanism and SHA-256, who
	// holds the wrapping key's shares and who approved it; never a
	// PIN, a share or a key.
	b, err := os.ReadFile(bf.File)
	if err != nil {
		return fmt.Errorf("the backup file of CA %s: %w", id, err)
	}
	if s := sum(b); s != bf.SHA256 {
		return fmt.Errorf("the backup file %s has SHA-256 %s, not the registered %s", bf.File, s, bf.SHA256)
	}
	br := BackupRecord{ID: bf.ID, CA: id, Mechanism: bf.Mechanism, File: bf.File, SHA256: bf.SHA256, Threshold: bf.Threshold,
		Approval: bf.Approval, Approvers: slices.Clone(bf.Approvers), Holders: []string{}, Shares: []ShareRecord{}}
	for _, s := range bf.Shares {
		sb, err := os.ReadFile(s.File)
		if err != nil {
			return fmt.Errorf("the share file of %s of backup %s: %w", s.Holder, bf.ID, err)
		}
		br.Holders = append(br.Holders, s.Holder)
		br.Shares = append(br.Shares, ShareRecord{Holder: s.Holder, X: s.X, File: s.File, SHA256: sum(sb)})
	}
	x.t.Backups = append(x.t.Backups, br)
	return nil
}
