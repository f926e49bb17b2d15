package access

import (
	"context"

	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/store"
)

// CACompromise is the compromise procedure of a CA key (INC-2, policy
// §5.6.3), carried out by the node: it spans the CA, revocation,
// publication and the incident register.
type CACompromise struct {
	// Check refuses a compromise that cannot be carried out (an unknown or
	// terminated CA); it runs when requested and before execution.
	Check func(ctx context.Context, q store.Querier, caID string) error
	// Execute carries it out in the transaction of the last approval.
	Execute func(ctx context.Context, tx *store.Tx, actor sceau.Actor, caID, reason, approval string) (string, error)
}

// RegisterCACompromise plugs the compromise procedure into the approvals.
func (s *Service) RegisterCACompromise(c CACompromise) error {
	return s.approvals.Register(CACompromised, Executor{
		Check: func(ctx context.Context, q store.Querier, req *Request) error {
			pl, err := caPayload(req)
			if err != nil {
				return err
			}
			return c.Check(ctx, q, pl.CA)
		},
		Execute: func(ctx context.Context, tx *store.Tx, req *Request) (string, error) {
			pl, err := caPayload(req)
			if err != nil {
				return "", err
			}
			if err := c.Check(ctx, tx, pl.CA); err != nil {
				return "", err
			}
			return c.Execute(ctx, tx, requesterActor(req), pl.CA, pl.Reason, req.ID)
		},
	})
}

// RequestCACompromise asks that the compromise procedure be carried out
// for caID, under dual control (INC-2, ROLE-3): one person cannot revoke a
// whole hierarchy branch alone.
func (s *Service) RequestCACompromise(ctx context.Context, p Principal, caID, reason string) (*Request, error) {
	reason, err := checkReason("access: ca compromise", reason, true)
	if err != nil {
		return nil, err
	}
	return s.approvals.Request(ctx, p, CACompromised, Resource{Kind: "ca", ID: caID}, CAPayload{CA: caID, Reason: reason})
}
