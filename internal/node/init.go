package node

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"log/slog"
	"net"
	"os"
	"path/filepath"

	"github.com/sceau/sceau/internal/access"
	"github.com/sceau/sceau/internal/ca"
	"github.com/sceau/sceau/internal/config"
	"github.com/sceau/sceau/internal/safefile"
	"github.com/sceau/sceau/internal/sceau"
)

// InitOptions say how Init creates an installation.
type InitOptions struct {
	CreateOptions
	People People
	// Log receives the node's log lines; nil discards them.
	Log *slog.Logger
}

// Installed is a new installation, for the operator to see once.
type Installed struct {
	ConfigPath string
	Layout     Layout
	// CAs are the CAs created, in declaration order.
	CAs []*ca.CA
	// People are the first people's initial credentials: show each to its
	// person only, once.
	People []Person
	// Presented says who presented which parent's shares (ceremonies).
	Presented []string
}

// Init creates an installation in dir, which must be absent or empty, from
// the configuration text cfgText: the configuration file, the service
// keystore and its secret, the CAs declared (CreateCAs), the admin PKI, the
// first people, and a first CRL per CA. Every step is an audit event. A
// failed Init leaves dir as it found it.
func Init(ctx context.Context, dir string, cfgText []byte, o InitOptions) (_ *Installed, err error) {
	const op = "init"
	if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
		return nil, sceau.Errorf(sceau.Conflict, op, "%s exists and is not empty: init never overwrites an installation", dir)
	}
	if _, err := config.Parse(cfgText); err != nil {
		return nil, sceau.E(sceau.Invalid, op, "the configuration is not valid", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, sceau.E(sceau.Unavailable, op, "cannot create "+dir, err)
	}
	// A failed init leaves nothing half-made behind: DIR was empty or absent.
	defer func() {
		if err != nil {
			entries, _ := os.ReadDir(dir)
			for _, e := range entries {
				os.RemoveAll(filepath.Join(dir, e.Name()))
			}
		}
	}()
	cfgPath := filepath.Join(dir, ConfigFileName)
	if err := safefile.WriteNew(cfgPath, cfgText, 0o644); err != nil {
		return nil, sceau.E(sceau.Unavailable, op, "cannot write the configuration", err)
	}
	cfg, err := config.Load(cfgPath)
	if err != nil {
		return nil, err
	}
	l := LayoutOf(cfg)
	if cfg.Keystore.SecretFile == "" {
		return nil, sceau.Errorf(sceau.Invalid, op, "keystore.secret_file must name the file for the keystore's activation secret")
	}
	if err := writeKeystoreSecret(l.SecretFile()); err != nil {
		return nil, err
	}
	n, err := Open(ctx, cfg, o.Log)
	if err != nil {
		return nil, err
	}
	defer n.Close()
	created, err := n.CreateCAs(ctx, o.CreateOptions)
	if err != nil {
		return nil, err
	}
	host, _, _ := net.SplitHostPort(cfg.Admin.Listen)
	hosts := []string{"localhost", "127.0.0.1", "::1"}
	if host != "" && host != "localhost" && host != "127.0.0.1" {
		hosts = append(hosts, host)
	}
	if err := access.CreateAdminPKI(l.AdminDir(), n.Keys, hosts, OperatorAccount, nil); err != nil {
		return nil, err
	}
	if err := n.record(ctx, "admin.pki_created", map[string]any{"dir": l.AdminDir(), "operator": OperatorAccount, "hosts": hosts}); err != nil {
		return nil, err
	}
	people, err := n.bootstrapPeople(ctx, o.People)
	if err != nil {
		return nil, err
	}
	return &Installed{ConfigPath: cfgPath, Layout: l, CAs: n.Authority.CAs(), People: people, Presented: created.Presented}, nil
}

// writeKeystoreSecret draws the service keystore's activation secret and
// writes it, never over an existing one, durably (mode 0600).
func writeKeystoreSecret(path string) error {
	const op = "init"
	if _, err := os.Stat(path); err == nil {
		return sceau.Errorf(sceau.Conflict, op, "%s exists already: init never reuses a keystore secret", path)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return sceau.E(sceau.Unavailable, op, "cannot create the secrets directory", err)
	}
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return err
	}
	enc := []byte(base64.RawStdEncoding.EncodeToString(secret) + "\n")
	clear(secret)
	err := safefile.WriteNew(path, enc, 0o600)
	clear(enc)
	if err != nil {
		return sceau.E(sceau.Unavailable, op, "cannot write the keystore secret", err)
	}
	return nil
}
