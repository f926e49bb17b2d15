package adminapi

import (
	"context"
	"net/http"
	"net/url"

	"github.com/sceau/sceau/internal/est"
	"github.com/sceau/sceau/internal/server"
)

// CreateESTCredential makes an EST credential for a validated dossier;
// the password is in the answer, this once.
func (c *Client) CreateESTCredential(ctx context.Context, req server.ESTCredentialRequest) (*est.Credential, error) {
	var out est.Credential
	return &out, c.call(ctx, http.MethodPost, "/api/v1/est/credentials", req, &out)
}

// ESTCredentials lists the EST credentials, without their passwords.
func (c *Client) ESTCredentials(ctx context.Context) ([]est.Credential, error) {
	var out []est.Credential
	return out, c.call(ctx, http.MethodGet, "/api/v1/est/credentials", nil, &out)
}

// RevokeESTCredential revokes an EST credential.
func (c *Client) RevokeESTCredential(ctx context.Context, username string) (*server.ESTCredentialRevocation, error) {
	var out server.ESTCredentialRevocation
	return &out, c.call(ctx, http.MethodPost, "/api/v1/est/credentials/"+url.PathEscape(username)+"/revoke", struct{}{}, &out)
}
