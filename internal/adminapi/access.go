package adminapi

import (
	"context"
	"net/http"
	"net/url"
	"strconv"

	"github.com/sceau/sceau/internal/access"
	"github.com/sceau/sceau/internal/server"
)

// seg escapes one path segment (a name, a serial, an approval ID). The
// server refuses escaped paths, so a name that needs escaping is refused
// there with a clear message rather than reaching another route.
func seg(s string) string { return url.PathEscape(s) }

// Login opens a session for a person at this terminal (ROLE-4).
func (c *Client) Login(ctx context.Context, req server.LoginRequest) (*access.Session, error) {
	var s access.Session
	return &s, c.call(ctx, http.MethodPost, "/api/v1/login", req, &s)
}

// Logout closes the session of the client's token.
func (c *Client) Logout(ctx context.Context) error {
	return c.call(ctx, http.MethodPost, "/api/v1/logout", struct{}{}, nil)
}

// Whoami names the terminal and the person logged in, with their roles.
func (c *Client) Whoami(ctx context.Context) (*access.Whoami, error) {
	var w access.Whoami
	return &w, c.call(ctx, http.MethodGet, "/api/v1/whoami", nil, &w)
}

// ChangePassword changes the password of the person logged in.
func (c *Client) ChangePassword(ctx context.Context, req server.PasswordChange) error {
	return c.call(ctx, http.MethodPost, "/api/v1/password", req, nil)
}

// Accounts lists the accounts.
func (c *Client) Accounts(ctx context.Context) ([]*access.Account, error) {
	var list []*access.Account
	return list, c.call(ctx, http.MethodGet, "/api/v1/accounts", nil, &list)
}

// CreateAccount creates an account without roles and returns its first
// credentials.
func (c *Client) CreateAccount(ctx context.Context, req server.NewAccount) (*access.Credentials, error) {
	var creds access.Credentials
	return &creds, c.call(ctx, http.MethodPost, "/api/v1/accounts", req, &creds)
}

// Account shows one account.
func (c *Client) Account(ctx context.Context, name string) (*access.Account, error) {
	var a access.Account
	return &a, c.call(ctx, http.MethodGet, "/api/v1/accounts/"+seg(name), nil, &a)
}

// ChangeAccount changes an account's full name.
func (c *Client) ChangeAccount(ctx context.Context, name string, req server.AccountChange) (*access.Account, error) {
	var a access.Account
	return &a, c.call(ctx, http.MethodPatch, "/api/v1/accounts/"+seg(name), req, &a)
}

// SuspendAccount, ResumeAccount and DeleteAccount change an account's
// status, for the reason given (journaled).
func (c *Client) SuspendAccount(ctx context.Context, name, reason string) (*access.Account, error) {
	return c.accountStatus(ctx, http.MethodPost, name, "/suspend", reason)
}

// ResumeAccount lifts a suspension.
func (c *Client) ResumeAccount(ctx context.Context, name, reason string) (*access.Account, error) {
	return c.accountStatus(ctx, http.MethodPost, name, "/resume", reason)
}

// DeleteAccount closes an account for good.
func (c *Client) DeleteAccount(ctx context.Context, name, reason string) (*access.Account, error) {
	return c.accountStatus(ctx, http.MethodDelete, name, "", reason)
}

func (c *Client) accountStatus(ctx context.Context, method, name, suffix, reason string) (*access.Account, error) {
	var a access.Account
	return &a, c.call(ctx, method, "/api/v1/accounts/"+seg(name)+suffix, server.StatusChange{Reason: reason}, &a)
}

// GrantRole asks for a role to be granted: a request another Security
// Officer approves (ROLE-3).
func (c *Client) GrantRole(ctx context.Context, name, role string) (*access.Request, error) {
	var rq access.Request
	return &rq, c.call(ctx, http.MethodPost, "/api/v1/accounts/"+seg(name)+"/roles", server.RoleChange{Role: role}, &rq)
}

// RemoveRole asks for a role to be removed.
func (c *Client) RemoveRole(ctx context.Context, name, role string) (*access.Request, error) {
	var rq access.Request
	return &rq, c.call(ctx, http.MethodDelete, "/api/v1/accounts/"+seg(name)+"/roles/"+seg(role), nil, &rq)
}

// IssueAccountCertificate issues a personal admin certificate bound to an
// account (ROLE-4).
func (c *Client) IssueAccountCertificate(ctx context.Context, name string, req server.PersonalCertRequest) (*access.IssuedCertificate, error) {
	var ic access.IssuedCertificate
	return &ic, c.call(ctx, http.MethodPost, "/api/v1/accounts/"+seg(name)+"/certificates", req, &ic)
}

// AccountCertificates lists the certificates bound to an account.
func (c *Client) AccountCertificates(ctx context.Context, name string) ([]access.BoundCertificate, error) {
	var list []access.BoundCertificate
	return list, c.call(ctx, http.MethodGet, "/api/v1/accounts/"+seg(name)+"/certificates", nil, &list)
}

// RevokeAccountCertificate revokes a certificate bound to an account.
func (c *Client) RevokeAccountCertificate(ctx context.Context, name, serial, reason string) (*access.BoundCertificate, error) {
	var bc access.BoundCertificate
	return &bc, c.call(ctx, http.MethodPost, "/api/v1/accounts/"+seg(name)+"/certificates/"+seg(serial)+"/revoke",
		server.StatusChange{Reason: reason}, &bc)
}

// Approvals lists requests under dual control, of a status ("" for all),
// at most limit (0: the server's default).
func (c *Client) Approvals(ctx context.Context, status string, limit int) ([]*access.Request, error) {
	q := url.Values{}
	if status != "" {
		q.Set("status", status)
	}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	path := "/api/v1/approvals"
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	var list []*access.Request
	return list, c.call(ctx, http.MethodGet, path, nil, &list)
}

// Approval shows one request.
func (c *Client) Approval(ctx context.Context, id string) (*access.Request, error) {
	var rq access.Request
	return &rq, c.call(ctx, http.MethodGet, "/api/v1/approvals/"+seg(id), nil, &rq)
}

// Approve votes for a request; the last vote needed carries it out.
func (c *Client) Approve(ctx context.Context, id string) (*access.Request, error) {
	var rq access.Request
	return &rq, c.call(ctx, http.MethodPost, "/api/v1/approvals/"+seg(id)+"/approve", struct{}{}, &rq)
}

// Reject refuses a request, for a reason.
func (c *Client) Reject(ctx context.Context, id, reason string) (*access.Request, error) {
	var rq access.Request
	return &rq, c.call(ctx, http.MethodPost, "/api/v1/approvals/"+seg(id)+"/reject", server.Rejection{Reason: reason}, &rq)
}

// People lists the people of trusted roles with their records (ROLE-6).
func (c *Client) People(ctx context.Context) ([]*access.PersonRecord, error) {
	var list []*access.PersonRecord
	return list, c.call(ctx, http.MethodGet, "/api/v1/people", nil, &list)
}

// Person shows one person's record.
func (c *Client) Person(ctx context.Context, name string) (*access.PersonRecord, error) {
	var r access.PersonRecord
	return &r, c.call(ctx, http.MethodGet, "/api/v1/people/"+seg(name), nil, &r)
}

// Attest records an attestation (background check, training, …) on a
// person's record.
func (c *Client) Attest(ctx context.Context, name string, req server.NewAttestation) (*access.Attestation, error) {
	var at access.Attestation
	return &at, c.call(ctx, http.MethodPost, "/api/v1/people/"+seg(name)+"/attestations", req, &at)
}
