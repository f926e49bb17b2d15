package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/sceau/sceau/internal/access"
	"github.com/sceau/sceau/internal/ca"
	"github.com/sceau/sceau/internal/config"
	"github.com/sceau/sceau/internal/node"
	"github.com/sceau/sceau/internal/sceau"
)

func newCACreateCmd(e *env) *cobra.Command {
	var (
		yes                 *yesFlag
		pinDir, tokenPinDir string
		cards               cardFlags // holders whose new shares go to their smart card (KEY-2)
	)
	cmd := &cobra.Command{
		Use:   "create --yes",
		Short: "Create the CAs declared in the configuration that do not exist yet (local)",
		Long: `create works on the installation's files directly, not through the API: it
compares the CAs declared in --config with those in the database and creates
the missing ones (key in the keystore, certificate signed by the parent,
delegated OCSP responder, first CRL), each with its audit event. Existing CAs
are never touched. Without --yes it only lists what it would create.

Each new CA needs an executed creation request (dual control, ROLE-3): an
Application Administrator runs 'sceau ca request-create ID --reason TEXT
--yes' and two other people approve it. The CAs made by 'sceau init' and by a
key ceremony are outside this rule.
Restart 'sceau serve' afterwards so that it loads the new CAs.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := config.Load(e.configPath)
			if err != nil {
				return err
			}
			db, err := node.OpenMigratedStore(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			missing, err := node.MissingCAs(cmd.Context(), cfg, db)
			var approvals map[string]*access.Request
			if err == nil {
				// ROLE-3: each CA needs an executed creation request.
				approvals, err = node.CreationApprovals(cmd.Context(), db, missing)
			}
			db.Close()
			if err != nil && approvals == nil {
				return err
			}
			if len(missing) == 0 {
				fmt.Fprintln(e.stdout, "every declared CA exists; nothing to create")
				return nil
			}
			if !*yes {
				for _, id := range missing {
					if rq, ok := approvals[id]; ok {
						fmt.Fprintf(e.stdout, "would create CA %s, authorised by request %s of %s\n", id, rq.ID, rq.Requester)
					}
				}
				if err != nil {
					fmt.Fprintf(e.stdout, "cannot create yet: %v\n", err)
					return nil
				}
				fmt.Fprintln(e.stdout, "add --yes to do it")
				return nil
			}
			if err != nil {
				return err
			}
			pins := promptPINs(e.stdout)
			if pinDir != "" {
				pins = pinsFromDir(pinDir)
			}
			first := approvals[missing[0]]
			// The journal names who asked for the creation (ROLE-5).
			o := node.CreateOptions{PINs: pins, Actor: sceau.Actor{ID: first.Requester, Role: string(first.RequesterRole)},
				FirstCRLActor: sceau.System("ca-create")}
			if tokenPinDir != "" {
				o.TokenPIN = tokenPINsFromDir(tokenPinDir)
			}
			cfgText, err := os.ReadFile(e.configPath)
			if err != nil {
				return err
			}
			if o.Cards, err = cards.resolve(cfgText); err != nil {
				return err
			}
			if pinDir == "" {
				o.PINs = withCardPINs(pins, o.Cards, e.stdout)
			}
			n, err := node.Open(cmd.Context(), cfg, nil)
			if err != nil {
				return err
			}
			defer n.Close()
			created, err := n.CreateCAs(cmd.Context(), o)
			if err != nil {
				return err
			}
			for _, c := range created.CAs {
				_, s2 := ca.Fingerprints(c.Cert.Raw)
				fmt.Fprintf(e.stdout, "created CA %s: %s\n  SHA-256 %s\n  authorised by request %s of %s\n", c.Spec.ID, c.Cert.Subject, s2,
					approvals[c.Spec.ID].ID, approvals[c.Spec.ID].Requester)
			}
			fmt.Fprintln(e.stdout, "restart 'sceau serve' to serve the new CAs")
			return nil
		},
	}
	yes = addYes(cmd, "really create")
	cards.register(cmd)
	cmd.Flags().StringVar(&tokenPinDir, "token-pins", "", "read the current user PIN of each new CA's PKCS#11 token from DIR/<token>.pin")
	cmd.Flags().StringVar(&pinDir, "pins", "", "read the PINs of new key shares from DIR/<holder>.pin instead of asking each holder")
	return cmd
}
