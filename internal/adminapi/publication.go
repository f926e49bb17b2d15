package adminapi

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"

	"github.com/sceau/sceau/internal/access"
	"github.com/sceau/sceau/internal/publication"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/server"
)

// RequestPublication stores content and requests the publication of the
// version m describes, under dual control (PUB-4).
func (c *Client) RequestPublication(ctx context.Context, m publication.Meta, content []byte) (*access.Request, error) {
	b, err := c.sendAs(ctx, http.MethodPost, "/api/v1/publication/files", m.MediaType, bytes.NewReader(content), 1<<20)
	if err != nil {
		return nil, err
	}
	var stored server.StoredFile
	if err := json.Unmarshal(b, &stored); err != nil {
		return nil, sceau.E(sceau.Internal, op, "unexpected answer from "+c.base, err)
	}
	var rq access.Request
	return &rq, c.call(ctx, http.MethodPost, "/api/v1/publication/requests",
		server.PublicationRequest{Op: "add", Meta: &m, SHA256: stored.SHA256}, &rq)
}

// RequestWithdrawal requests that a published version be withdrawn.
func (c *Client) RequestWithdrawal(ctx context.Context, document, reason string) (*access.Request, error) {
	var rq access.Request
	return &rq, c.call(ctx, http.MethodPost, "/api/v1/publication/requests",
		server.PublicationRequest{Op: "withdraw", Document: document, Reason: reason}, &rq)
}

// Documents lists every version ever published.
func (c *Client) Documents(ctx context.Context) (*server.DocumentList, error) {
	var l server.DocumentList
	return &l, c.call(ctx, http.MethodGet, "/api/v1/publication/documents", nil, &l)
}
