package adminapi

import (
	"context"
	"net/http"
	"net/url"

	"github.com/sceau/sceau/internal/acme"
	"github.com/sceau/sceau/internal/server"
)

// CreateEAB makes an ACME external account binding key for a validated
// dossier (CA-4); the answer holds the HMAC key, shown this once.
func (c *Client) CreateEAB(ctx context.Context, req server.EABRequest) (*acme.EABKey, error) {
	var k acme.EABKey
	return &k, c.call(ctx, http.MethodPost, "/api/v1/acme/eab", req, &k)
}

// EABKeys lists the EAB keys, without their HMAC keys.
func (c *Client) EABKeys(ctx context.Context) ([]acme.EABKey, error) {
	var out []acme.EABKey
	return out, c.call(ctx, http.MethodGet, "/api/v1/acme/eab", nil, &out)
}

// RevokeEAB revokes an EAB key.
func (c *Client) RevokeEAB(ctx context.Context, kid string) (*server.EABRevocation, error) {
	var out server.EABRevocation
	return &out, c.call(ctx, http.MethodPost, "/api/v1/acme/eab/"+url.PathEscape(kid)+"/revoke", struct{}{}, &out)
}
