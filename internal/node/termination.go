package node

import (
	"context"
	"time"

	"github.com/sceau/sceau/internal/quorum"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/store"
)

// The last steps of a CA's termination (END-1; docs/termination.md). The
// approval's transaction marked the CA terminated and revoked every
// unexpired certificate it issued. Here, resumed at every pass until done,
// so that an interruption (a crash, the CA not activated, a device that
// refuses) leaves the termination where it stopped:
//
//  1. the final CRL, nextUpdate 99991231235959Z, signed with the CA key
//     (activated once more by its holders if it is not) and archived like
//     every CRL;
//  2. the key destroyed in its device, every registered backup marked
//     destroyed (its file removed), the share carriers revoked (KEY-6),
//     and the termination recorded complete, in one transaction.
//
// The chain, the final CRL and the archive stay published; the site shows
// the CA as terminated. OCSP answers for its certificates go on from the
// delegated responder's key until that responder's certificate expires.

// FinishTerminations carries the unfinished terminations as far as they
// can go now, returning the CAs it completed.
func (n *Node) FinishTerminations(ctx context.Context, backups *quorum.Backups) ([]string, error) {
	if n.termWaiting == nil {
		n.termWaiting = map[string]bool{}
	}
	pending, err := n.Authority.UnfinishedTerminations(ctx)
	if err != nil {
		return nil, err
	}
	var done []string
	actor := sceau.System("termination")
	for _, t := range pending {
		if !t.FinalCRL {
			number, final, err := n.Revocation.Final(ctx, n.DB, t.CA)
			if err != nil {
				return done, err
			}
			if !final {
				if !n.Authority.Activated(t.CA) {
					if n.termWaiting[t.CA] {
						continue
					}
					n.termWaiting[t.CA] = true
					n.Log.Warn("CA terminated: its final CRL and key destruction wait for the key's activation (docs/termination.md)",
						"ca", t.CA, "activate", "sceau ca activate "+t.CA)
					continue
				}
				crls, err := n.Revocation.IssueFinalCRL(ctx, actor, t.CA)
				if err != nil {
					n.Log.Error("CA terminated: the final CRL failed; retried at the next pass", "ca", t.CA, "err", err)
					continue
				}
				number = crls[0].Number
				n.Log.Info("CA terminated: final CRL issued (nextUpdate 99991231235959Z)", "ca", t.CA, "number", number)
			}
			if err := n.Authority.RecordFinalCRL(ctx, t.CA, number); err != nil {
				return done, err
			}
		}
		if backups == nil {
			continue
		}
		err := n.DB.InTx(ctx, func(tx *store.Tx) error {
			if _, err := backups.DestroyKey(ctx, tx, actor, t.CA, t.Approval); err != nil {
				return err
			}
			return n.Authority.RecordKeyDestroyed(ctx, tx, actor, t.CA, t.Approval)
		})
		if err != nil {
			n.Log.Error("CA terminated: its key could not be destroyed; retried at the next pass", "ca", t.CA, "err", err)
			continue
		}
		n.Log.Info("CA terminated: key, backups and share carriers destroyed; termination complete", "ca", t.CA)
		done = append(done, t.CA)
	}
	return done, nil
}

// runTerminations runs FinishTerminations every 5s until ctx ends.
func (n *Node) runTerminations(ctx context.Context, backups *quorum.Backups) {
	n.termWaiting = map[string]bool{}
	t := time.NewTicker(5 * time.Second)
	defer t.Stop()
	for {
		if _, err := n.FinishTerminations(ctx, backups); err != nil && ctx.Err() == nil {
			n.Log.Error("terminations", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
