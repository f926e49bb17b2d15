package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/sceau/sceau/internal/access"
	"github.com/sceau/sceau/internal/ca"
	"github.com/sceau/sceau/internal/config"
	"github.com/sceau/sceau/internal/node"
	"github.com/sceau/sceau/internal/sceau"
)

func newInitCmd(e *env) *cobra.Command {
	var (
		dir, from, pinDir, tokenPinDir string
		securityOfficers               []string
		data                           = node.ConfigValues{Org: "Sceau", PublicListen: "127.0.0.1:8080", AdminListen: "127.0.0.1:8443"}
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
			cfg := node.RenderConfig(data)
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
			o := node.InitOptions{CreateOptions: node.CreateOptions{PINs: pins}, People: node.People{SecurityOfficers: securityOfficers}}
			if tokenPinDir != "" {
				o.TokenPIN = tokenPINsFromDir(tokenPinDir)
			}
			var err error
			if o.Cards, err = cards.resolve(cfg); err != nil {
				return err
			}
			if pinDir == "" {
				o.PINs = withCardPINs(pins, o.Cards, e.stdout)
			}
			fmt.Fprintf(e.stdout, "Creating the CA hierarchy in %s …\n", dir)
			inst, err := node.Init(cmd.Context(), dir, cfg, o)
			if err != nil {
				return err
			}
			printInstalled(e.stdout, inst, securityOfficers)
			return nil
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "", "directory to create (must not exist, or be empty)")
	cmd.Flags().StringVar(&data.Org, "org", data.Org, "organization name in the CA subjects")
	cmd.Flags().StringVar(&data.PublicListen, "public", data.PublicListen, "public listener address host:port")
	cmd.Flags().StringVar(&data.AdminListen, "admin", data.AdminListen, "admin listener address host:port")
	cmd.Flags().StringVar(&data.EnrollListen, "enroll", "", "enrollment listener address host:port, HTTPS (revocation form, one-time downloads); default none")
	cmd.Flags().StringVar(&data.BaseURL, "base-url", "", "public URL written into certificates (default http://<public>)")
	cmd.Flags().StringVar(&from, "from", "", "use this configuration file instead of the default template")
	cmd.Flags().StringVar(&tokenPinDir, "token-pins", "", "read the current user PIN of each new CA's PKCS#11 token from DIR/<token>.pin; it is replaced by the split secret")
	cmd.Flags().StringArrayVar(&securityOfficers, "security-officer", nil, "account of a first Security Officer (repeatable; default \"security-officer\"); see docs/roles.md")
	cmd.Flags().StringVar(&pinDir, "pins", "", "read the PINs of new key shares from DIR/<holder>.pin (or DIR/<ca>/<holder>.pin) instead of asking each holder")
	cards.register(cmd)
	return cmd
}

// printInstalled shows what Init made: the CAs with their fingerprints,
// where the admin credentials are, and the first people's credentials.
func printInstalled(out io.Writer, inst *node.Installed, securityOfficers []string) {
	for _, c := range inst.CAs {
		s1, s2 := ca.Fingerprints(c.Cert.Raw)
		fmt.Fprintf(out, "  CA %-10s %s\n             SHA-256 %s\n             SHA-1   %s\n", c.Spec.ID, c.Cert.Subject, s2, s1)
	}
	fmt.Fprintf(out, "Admin credentials: %s (operator.pem, operator-key.pem)\n", inst.Layout.AdminDir())
	fmt.Fprintf(out, "Admin client certificate: %s (account %q, Registration & Revocation Officer)\n",
		filepath.Join(inst.Layout.AdminDir(), access.OperatorCert), node.OperatorAccount)
	fmt.Fprintln(out, "\nTrusted people (ROLE-4). Shown once: hand each person their own, in person.")
	fmt.Fprintln(out, "Each enrols the TOTP secret in an authenticator app, logs in with 'sceau login'")
	fmt.Fprintln(out, "and changes the initial password with 'sceau account passwd'.")
	for _, p := range inst.People {
		node.WriteCredentials(out, p)
	}
	if n := len(securityOfficers); n < 3 {
		fmt.Fprintf(out, "\nNote: a role grant needs its requesting Security Officer and two approvers among the other\n"+
			"Security Officers and Auditors. With %d Security Officer(s) and no Auditor, none can be granted:\n"+
			"name three with --security-officer (see docs/roles.md).\n", max(n, 1))
	}
}
