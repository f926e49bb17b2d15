package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/sceau/sceau/internal/adminapi"
	"github.com/sceau/sceau/internal/quorum"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/server"
)

func newCAActivateCmd(e *env) *cobra.Command {
	var (
		session    string
		shares     []string
		cards      []string
		cardModule string
		pins       []string
	)
	cmd := &cobra.Command{
		Use:   "activate CA --share HOLDER=FILE [--share HOLDER=FILE ...]",
		Short: "Activate a CA key: m of its n key share holders present their shares (KEY-2)",
		Long: `activate gathers the shares of a CA whose key has an m-of-n activation policy.
Each holder names their share file and types their PIN when asked; the
running 'sceau serve' opens the share (wrong PINs are counted: the fifth locks
the share until a Security Officer unlocks it), and once m shares are in, it
reconstructs the activation secret in memory, opens the CA key and wipes the
secret. Every step, refusals included, is an audit event naming the holder.

All holders at one terminal:
  sceau ca activate issuing --share alice=alice.share --share bob=bob.share --share carol=carol.share

Holders at different terminals: the first begins and is given a session ID,
the others join it within the window (default 10 minutes):
  sceau ca activate issuing --share alice=alice.share
  sceau ca activate issuing --session ID --share bob=bob.share

A holder whose share is on their smart card presents it with --card
HOLDER=TOKEN (the card's token label, or serial:NUMBER) and types the card's
PIN: the card is read here, on this terminal, and checks and counts the PIN
itself (a locked card is unlocked with its own tools). The share read from
it travels to the server over the admin TLS connection, as a share file and
its PIN do. --card-module names the card reader's PKCS#11 library (default:
keystore.pkcs11.module of the configuration):
  sceau ca activate issuing --card alice=alice-card --share bob=bob.share --card carol=serial:4B1D

For scripts, --pin-file HOLDER=FILE reads a PIN from a file instead.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, c, err := loadClient(e)
			if err != nil {
				return err
			}
			caID := args[0]
			if cardModule == "" {
				cardModule = pkcs11Module(cfg)
			}
			pinFiles := map[string]string{}
			for _, p := range pins {
				h, f, ok := strings.Cut(p, "=")
				if !ok {
					return sceau.Errorf(sceau.Invalid, "ca activate", "--pin-file wants HOLDER=FILE, got %q", p)
				}
				pinFiles[h] = f
			}
			if len(shares) == 0 && len(cards) == 0 {
				return sceau.Errorf(sceau.Invalid, "ca activate", "name at least one --share HOLDER=FILE or --card HOLDER=TOKEN")
			}
			// The shares in the order given: files, then cards.
			var brought []quorum.HolderShare
			for _, s := range shares {
				holder, file, ok := strings.Cut(s, "=")
				if !ok {
					return sceau.Errorf(sceau.Invalid, "ca activate", "--share wants HOLDER=FILE, got %q", s)
				}
				shareFile, err := os.ReadFile(file)
				if err != nil {
					return sceau.E(sceau.Invalid, "ca activate", "cannot read the share file of "+holder, err)
				}
				brought = append(brought, quorum.HolderShare{Holder: holder, File: shareFile})
			}
			for _, s := range cards {
				holder, token, ok := strings.Cut(s, "=")
				if !ok {
					return sceau.Errorf(sceau.Invalid, "ca activate", "--card wants HOLDER=TOKEN, got %q", s)
				}
				card, err := quorum.ParseCard(cardModule, token)
				if err != nil {
					return err
				}
				brought = append(brought, quorum.HolderShare{Holder: holder, Card: &card})
			}
			readPIN := func(holder, prompt string) ([]byte, error) {
				if f, ok := pinFiles[holder]; ok {
					b, err := os.ReadFile(f)
					if err != nil {
						return nil, sceau.E(sceau.Invalid, "ca activate", "cannot read the PIN file of "+holder, err)
					}
					return trimNewline(b), nil
				}
				return readSecret(prompt, e.stdout)
			}
			ctx := cmd.Context()
			if session == "" {
				p, err := c.BeginActivation(ctx, caID)
				if err != nil {
					return err
				}
				session = p.ID
				fmt.Fprintf(e.stdout, "Activation of CA %s begun: %d of %d holders needed before %s.\nOther holders join with: sceau ca activate %s --session %s --share HOLDER=FILE\n",
					caID, p.Threshold, p.Total, p.Deadline.Local().Format(time.TimeOnly), caID, session)
			}
			presenter := c.Activation(caID, session)
			for _, b := range brought {
				prompt := fmt.Sprintf("%s, PIN of your share of CA %s: ", b.Holder, caID)
				if b.Card != nil {
					prompt = fmt.Sprintf("%s, PIN of your %s: ", b.Holder, *b.Card)
				}
				pin, err := readPIN(b.Holder, prompt)
				if err != nil {
					return err
				}
				// KEY-2: PresentShare wipes the PIN; a card checks and
				// counts it itself, and only its share leaves this terminal.
				p, err := quorum.PresentShare(ctx, presenter, sceau.CAKeyLabel(caID), b, pin)
				if err != nil {
					return err
				}
				if p.Activated {
					fmt.Fprintf(e.stdout, "%s's share accepted. CA %s is activated.\n", b.Holder, caID)
					return nil
				}
				fmt.Fprintf(e.stdout, "%s's share accepted: %d more needed.\n", b.Holder, p.Need)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&session, "session", "", "join the activation begun at another terminal")
	cmd.Flags().StringArrayVar(&shares, "share", nil, "HOLDER=FILE: a holder and their share file (repeatable)")
	cmd.Flags().StringArrayVar(&cards, "card", nil, "HOLDER=TOKEN: a holder and their smart card (token label, or serial:NUMBER), read on this terminal (repeatable)")
	cmd.Flags().StringVar(&cardModule, "card-module", "", "PKCS#11 library of the card reader (default: keystore.pkcs11.module)")
	cmd.Flags().StringArrayVar(&pins, "pin-file", nil, "HOLDER=FILE: read that holder's PIN (or card PIN) from FILE instead of the terminal")
	return cmd
}

func newCADeactivateCmd(e *env) *cobra.Command {
	var yes *yesFlag
	cmd := &cobra.Command{
		Use:   "deactivate CA --yes",
		Short: "Deactivate a CA key now: it signs nothing until activated again (KEY-5)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if yes.dryRun(e, "deactivate the key of CA %s (issuance and CRLs stop until m holders activate it again)", args[0]) {
				return nil
			}
			if _, err := apiCall(cmd.Context(), e, func(c *adminapi.Client, ctx context.Context) (*server.ActivationStatus, error) {
				return c.Deactivate(ctx, args[0])
			}); err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "CA %s is deactivated.\n", args[0])
			return nil
		},
	}
	yes = addYes(cmd, "really deactivate")
	return cmd
}
