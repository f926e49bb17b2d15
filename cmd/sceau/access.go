package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/sceau/sceau/internal/access"
	"github.com/sceau/sceau/internal/config"
	"github.com/sceau/sceau/internal/node"
	"github.com/sceau/sceau/internal/safefile"
	"github.com/sceau/sceau/internal/sceau"
)

// People and sessions wiring (ROLE-1..ROLE-6). The admin listener's
// client certificate authenticates a terminal; the person at it logs in
// with password and TOTP ('sceau login') and the session's roles decide
// what they may do. A client certificate bound to a person's account
// stands in for password and TOTP: init binds admin/operator.pem to the
// account "operator", the first Registration & Revocation Officer.

// printDemoPeople prints the demo people and how to log in as one of them.
func printDemoPeople(out io.Writer, cfg *config.Config, dir string) {
	l := node.LayoutOf(cfg)
	list, err := node.DemoPeople(l)
	if err != nil {
		return
	}
	fmt.Fprintf(out, "\nDEMO PEOPLE, ONE PER TRUSTED ROLE — DEMO CREDENTIALS, NOT FOR PRODUCTION (also in %s):\n", l.DemoCredentials())
	for _, p := range list {
		node.WriteCredentials(out, p)
	}
	fmt.Fprintf(out, "\nThe admin client certificate %s is the account %q (Registration & Revocation Officer).\n",
		filepath.Join(node.LayoutOf(cfg).AdminDir(), access.OperatorCert), node.OperatorAccount)
	fmt.Fprintln(out, "Log in as another person with their TOTP code (e.g. from 'oathtool --totp -b SECRET'):")
	fmt.Fprintf(out, "  go run ./cmd/sceau --config %s login --account auditor\n", filepath.Join(dir, node.ConfigFileName))
}

// sessionFile is where the CLI keeps the session token of the person
// logged in at this terminal: $SCEAU_SESSION_FILE, or a file per
// installation under $XDG_RUNTIME_DIR/sceau (memory, cleared at the end of
// the user's login), or the admin directory. Mode 0600.
func sessionFile(cfg *config.Config) string {
	if p := os.Getenv("SCEAU_SESSION_FILE"); p != "" {
		return p
	}
	adminDir := cfg.Path(cfg.Admin.Dir)
	if d := os.Getenv("XDG_RUNTIME_DIR"); d != "" {
		abs, err := filepath.Abs(adminDir)
		if err == nil {
			h := sha256.Sum256([]byte(abs))
			return filepath.Join(d, "sceau", "session-"+hex.EncodeToString(h[:8]))
		}
	}
	return filepath.Join(adminDir, "session")
}

// storedSession is the session file's content.
type storedSession struct {
	Token     string    `json:"token"`
	Account   string    `json:"account"`
	ExpiresAt time.Time `json:"expires_at"`
}

func readSession(cfg *config.Config) (*storedSession, error) {
	b, err := os.ReadFile(sessionFile(cfg))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, sceau.E(sceau.Unavailable, "session", "cannot read "+sessionFile(cfg), err)
	}
	var s storedSession
	if err := json.Unmarshal(b, &s); err != nil || s.Token == "" {
		return nil, sceau.Errorf(sceau.Invalid, "session", "%s is not a session file: remove it or run 'sceau logout'", sessionFile(cfg))
	}
	return &s, nil
}

func writeSession(cfg *config.Config, s storedSession) error {
	path := sessionFile(cfg)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return sceau.E(sceau.Unavailable, "session", "cannot create "+filepath.Dir(path), err)
	}
	b, _ := json.Marshal(s)
	if err := safefile.Replace(path, b, 0o600); err != nil {
		return sceau.E(sceau.Unavailable, "session", "cannot write "+path, err)
	}
	return nil
}

func removeSession(cfg *config.Config) error {
	err := os.Remove(sessionFile(cfg))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return sceau.E(sceau.Unavailable, "session", "cannot remove "+sessionFile(cfg), err)
	}
	return nil
}
