package access

import (
	"context"
	"encoding/json"

	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/store"
)

// Publication changes under dual control (PUB-4, ROLE-3): an Application
// Administrator requests that a document version be published or
// withdrawn, a Security Officer or another Application Administrator
// approves, and the change is made in the transaction of the approval.
// The request carries the version's description and the digest of its
// file, stored beforehand: what the approvers see is what is published.

// Publisher checks and applies publication changes (publication.Service,
// through the node).
type Publisher interface {
	CheckChange(ctx context.Context, q store.Querier, payload json.RawMessage) error
	ApplyChange(ctx context.Context, tx *store.Tx, actor sceau.Actor, payload json.RawMessage, approval string) (string, error)
}

// RegisterPublication plugs publication changes into the approvals.
func (s *Service) RegisterPublication(p Publisher) error {
	return s.approvals.Register(PublicationChange, Executor{
		Check: func(ctx context.Context, q store.Querier, req *Request) error {
			return p.CheckChange(ctx, q, req.Payload)
		},
		Execute: func(ctx context.Context, tx *store.Tx, req *Request) (string, error) {
			return p.ApplyChange(ctx, tx, requesterActor(req), req.Payload, req.ID)
		},
	})
}

// RequestPublicationChange asks for a publication change on document, under
// dual control; payload is the change as the publisher reads it.
func (s *Service) RequestPublicationChange(ctx context.Context, p Principal, document string, payload any) (*Request, error) {
	return s.approvals.Request(ctx, p, PublicationChange, Resource{Kind: "document", ID: document}, payload)
}

// MayChangePublication refuses p unless p may request publication changes:
// storing a file for publication needs the same right (PUB-4).
func MayChangePublication(p Principal) error {
	return Decide(p, PublicationChange, Resource{Kind: "document"}).Err()
}
