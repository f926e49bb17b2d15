package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/sceau/sceau/internal/access"
	"github.com/sceau/sceau/internal/config"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/server"
)

// apiClient calls the administration API with the operator's client
// certificate and, when someone logged in at this terminal, their session
// token (see sessionFile).
type apiClient struct {
	base  string
	http  *http.Client
	token string
}

func newAPIClient(cfg *config.Config) (*apiClient, error) {
	// ROLE-4: a person with a personal admin certificate points the CLI
	// at it; otherwise the terminal presents the operator's.
	certFile, keyFile := access.OperatorCert, access.OperatorKeyFile
	if c, k := os.Getenv("SCEAU_CLIENT_CERT"), os.Getenv("SCEAU_CLIENT_KEY"); c != "" || k != "" {
		if c == "" || k == "" {
			return nil, sceau.Errorf(sceau.Invalid, "admin API", "set both SCEAU_CLIENT_CERT and SCEAU_CLIENT_KEY, or neither")
		}
		var err error
		if certFile, err = filepath.Abs(c); err == nil {
			keyFile, err = filepath.Abs(k)
		}
		if err != nil {
			return nil, sceau.E(sceau.Invalid, "admin API", "", err)
		}
	}
	tlsCfg, err := access.ClientTLS(cfg.Path(cfg.Admin.Dir), certFile, keyFile)
	if err != nil {
		return nil, err
	}
	host, port, _ := net.SplitHostPort(cfg.Admin.Listen)
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	tr := &http.Transport{TLSClientConfig: tlsCfg, MaxIdleConnsPerHost: 64, ForceAttemptHTTP2: true}
	c := &apiClient{base: "https://" + net.JoinHostPort(host, port), http: &http.Client{Transport: tr, Timeout: 60 * time.Second}}
	if s, err := readSession(cfg); err != nil {
		return nil, err
	} else if s != nil {
		c.token = s.Token
	}
	return c, nil
}

func (c *apiClient) do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return sceau.E(sceau.Unavailable, "admin API", "cannot reach "+c.base+" (is `sceau serve` running?)", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return sceau.E(sceau.Unavailable, "admin API", "", err)
	}
	if resp.StatusCode >= 300 {
		var eb server.ErrorBody
		if json.Unmarshal(b, &eb) == nil && eb.Error != "" {
			return sceau.Errorf(kindOfStatus(resp.StatusCode), "admin API", "%s", eb.Error)
		}
		return sceau.Errorf(kindOfStatus(resp.StatusCode), "admin API", "%s", resp.Status)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return sceau.E(sceau.Internal, "admin API", "unexpected answer", err)
		}
	}
	return nil
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

// getJSON GETs path from the admin API into v and, with --json, prints it;
// printed says the command's output is done.
func getJSON(ctx context.Context, e *env, path string, v any) (printed bool, err error) {
	_, c, err := loadClient(e)
	if err != nil {
		return false, err
	}
	if err := c.do(ctx, http.MethodGet, path, nil, v); err != nil {
		return false, err
	}
	if e.jsonOut {
		return true, printJSON(e.stdout, v)
	}
	return false, nil
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func loadClient(e *env) (*config.Config, *apiClient, error) {
	cfg, err := config.Load(e.configPath)
	if err != nil {
		return nil, nil, err
	}
	c, err := newAPIClient(cfg)
	if err != nil {
		return nil, nil, err
	}
	return cfg, c, nil
}
