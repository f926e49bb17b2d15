package main

import (
	"context"

	"github.com/sceau/sceau/internal/access"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/store"
)

// registerExecutors plugs the executors of actions under dual control that
// other packages carry out into the access service (ROLE-3): mass
// revocation and CA termination.
func registerExecutors(svc *access.Service, n *node) error {
	if err := svc.RegisterCAExecutors(n.rev, n.auth); err != nil {
		return err
	}
	return svc.RegisterCACreation(func(ctx context.Context, q store.Querier, caID string) error {
		return creatable(ctx, q, n, caID)
	})
}

// creatable says whether caID is declared in the configuration and absent
// from the database, the only CAs whose creation can be authorised.
func creatable(ctx context.Context, q store.Querier, n *node, caID string) error {
	const op = "ca create"
	declared := false
	for _, c := range n.cfg.CAs {
		declared = declared || c.ID == caID
	}
	if !declared {
		return sceau.Errorf(sceau.NotFound, op, "CA %q is not declared in the configuration: declare it, then request its creation", caID)
	}
	var k int
	if err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM cas WHERE id = ?`, caID).Scan(&k); err != nil {
		return store.Classify(op, err)
	}
	if k > 0 {
		return sceau.Errorf(sceau.Conflict, op, "CA %q exists already", caID)
	}
	return nil
}
