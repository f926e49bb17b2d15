// Package adminapi is the typed client of Sceau's administration API: one
// method per route of internal/server, over mutual TLS with the operator's
// certificate and, when someone logged in at the terminal, their session
// token. A refusal comes back as a *sceau.Error whose kind is the one the
// server named in its answer, so sceau.KindOf and errors.Is(err,
// sceau.ErrDenied) work on this side of the wire as on the other.
package adminapi

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/sceau/sceau/internal/access"
	"github.com/sceau/sceau/internal/config"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/server"
)

const op = "admin API"

// Credentials are what the client presents: a client certificate and its
// key (the terminal's, or a person's own, ROLE-4), and the token of the
// session opened at this terminal, if any.
type Credentials struct {
	CertFile, KeyFile string
	Token             string
}

// Client calls one installation's admin API.
type Client struct {
	base  string
	http  *http.Client
	token string
}

// New returns a client of the admin API that cfg describes (admin.listen,
// admin.dir for the trust anchors), presenting cred.
func New(cfg *config.Config, cred Credentials) (*Client, error) {
	if cred.CertFile == "" || cred.KeyFile == "" {
		cred.CertFile, cred.KeyFile = access.OperatorCert, access.OperatorKeyFile
	}
	tlsCfg, err := access.ClientTLS(cfg.Path(cfg.Admin.Dir), cred.CertFile, cred.KeyFile)
	if err != nil {
		return nil, err
	}
	tr := &http.Transport{TLSClientConfig: tlsCfg, MaxIdleConnsPerHost: 64, ForceAttemptHTTP2: true}
	return &Client{
		base:  "https://" + DialAddress(cfg.Admin.Listen),
		http:  &http.Client{Transport: tr, Timeout: 60 * time.Second},
		token: cred.Token,
	}, nil
}

// DialAddress turns a listen address (":8443", "0.0.0.0:8443") into one
// to dial on this machine.
func DialAddress(listen string) string {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return listen
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}

// HasSession says whether the client presents a session token.
func (c *Client) HasSession() bool { return c.token != "" }

// WithoutSession is the same client without the session token: a login
// does not go through the session it replaces.
func (c *Client) WithoutSession() *Client {
	d := *c
	d.token = ""
	return &d
}

// Base is the URL of the API, to name the service in messages.
func (c *Client) Base() string { return c.base }

// call sends in as JSON (none if nil) and decodes the answer into out
// (ignored if nil).
func (c *Client) call(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return sceau.E(sceau.Internal, op, "", err)
		}
		body = bytes.NewReader(b)
	}
	b, err := c.send(ctx, method, path, body, 64<<20)
	if err != nil {
		return err
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return sceau.E(sceau.Internal, op, "unexpected answer from "+c.base, err)
		}
	}
	return nil
}

// raw GETs path and returns the body as it came.
func (c *Client) raw(ctx context.Context, path string, limit int64) ([]byte, error) {
	return c.send(ctx, http.MethodGet, path, nil, limit)
}

func (c *Client) send(ctx context.Context, method, path string, body io.Reader, limit int64) ([]byte, error) {
	return c.sendAs(ctx, method, path, "application/json", body, limit)
}

func (c *Client) sendAs(ctx context.Context, method, path, contentType string, body io.Reader, limit int64) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return nil, sceau.E(sceau.Invalid, op, "", err)
	}
	if body != nil {
		req.Header.Set("Content-Type", contentType)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, sceau.E(sceau.Unavailable, op, "cannot reach "+c.base+" (is `sceau serve` running?)", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, limit))
	if err != nil {
		return nil, sceau.E(sceau.Unavailable, op, "the answer of "+c.base+" was cut", err)
	}
	if resp.StatusCode >= 300 {
		return nil, refusal(resp, b)
	}
	return b, nil
}

// refusal turns an error answer into a *sceau.Error of the kind the server
// named; an answer without one (a proxy's, an older server's) is classified
// by its status code.
func refusal(resp *http.Response, b []byte) error {
	var eb server.ErrorBody
	if json.Unmarshal(b, &eb) == nil && eb.Error != "" {
		kind, ok := sceau.ParseKind(eb.Kind)
		if !ok {
			kind = kindOfStatus(resp.StatusCode)
		}
		return sceau.Errorf(kind, op, "%s", eb.Error)
	}
	return sceau.Errorf(kindOfStatus(resp.StatusCode), op, "%s", resp.Status)
}

func kindOfStatus(code int) sceau.Kind {
	switch code {
	case http.StatusBadRequest:
		return sceau.Invalid
	case http.StatusNotFound:
		return sceau.NotFound
	case http.StatusConflict:
		return sceau.Conflict
	case http.StatusForbidden, http.StatusUnauthorized:
		return sceau.Denied
	case http.StatusServiceUnavailable:
		return sceau.Unavailable
	}
	return sceau.Internal
}
