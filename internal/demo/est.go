package demo

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/sceau/sceau/internal/adminapi"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/server"
)

// ESTCredential makes, once, an EST credential for the sample dossier
// (CA-4, docs/est.md) as the operator, a Registration Officer, and keeps
// it in dir/est-credential (user:password, mode 0600: the server keeps only
// the password's hash and shows it once). Run again, it reads the file.
func ESTCredential(ctx context.Context, c *adminapi.Client, dossier int64, dir string) (user, password string, err error) {
	path := filepath.Join(dir, "est-credential")
	if b, err := os.ReadFile(path); err == nil {
		if u, p, ok := strings.Cut(strings.TrimSpace(string(b)), ":"); ok {
			return u, p, nil
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", "", sceau.E(sceau.Unavailable, op, "cannot read the demo EST credential", err)
	}
	cred, err := c.CreateESTCredential(ctx, server.ESTCredentialRequest{Dossier: dossier})
	if err != nil {
		return "", "", fmt.Errorf("demo: the EST credential: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", "", sceau.E(sceau.Unavailable, op, "cannot make the sample directory", err)
	}
	if err := os.WriteFile(path, []byte(cred.Username+":"+cred.Password+"\n"), 0o600); err != nil {
		return "", "", sceau.E(sceau.Unavailable, op, "cannot keep the demo EST credential", err)
	}
	return cred.Username, cred.Password, nil
}
