package access

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/store"
)

// CA creation under dual control (ROLE-3). Creating a CA makes a key and
// has its certificate signed by the parent, which happens on the signing
// node with the configuration at hand ('sceau ca create'), not over the
// API. So the approval authorises rather than acts: an Application
// Administrator requests the creation of a declared CA, two other people
// approve it, and 'sceau ca create' then refuses every CA without such an
// executed request. The initial CAs of 'sceau init' and the CAs of a key
// ceremony (KEY-8: witnessed, with a signed transcript) are outside it.

// CACreatable says whether caID can be created: declared in the
// configuration and absent from the database.
type CACreatable func(ctx context.Context, q store.Querier, caID string) error

// RegisterCACreation plugs the creation of CAs into the approvals.
func (s *Service) RegisterCACreation(creatable CACreatable) error {
	check := func(ctx context.Context, q store.Querier, req *Request) error {
		pl, err := caPayload(req)
		if err != nil {
			return err
		}
		return creatable(ctx, q, pl.CA)
	}
	return s.approvals.Register(CACreate, Executor{
		Check: check,
		Execute: func(ctx context.Context, tx *store.Tx, req *Request) (string, error) {
			if err := check(ctx, tx, req); err != nil {
				return "", err
			}
			return fmt.Sprintf("the creation of CA %s is authorised: run 'sceau ca create --yes' on the signing node", req.Resource.ID), nil
		},
	})
}

// RequestCACreation asks that the declared CA caID be created, under dual
// control.
func (s *Service) RequestCACreation(ctx context.Context, p Principal, caID, reason string) (*Request, error) {
	reason, err := checkReason("access: ca creation", reason, true)
	if err != nil {
		return nil, err
	}
	return s.approvals.Request(ctx, p, CACreate, Resource{Kind: "ca", ID: caID}, CAPayload{CA: caID, Reason: reason})
}

// CreationApproval returns the executed request that authorises creating
// caID, the newest if several, or a NotFound error saying how to get one.
func CreationApproval(ctx context.Context, q store.Querier, caID string) (*Request, error) {
	var id string
	err := q.QueryRowContext(ctx, qLastCACreation, string(CACreate), caID, StatusExecuted).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, sceau.Errorf(sceau.NotFound, "access: ca creation",
			"creating CA %q needs an approved request (ROLE-3): an Application Administrator runs 'sceau ca request-create %s --reason TEXT --yes' and two other people approve it", caID, caID)
	}
	if err != nil {
		return nil, store.Classify("access: ca creation", err)
	}
	return loadRequest(ctx, q, id, "")
}
