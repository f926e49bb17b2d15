package node

import (
	"context"

	"github.com/sceau/sceau/internal/access"
	"github.com/sceau/sceau/internal/ca"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/store"
)

// registerExecutors plugs the executors of actions under dual control that
// other packages carry out into the access service (ROLE-3): mass
// revocation, CA termination, publication changes, and the authorisation
// of CA creation.
func (n *Node) registerExecutors(svc *access.Service) error {
	if err := svc.RegisterCAExecutors(n.Revocation, n.Authority); err != nil {
		return err
	}
	if err := svc.RegisterCACompromise(n.compromise()); err != nil { // INC-2 (compromise.go)
		return err
	}
	if err := svc.RegisterSelectionExecutor(n.Revocation); err != nil { // INC-3
		return err
	}
	if err := svc.RegisterPublication(n.Publication); err != nil { // PUB-4
		return err
	}
	return svc.RegisterCACreation(n.creatable)
}

// creatable says whether caID is declared in the configuration and absent
// from the database, the only CAs whose creation can be authorised.
func (n *Node) creatable(ctx context.Context, q store.Querier, caID string) error {
	const op = "ca create"
	declared := false
	for _, c := range n.Config.CAs {
		declared = declared || c.ID == caID
	}
	if !declared {
		return sceau.Errorf(sceau.NotFound, op, "CA %q is not declared in the configuration: declare it, then request its creation", caID)
	}
	exists, err := ca.Exists(ctx, q, caID)
	if err != nil {
		return err
	}
	if exists {
		return sceau.Errorf(sceau.Conflict, op, "CA %q exists already", caID)
	}
	return nil
}
