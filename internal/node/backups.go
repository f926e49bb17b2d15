package node

import (
	"context"
	"crypto"

	"github.com/sceau/sceau/internal/access"
	"github.com/sceau/sceau/internal/keys"
	"github.com/sceau/sceau/internal/quorum"
	"github.com/sceau/sceau/internal/sceau"
)

// Backups, imports and destruction of CA keys (KEY-4, KEY-6), each under
// dual control (ROLE-3). Backup files go to Layout.BackupsDir and the share
// files of their wrapping keys to Layout.SharesDir(backup ID). No procedure
// exports a private key in clear (KEY-3): a backup is the key wrapped under
// a key split m-of-n.

// KeyBackups is the backup service of the node, its actions registered with
// the approvals of acc.
func (n *Node) KeyBackups(acc *access.Service) (*quorum.Backups, error) {
	o := n.backupOptions()
	// ROLE-4: a holder whose role was removed holds no new share and
	// presents none.
	o.HolderCheck = holderCheck(acc, "key custody")
	b := quorum.NewBackups(n.DB, n.Journal, n.Registry, acc.Approvals(), o)
	return b, b.Register()
}

// backupOptions are where the node's backups go and how they reach the CA
// keys; the server's backups and a ceremony's share them (KEY-4).
func (n *Node) backupOptions() quorum.BackupOptions {
	return quorum.BackupOptions{
		Dir:       n.Layout.BackupsDir(),
		SharesDir: n.Layout.SharesRoot(),
		Vault: func(caID string) (keys.Vault, string, error) {
			if _, err := n.Authority.CA(caID); err != nil {
				return nil, "", err
			}
			label := sceau.CAKeyLabel(caID)
			v, ok := n.Ring.StoreOf(label).(keys.Vault)
			if !ok {
				return nil, "", sceau.Errorf(sceau.Invalid, "key custody", "the store of CA %q cannot back up or destroy keys", caID)
			}
			return v, label, nil
		},
		Public: func(caID string) (crypto.PublicKey, error) {
			c, err := n.Authority.CA(caID)
			if err != nil {
				return nil, err
			}
			return c.Cert.PublicKey, nil
		},
	}
}

// backUpAtCeremony makes the backups a ceremony approved (KEY-4), with the
// same core as 'sceau ca backup': the approval is the participants'
// confirmation in the room (ROLE-3), the security officer who conducts
// makes it. Each holder's PIN is wiped once their share is sealed.
func (n *Node) backUpAtCeremony(ctx context.Context, o CreateOptions) error {
	b := quorum.NewBackups(n.DB, n.Journal, n.Registry, nil, n.backupOptions())
	for _, order := range o.Backups {
		if o.BackupPINs == nil {
			return sceau.Errorf(sceau.Internal, "ceremony: backup", "no PINs for the holders of the backup of CA %q", order.CA)
		}
		pins := map[string][]byte{}
		wipe := func() {
			for _, p := range pins {
				clear(p)
			}
		}
		for _, h := range order.Holders {
			pin, err := o.BackupPINs(order.CA, h)
			if err != nil {
				wipe()
				return err
			}
			pins[h] = pin
		}
		_, err := b.BackupAtCeremony(ctx, o.actor(), order.CA, quorum.CeremonyApproval{ID: order.Approval, Approvers: order.Approvers},
			quorum.BackupPlan{Holders: order.Holders, Threshold: order.Threshold}, pins)
		wipe()
		if err != nil {
			return err
		}
	}
	return nil
}
