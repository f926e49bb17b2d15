package access

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"

	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/store"
)

// Executors of CA actions under dual control (ROLE-3). The work is done by
// the packages that own it, through these small interfaces; the approvals
// decide when, and run it once, in the transaction of the last approval.

// MassRevoker revokes every unexpired certificate of a CA (revocation.Service).
type MassRevoker interface {
	CountRevocable(ctx context.Context, q store.Querier, caID, reason string) (int, error)
	RevokeAll(ctx context.Context, tx *store.Tx, actor sceau.Actor, caID, reason, approval string) (int, error)
}

// CATerminator marks a CA terminated (ca.Authority).
type CATerminator interface {
	CheckTerminable(ctx context.Context, q store.Querier, caID string) error
	Terminate(ctx context.Context, tx *store.Tx, actor sceau.Actor, caID, reason, approval string) error
}

// CAPayload is the payload of a revocation.mass or ca.terminate request.
type CAPayload struct {
	CA     string `json:"ca"`
	Reason string `json:"reason"`
}

// RegisterCAExecutors plugs mass revocation and CA termination into the
// approvals.
func (s *Service) RegisterCAExecutors(rev MassRevoker, term CATerminator) error {
	if err := s.approvals.Register(RevokeMass, Executor{
		Check: func(ctx context.Context, q store.Querier, req *Request) error {
			pl, err := caPayload(req)
			if err != nil {
				return err
			}
			_, err = rev.CountRevocable(ctx, q, pl.CA, pl.Reason)
			return err
		},
		Execute: func(ctx context.Context, tx *store.Tx, req *Request) (string, error) {
			pl, err := caPayload(req)
			if err != nil {
				return "", err
			}
			n, err := rev.RevokeAll(ctx, tx, requesterActor(req), pl.CA, pl.Reason, req.ID)
			return fmt.Sprintf("revoked %d certificates of CA %s (%s)", n, pl.CA, pl.Reason), err
		},
	}); err != nil {
		return err
	}
	return s.approvals.Register(CATerminate, Executor{
		Check: func(ctx context.Context, q store.Querier, req *Request) error {
			pl, err := caPayload(req)
			if err != nil {
				return err
			}
			return term.CheckTerminable(ctx, q, pl.CA)
		},
		Execute: func(ctx context.Context, tx *store.Tx, req *Request) (string, error) {
			pl, err := caPayload(req)
			if err != nil {
				return "", err
			}
			if err := term.Terminate(ctx, tx, requesterActor(req), pl.CA, pl.Reason, req.ID); err != nil {
				return "", err
			}
			// END-1: every unexpired certificate of the CA, revoked in the
			// same transaction.
			n, err := rev.RevokeAll(ctx, tx, requesterActor(req), pl.CA, "cessationOfOperation", req.ID)
			if err != nil {
				return "", err
			}
			return fmt.Sprintf("CA %s is terminated: it issues no certificate any more; %d certificates revoked (cessationOfOperation); "+
				"its final CRL and the destruction of its key follow (docs/termination.md)", pl.CA, n), nil
		},
	})
}

// SelectionRevoker revokes the live certificates a selector matches
// (revocation.Service, INC-3); the payload is its SelectionPayload, which
// access passes through unread.
type SelectionRevoker interface {
	CheckSelection(ctx context.Context, q store.Querier, payload []byte) error
	RevokeSelected(ctx context.Context, tx *store.Tx, actor sceau.Actor, payload []byte, approval string) (int, error)
}

// RegisterSelectionExecutor plugs the selective revocation of INC-3 into
// the approvals: checked when requested and again before it runs, carried
// out once in the transaction of the last approval.
func (s *Service) RegisterSelectionExecutor(rev SelectionRevoker) error {
	return s.approvals.Register(RevokeSelected, Executor{
		Check: func(ctx context.Context, q store.Querier, req *Request) error {
			return rev.CheckSelection(ctx, q, req.Payload)
		},
		Execute: func(ctx context.Context, tx *store.Tx, req *Request) (string, error) {
			n, err := rev.RevokeSelected(ctx, tx, requesterActor(req), req.Payload, req.ID)
			return fmt.Sprintf("revoked %d certificates matching the selector", n), err
		},
	})
}

// RequestSelectedRevocation asks that the live certificates a selector
// matches be revoked (payload: a revocation.SelectionPayload), under dual
// control (INC-3).
func (s *Service) RequestSelectedRevocation(ctx context.Context, p Principal, payload json.RawMessage) (*Request, error) {
	return s.approvals.Request(ctx, p, RevokeSelected, Resource{Kind: "certificates", ID: "selection"}, payload)
}

// RequestMassRevocation asks that every unexpired certificate of caID be
// revoked for reason (an RFC 5280 reason name), under dual control.
func (s *Service) RequestMassRevocation(ctx context.Context, p Principal, caID, reason string) (*Request, error) {
	if _, err := checkReason("access: mass revocation", reason, true); err != nil {
		return nil, err
	}
	return s.approvals.Request(ctx, p, RevokeMass, Resource{Kind: "ca", ID: caID}, CAPayload{CA: caID, Reason: reason})
}

// RequestCATermination asks that caID be terminated, under dual control.
func (s *Service) RequestCATermination(ctx context.Context, p Principal, caID, reason string) (*Request, error) {
	if _, err := checkReason("access: ca termination", reason, true); err != nil {
		return nil, err
	}
	return s.approvals.Request(ctx, p, CATerminate, Resource{Kind: "ca", ID: caID}, CAPayload{CA: caID, Reason: reason})
}

func caPayload(req *Request) (CAPayload, error) {
	var pl CAPayload
	dec := json.NewDecoder(bytes.NewReader(req.Payload))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&pl); err != nil {
		return pl, sceau.E(sceau.Invalid, "access: ca", "bad request payload", err)
	}
	if pl.CA != req.Resource.ID {
		return pl, sceau.Errorf(sceau.Invalid, "access: ca", "the payload names %s, the request %s", clip(pl.CA), clip(req.Resource.ID))
	}
	return pl, nil
}

// requesterActor is who an executed request acts as (ROLE-5).
func requesterActor(req *Request) sceau.Actor {
	return sceau.Actor{ID: req.Requester, Role: string(req.RequesterRole)}
}
