package main

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"

	"github.com/sceau/sceau/internal/adminapi"
	"github.com/sceau/sceau/internal/config"
	"github.com/sceau/sceau/internal/sceau"
)

// newAPIClient is the admin API client of this terminal: the operator's
// client certificate, or the person's own (SCEAU_CLIENT_CERT and
// SCEAU_CLIENT_KEY, ROLE-4), and the session token of whoever logged in
// here (see sessionFile).
func newAPIClient(cfg *config.Config) (*adminapi.Client, error) {
	var cred adminapi.Credentials
	if c, k := os.Getenv("SCEAU_CLIENT_CERT"), os.Getenv("SCEAU_CLIENT_KEY"); c != "" || k != "" {
		if c == "" || k == "" {
			return nil, sceau.Errorf(sceau.Invalid, "admin API", "set both SCEAU_CLIENT_CERT and SCEAU_CLIENT_KEY, or neither")
		}
		var err error
		if cred.CertFile, err = filepath.Abs(c); err == nil {
			cred.KeyFile, err = filepath.Abs(k)
		}
		if err != nil {
			return nil, sceau.E(sceau.Invalid, "admin API", "", err)
		}
	}
	s, err := readSession(cfg)
	if err != nil {
		return nil, err
	}
	if s != nil {
		cred.Token = s.Token
	}
	return adminapi.New(cfg, cred)
}

// fetch runs one read of the admin API and, with --json, prints what it
// read; printed says the command's output is done.
func fetch[T any](ctx context.Context, e *env, get func(*adminapi.Client, context.Context) (T, error)) (v T, printed bool, err error) {
	if v, err = apiCall(ctx, e, get); err != nil {
		return v, false, err
	}
	if e.jsonOut {
		return v, true, printJSON(e.stdout, v)
	}
	return v, false, nil
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func loadClient(e *env) (*config.Config, *adminapi.Client, error) {
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

// apiCall loads the client of --config and runs one call with it.
func apiCall[T any](ctx context.Context, e *env, call func(*adminapi.Client, context.Context) (T, error)) (T, error) {
	_, c, err := loadClient(e)
	if err != nil {
		var zero T
		return zero, err
	}
	return call(c, ctx)
}
