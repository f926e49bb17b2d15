package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/spf13/cobra"

	"github.com/sceau/sceau/internal/access"
	"github.com/sceau/sceau/internal/ca"
	"github.com/sceau/sceau/internal/config"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/store"
)

func newCACreateCmd(e *env) *cobra.Command {
	var (
		yes                 bool
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
			missing, err := missingCAs(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			if len(missing) == 0 {
				fmt.Fprintln(e.stdout, "every declared CA exists; nothing to create")
				return nil
			}
			// ROLE-3: each CA needs an executed creation request.
			approvals, err := creationApprovals(cmd.Context(), cfg, missing)
			if !yes {
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
			o := nodeOptions{bootstrap: true, pins: pins, actor: sceau.Actor{ID: first.Requester, Role: string(first.RequesterRole)}}
			if tokenPinDir != "" {
				o.tokenPIN = tokenPINsFromDir(tokenPinDir)
			}
			cfgText, err := os.ReadFile(e.configPath)
			if err != nil {
				return err
			}
			if o.cards, err = cards.resolve(cfgText); err != nil {
				return err
			}
			if pinDir == "" {
				o.pins = withCardPINs(pins, o.cards, e.stdout)
			}
			n, err := openNodeWith(cmd.Context(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), o)
			if err != nil {
				return err
			}
			defer n.Close()
			for _, id := range missing {
				if _, err := n.rev.IssueCRL(cmd.Context(), sceau.System("ca-create"), id); err != nil {
					return err
				}
				c, _ := n.auth.CA(id)
				_, s2 := ca.Fingerprints(c.Cert.Raw)
				fmt.Fprintf(e.stdout, "created CA %s: %s\n  SHA-256 %s\n  authorised by request %s of %s\n", id, c.Cert.Subject, s2,
					approvals[id].ID, approvals[id].Requester)
			}
			fmt.Fprintln(e.stdout, "restart 'sceau serve' to serve the new CAs")
			return nil
		},
	}
	cmd.Flags().BoolVar(&yes, "yes", false, "really create")
	cards.register(cmd)
	cmd.Flags().StringVar(&tokenPinDir, "token-pins", "", "read the current user PIN of each new CA's PKCS#11 token from DIR/<token>.pin")
	cmd.Flags().StringVar(&pinDir, "pins", "", "read the PINs of new key shares from DIR/<holder>.pin instead of asking each holder")
	return cmd
}

// missingCAs lists the declared CAs absent from the database, in order.
func missingCAs(ctx context.Context, cfg *config.Config) ([]string, error) {
	db, err := openStore(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if err := db.Migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	defer db.Close()
	var out []string
	for _, c := range cfg.CAs {
		var k int
		if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM cas WHERE id = ?`, c.ID).Scan(&k); err != nil {
			return nil, store.Classify("ca create", err)
		}
		if k == 0 {
			out = append(out, c.ID)
		}
	}
	return out, nil
}

// creationApprovals finds the executed request authorising each CA of ids,
// or says which CAs lack one (ROLE-3).
func creationApprovals(ctx context.Context, cfg *config.Config, ids []string) (map[string]*access.Request, error) {
	db, err := openStore(ctx, cfg)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	out := make(map[string]*access.Request, len(ids))
	var errs []error
	for _, id := range ids {
		rq, err := access.CreationApproval(ctx, db, id)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out[id] = rq
	}
	return out, errors.Join(errs...)
}
