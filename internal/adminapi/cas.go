package adminapi

import (
	"context"
	"net/http"
	"net/url"
	"strconv"

	"github.com/sceau/sceau/internal/access"
	"github.com/sceau/sceau/internal/server"
)

// CAs lists the CAs of the installation.
func (c *Client) CAs(ctx context.Context) ([]server.CAInfo, error) {
	var list []server.CAInfo
	return list, c.call(ctx, http.MethodGet, "/api/v1/cas", nil, &list)
}

// CA shows one CA, with its certificate.
func (c *Client) CA(ctx context.Context, id string) (*server.CAInfo, error) {
	var info server.CAInfo
	return &info, c.call(ctx, http.MethodGet, "/api/v1/cas/"+seg(id), nil, &info)
}

// IssueCRL signs and publishes a CA's CRLs now.
func (c *Client) IssueCRL(ctx context.Context, id string) ([]server.CRLInfo, error) {
	var crls []server.CRLInfo
	return crls, c.call(ctx, http.MethodPost, "/api/v1/cas/"+seg(id)+"/crl", struct{}{}, &crls)
}

// RequestCATermination, RequestMassRevocation and RequestCACreation ask for
// operations under dual control; each returns the request to approve.
func (c *Client) RequestCATermination(ctx context.Context, id, reason string) (*access.Request, error) {
	return c.caRequest(ctx, id, "terminate", reason)
}

// RequestMassRevocation asks for every certificate of a CA to be revoked.
func (c *Client) RequestMassRevocation(ctx context.Context, id, reason string) (*access.Request, error) {
	return c.caRequest(ctx, id, "revocations", reason)
}

// RequestCACompromise asks for the compromise procedure of a CA key
// (INC-2), under dual control.
func (c *Client) RequestCACompromise(ctx context.Context, id, reason string) (*access.Request, error) {
	return c.caRequest(ctx, id, "compromise", reason)
}

// RequestCACreation asks for a CA of the configuration to be created.
func (c *Client) RequestCACreation(ctx context.Context, id, reason string) (*access.Request, error) {
	return c.caRequest(ctx, id, "creation", reason)
}

func (c *Client) caRequest(ctx context.Context, id, what, reason string) (*access.Request, error) {
	var rq access.Request
	return &rq, c.call(ctx, http.MethodPost, "/api/v1/cas/"+seg(id)+"/"+what, server.CARequest{Reason: reason}, &rq)
}

// Issue issues a certificate from a CSR.
func (c *Client) Issue(ctx context.Context, req server.IssueRequest) (*server.IssueResponse, error) {
	var r server.IssueResponse
	return &r, c.call(ctx, http.MethodPost, "/api/v1/certificates", req, &r)
}

// IssuePKCS12 issues a certificate with a key made by the CA, delivered in
// a password-protected PKCS#12 file.
func (c *Client) IssuePKCS12(ctx context.Context, req server.PKCS12Request) (*server.PKCS12Response, error) {
	var r server.PKCS12Response
	return &r, c.call(ctx, http.MethodPost, "/api/v1/certificates/pkcs12", req, &r)
}

// CertificateFilter selects certificates to list.
type CertificateFilter struct {
	CA, Status string
	After      string // the serial to list after (paging)
	Limit      int
}

// Certificates lists certificate records.
func (c *Client) Certificates(ctx context.Context, f CertificateFilter) ([]server.CertInfo, error) {
	q := url.Values{}
	for k, v := range map[string]string{"ca": f.CA, "status": f.Status, "after": f.After} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if f.Limit > 0 {
		q.Set("limit", strconv.Itoa(f.Limit))
	}
	var list []server.CertInfo
	return list, c.call(ctx, http.MethodGet, "/api/v1/certificates?"+q.Encode(), nil, &list)
}

// Certificate shows one certificate record, with its PEM.
func (c *Client) Certificate(ctx context.Context, serial string) (*server.CertInfo, error) {
	var info server.CertInfo
	return &info, c.call(ctx, http.MethodGet, "/api/v1/certificates/"+seg(serial), nil, &info)
}

// Revoke revokes a certificate.
func (c *Client) Revoke(ctx context.Context, serial string, req server.RevokeRequest) (*server.CertInfo, error) {
	var info server.CertInfo
	return &info, c.call(ctx, http.MethodPost, "/api/v1/certificates/"+seg(serial)+"/revoke", req, &info)
}

// Metrics returns the Prometheus exposition of the service.
func (c *Client) Metrics(ctx context.Context) ([]byte, error) {
	return c.raw(ctx, "/metrics", 16<<20)
}
