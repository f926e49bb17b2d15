package adminapi

import (
	"context"
	"fmt"
	"net/http"
	"net/url"

	"github.com/sceau/sceau/internal/registration"
	"github.com/sceau/sceau/internal/server"
)

// The registration authority's calls (CA-4; internal/server/registration.go).

// CreateDossier opens a draft dossier.
func (c *Client) CreateDossier(ctx context.Context, nd registration.NewDossier) (*registration.Dossier, error) {
	var d registration.Dossier
	return &d, c.call(ctx, http.MethodPost, "/api/v1/dossiers", nd, &d)
}

// UpdateDossier replaces a draft's subject, contact and mandate.
func (c *Client) UpdateDossier(ctx context.Context, id int64, nd registration.NewDossier) (*registration.Dossier, error) {
	var d registration.Dossier
	return &d, c.call(ctx, http.MethodPatch, fmt.Sprintf("/api/v1/dossiers/%d", id), nd, &d)
}

// Dossier returns a dossier with its evidence and CGU acceptance.
func (c *Client) Dossier(ctx context.Context, id int64) (*registration.Dossier, error) {
	var d registration.Dossier
	return &d, c.call(ctx, http.MethodGet, fmt.Sprintf("/api/v1/dossiers/%d", id), nil, &d)
}

// Dossiers lists dossiers in state ("" for all) after id, up to limit.
func (c *Client) Dossiers(ctx context.Context, state string, after int64, limit int) ([]registration.Dossier, error) {
	q := url.Values{}
	if state != "" {
		q.Set("state", state)
	}
	if after > 0 {
		q.Set("after", fmt.Sprint(after))
	}
	if limit > 0 {
		q.Set("limit", fmt.Sprint(limit))
	}
	var out []registration.Dossier
	return out, c.call(ctx, http.MethodGet, "/api/v1/dossiers?"+q.Encode(), nil, &out)
}

// Requirements returns what a profile asks of a dossier of kind.
func (c *Client) Requirements(ctx context.Context, caID, profile, kind string) (*registration.Requirements, error) {
	q := url.Values{"ca": {caID}, "profile": {profile}, "kind": {kind}}
	var r registration.Requirements
	return &r, c.call(ctx, http.MethodGet, "/api/v1/registration/requirements?"+q.Encode(), nil, &r)
}

// AddEvidence adds identity evidence and its scan to a draft.
func (c *Client) AddEvidence(ctx context.Context, id int64, ne registration.NewEvidence) (*registration.Evidence, error) {
	var e registration.Evidence
	return &e, c.call(ctx, http.MethodPost, fmt.Sprintf("/api/v1/dossiers/%d/evidence", id), ne, &e)
}

// AcceptCGU records the applicant's acceptance of a CGU version.
func (c *Client) AcceptCGU(ctx context.Context, id int64, na registration.NewAcceptance) (*registration.CGU, error) {
	var g registration.CGU
	return &g, c.call(ctx, http.MethodPost, fmt.Sprintf("/api/v1/dossiers/%d/cgu", id), na, &g)
}

// DossierStep submits, validates or delivers a dossier: step is submit,
// validate or deliver.
func (c *Client) DossierStep(ctx context.Context, id int64, step string, body any) (*registration.Dossier, error) {
	if body == nil {
		body = struct{}{}
	}
	var d registration.Dossier
	return &d, c.call(ctx, http.MethodPost, fmt.Sprintf("/api/v1/dossiers/%d/%s", id, step), body, &d)
}

// RejectDossier rejects a submitted dossier with a reason.
func (c *Client) RejectDossier(ctx context.Context, id int64, reason string) (*registration.Dossier, error) {
	return c.DossierStep(ctx, id, "reject", server.Rejection{Reason: reason})
}

// IssueDossier issues a validated dossier's certificate.
func (c *Client) IssueDossier(ctx context.Context, id int64, req server.DossierIssueRequest) (*server.DossierIssueResponse, error) {
	var out server.DossierIssueResponse
	return &out, c.call(ctx, http.MethodPost, fmt.Sprintf("/api/v1/dossiers/%d/issue", id), req, &out)
}

// RequestRevocation records an officer's or an organisation's revocation request.
func (c *Client) RequestRevocation(ctx context.Context, nr registration.NewRequest) (*registration.RevocationRequest, error) {
	var r registration.RevocationRequest
	return &r, c.call(ctx, http.MethodPost, "/api/v1/revocation-requests", nr, &r)
}

// HolderRevocation relays a holder's request with their revocation secret.
func (c *Client) HolderRevocation(ctx context.Context, req server.HolderRevocationRequest) (*registration.RevocationRequest, error) {
	var r registration.RevocationRequest
	return &r, c.call(ctx, http.MethodPost, "/api/v1/revocation-requests/holder", req, &r)
}

// RevocationRequests lists requests by due time ("received": waiting).
func (c *Client) RevocationRequests(ctx context.Context, state string) ([]registration.RevocationRequest, error) {
	var out []registration.RevocationRequest
	return out, c.call(ctx, http.MethodGet, "/api/v1/revocation-requests?"+url.Values{"state": {state}}.Encode(), nil, &out)
}

// ProcessRevocationRequest revokes or refuses a request.
func (c *Client) ProcessRevocationRequest(ctx context.Context, id int64, req server.ProcessRequest) (*registration.RevocationRequest, error) {
	var r registration.RevocationRequest
	return &r, c.call(ctx, http.MethodPost, fmt.Sprintf("/api/v1/revocation-requests/%d/process", id), req, &r)
}
