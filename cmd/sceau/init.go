package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/sceau/sceau/internal/access"
	"github.com/sceau/sceau/internal/ca"
	"github.com/sceau/sceau/internal/config"
	"github.com/sceau/sceau/internal/sceau"
)

func newInitCmd(e *env) *cobra.Command {
	var (
		dir, from, pinDir, tokenPinDir string
		securityOfficers               []string
		data                           = templateData{Org: "Sceau", PublicListen: "127.0.0.1:8080", AdminListen: "127.0.0.1:8443"}
		cards                          cardFlags // holders whose shares go to their smart card (custody.go)
	)
	cmd := &cobra.Command{
		Use:   "init --dir DIR",
		Short: "Create a new installation: configuration, keystore, CA hierarchy, admin credentials",
		Long: `init creates DIR with everything a one-node installation needs:

  sceau.yaml                 the configuration, commented; edit it before creating
                             more CAs (an existing CA is never re-created)
  secrets/keystore.secret    the keystore's activation secret (mode 0600)
  keys/                      the encrypted software keystore (CA and responder keys)
  sceau.db                   the SQLite database (certificates, CRLs, audit journal)
  admin/                     the admin CA, the admin listener's certificate, and the
                             first operator's client certificate and key

It creates the CAs declared in the configuration (by default a root and an
issuing CA), each CA's delegated OCSP responder, and a first CRL per CA. Every
step is an audit event. init refuses a DIR that exists and is not empty.

To choose the hierarchy, the database (PostgreSQL) or the public URL first,
write the configuration yourself (start from the one 'sceau demo' writes) and
pass it with --from: it is validated, copied to DIR/sceau.yaml, and used.
CAs declared later are created with 'sceau ca create'.

A CA with an 'activation' section (m of n key share holders, KEY-2) gets a
keystore of its own whose secret is split among the holders: each holder
chooses a PIN (asked here, twice, or read with --pins), and their share is
sealed under it in DIR/shares/<ca>/<holder>.share, to be handed over. That CA
signs only after m holders have presented their shares ('sceau ca activate').

It also creates the first trusted people (docs/roles.md) and prints their
initial password and TOTP secret once: the Security Officers named with
--security-officer (default one, "security-officer"), a Key Share Holder for
each holder named in an activation policy, and "operator", a Registration &
Revocation Officer whose credential is admin/operator.pem. Everyone else is
created by a Security Officer, and roles are granted under dual control.

Then run: sceau serve --config DIR/sceau.yaml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if dir == "" {
				return sceau.Errorf(sceau.Invalid, "init", "--dir is required")
			}
			if data.BaseURL == "" {
				data.BaseURL = "http://" + data.PublicListen
			}
			cfg := renderConfig(data)
			if from != "" {
				b, err := os.ReadFile(from)
				if err != nil {
					return sceau.E(sceau.Invalid, "init", "cannot read --from", err)
				}
				if _, err := config.Parse(b); err != nil {
					return fmt.Errorf("init: %s: %w", from, err)
				}
				cfg = b
			}
			pins := promptPINs(e.stdout)
			if pinDir != "" {
				pins = pinsFromDir(pinDir)
			}
			o := nodeOptions{pins: pins, people: &accessBootstrap{securityOfficers: securityOfficers}}
			if tokenPinDir != "" {
				o.tokenPIN = tokenPINsFromDir(tokenPinDir)
			}
			var err error
			if o.cards, err = cards.resolve(cfg); err != nil {
				return err
			}
			if pinDir == "" {
				o.pins = withCardPINs(pins, o.cards, e.stdout)
			}
			_, err = initialize(cmd.Context(), dir, cfg, e.stdout, o)
			return err
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "", "directory to create (must not exist, or be empty)")
	cmd.Flags().StringVar(&data.Org, "org", data.Org, "organization name in the CA subjects")
	cmd.Flags().StringVar(&data.PublicListen, "public", data.PublicListen, "public listener address host:port")
	cmd.Flags().StringVar(&data.AdminListen, "admin", data.AdminListen, "admin listener address host:port")
	cmd.Flags().StringVar(&data.BaseURL, "base-url", "", "public URL written into certificates (default http://<public>)")
	cmd.Flags().StringVar(&from, "from", "", "use this configuration file instead of the default template")
	cmd.Flags().StringVar(&tokenPinDir, "token-pins", "", "read the current user PIN of each new CA's PKCS#11 token from DIR/<token>.pin; it is replaced by the split secret")
	cmd.Flags().StringArrayVar(&securityOfficers, "security-officer", nil, "account of a first Security Officer (repeatable; default \"security-officer\"); see docs/roles.md")
	cmd.Flags().StringVar(&pinDir, "pins", "", "read the PINs of new key shares from DIR/<holder>.pin (or DIR/<ca>/<holder>.pin) instead of asking each holder")
	cards.register(cmd)
	return cmd
}

// initialize creates an installation in dir and returns its config path.
func initialize(ctx context.Context, dir string, cfgText []byte, out io.Writer, o nodeOptions) (string, error) {
	const op = "init"
	if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
		return "", sceau.Errorf(sceau.Conflict, op, "%s exists and is not empty: init never overwrites an installation", dir)
	}
	if _, err := config.Parse(cfgText); err != nil {
		return "", sceau.E(sceau.Invalid, op, "the configuration is not valid", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", sceau.E(sceau.Unavailable, op, "cannot create "+dir, err)
	}
	// A failed init leaves nothing half-made behind: DIR was empty or absent.
	ok := false
	defer func() {
		if !ok {
			entries, _ := os.ReadDir(dir)
			for _, e := range entries {
				os.RemoveAll(filepath.Join(dir, e.Name()))
			}
		}
	}()
	cfgPath := filepath.Join(dir, "sceau.yaml")
	if err := os.WriteFile(cfgPath, cfgText, 0o644); err != nil {
		return "", sceau.E(sceau.Unavailable, op, "cannot write the configuration", err)
	}
	cfg, err := config.Load(cfgPath)
	if err != nil {
		return "", err
	}
	if cfg.Keystore.SecretFile == "" {
		return "", sceau.Errorf(sceau.Invalid, op, "keystore.secret_file must name the file for the keystore's activation secret")
	}
	secretPath := cfg.Path(cfg.Keystore.SecretFile)
	if _, err := os.Stat(secretPath); err == nil {
		return "", sceau.Errorf(sceau.Conflict, op, "%s exists already: init never reuses a keystore secret", secretPath)
	}
	if err := os.MkdirAll(filepath.Dir(secretPath), 0o700); err != nil {
		return "", sceau.E(sceau.Unavailable, op, "cannot create the secrets directory", err)
	}
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return "", err
	}
	enc := []byte(base64.RawStdEncoding.EncodeToString(secret) + "\n")
	clear(secret)
	err = os.WriteFile(secretPath, enc, 0o600)
	clear(enc)
	if err != nil {
		return "", sceau.E(sceau.Unavailable, op, "cannot write the keystore secret", err)
	}
	fmt.Fprintf(out, "Creating the CA hierarchy in %s …\n", dir)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	o.bootstrap = true
	n, err := openNodeWith(ctx, cfg, log, o)
	if err != nil {
		return "", err
	}
	defer n.Close()
	host, _, _ := net.SplitHostPort(cfg.Admin.Listen)
	hosts := []string{"localhost", "127.0.0.1", "::1"}
	if host != "" && host != "localhost" && host != "127.0.0.1" {
		hosts = append(hosts, host)
	}
	if err := access.CreateAdminPKI(cfg.Path(cfg.Admin.Dir), n.keys, hosts, "operator", nil); err != nil {
		return "", err
	}
	if err := n.record(ctx, "admin.pki_created", map[string]any{"dir": cfg.Path(cfg.Admin.Dir), "operator": "operator", "hosts": hosts}); err != nil {
		return "", err
	}
	credOut := out
	if o.credentials != nil {
		credOut = o.credentials
	}
	if err := bootstrapAccess(ctx, n, cfg, credOut, o.people); err != nil {
		return "", err
	}
	for _, c := range n.auth.CAs() {
		if _, err := n.rev.IssueCRL(ctx, sceau.System("init"), c.Spec.ID); err != nil {
			return "", err
		}
		s1, s2 := ca.Fingerprints(c.Cert.Raw)
		fmt.Fprintf(out, "  CA %-10s %s\n             SHA-256 %s\n             SHA-1   %s\n", c.Spec.ID, c.Cert.Subject, s2, s1)
	}
	fmt.Fprintf(out, "Admin credentials: %s (operator.pem, operator-key.pem)\n", cfg.Path(cfg.Admin.Dir))
	ok = true
	return cfgPath, nil
}
