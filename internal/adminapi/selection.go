package adminapi

import (
	"context"
	"net/http"

	"github.com/sceau/sceau/internal/access"
	"github.com/sceau/sceau/internal/revocation"
	"github.com/sceau/sceau/internal/server"
)

// PreviewSelection is the dry run of a selective revocation on the server:
// what sel matches now, with the first thousand matches (INC-3).
func (c *Client) PreviewSelection(ctx context.Context, sel revocation.Selector) (*revocation.Selection, error) {
	var s revocation.Selection
	path := "/api/v1/revocations/selections/preview?" + server.SelectorQuery(sel).Encode()
	return &s, c.call(ctx, http.MethodGet, path, nil, &s)
}

// RequestSelectedRevocation asks that what sel matches be revoked for
// reason, under dual control (INC-3).
func (c *Client) RequestSelectedRevocation(ctx context.Context, sel revocation.Selector, reason string) (*access.Request, error) {
	var rq access.Request
	return &rq, c.call(ctx, http.MethodPost, "/api/v1/revocations/selections", revocation.SelectionPayload{Selector: sel, Reason: reason}, &rq)
}
