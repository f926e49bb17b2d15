package main

import (
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/sceau/sceau/internal/quorum"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/server"
)

func newCAActivateCmd(e *env) *cobra.Command {
	var (
		session string
		shares  []string
		pins    []string
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

For scripts, --pin-file HOLDER=FILE reads a PIN from a file instead.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			_, c, err := loadClient(e)
			if err != nil {
				return err
			}
			caID := args[0]
			pinFiles := map[string]string{}
			for _, p := range pins {
				h, f, ok := strings.Cut(p, "=")
				if !ok {
					return sceau.Errorf(sceau.Invalid, "ca activate", "--pin-file wants HOLDER=FILE, got %q", p)
				}
				pinFiles[h] = f
			}
			if len(shares) == 0 {
				return sceau.Errorf(sceau.Invalid, "ca activate", "name at least one --share HOLDER=FILE")
			}
			var p quorum.Progress
			if session == "" {
				if err := c.do(cmd.Context(), http.MethodPost, "/api/v1/cas/"+pathEscape(caID)+"/activations", struct{}{}, &p); err != nil {
					return err
				}
				session = p.ID
				fmt.Fprintf(e.stdout, "Activation of CA %s begun: %d of %d holders needed before %s.\nOther holders join with: sceau ca activate %s --session %s --share HOLDER=FILE\n",
					caID, p.Threshold, p.Total, p.Deadline.Local().Format(time.TimeOnly), caID, session)
			}
			for _, s := range shares {
				holder, file, ok := strings.Cut(s, "=")
				if !ok {
					return sceau.Errorf(sceau.Invalid, "ca activate", "--share wants HOLDER=FILE, got %q", s)
				}
				shareFile, err := os.ReadFile(file)
				if err != nil {
					return sceau.E(sceau.Invalid, "ca activate", "cannot read the share file of "+holder, err)
				}
				var pin []byte
				if f, ok := pinFiles[holder]; ok {
					b, err := os.ReadFile(f)
					if err != nil {
						return sceau.E(sceau.Invalid, "ca activate", "cannot read the PIN file of "+holder, err)
					}
					pin = trimNewline(b)
				} else if pin, err = readSecret(fmt.Sprintf("%s, PIN of your share of CA %s: ", holder, caID), e.stdout); err != nil {
					return err
				}
				req := server.PresentShare{Holder: holder, ShareFile: shareFile, PIN: string(pin)}
				clear(pin)
				err = c.do(cmd.Context(), http.MethodPost, "/api/v1/cas/"+pathEscape(caID)+"/activations/"+pathEscape(session)+"/shares", req, &p)
				req.PIN = ""
				if err != nil {
					return err
				}
				if p.Activated {
					fmt.Fprintf(e.stdout, "%s's share accepted. CA %s is activated.\n", holder, caID)
					return nil
				}
				fmt.Fprintf(e.stdout, "%s's share accepted: %d more needed.\n", holder, p.Need)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&session, "session", "", "join the activation begun at another terminal")
	cmd.Flags().StringArrayVar(&shares, "share", nil, "HOLDER=FILE: a holder and their share file (repeatable)")
	cmd.Flags().StringArrayVar(&pins, "pin-file", nil, "HOLDER=FILE: read that holder's PIN from FILE instead of the terminal")
	return cmd
}

func newCADeactivateCmd(e *env) *cobra.Command {
	var yes bool
	cmd := &cobra.Command{
		Use:   "deactivate CA --yes",
		Short: "Deactivate a CA key now: it signs nothing until activated again (KEY-5)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			_, c, err := loadClient(e)
			if err != nil {
				return err
			}
			if !yes {
				fmt.Fprintf(e.stdout, "would deactivate the key of CA %s (issuance and CRLs stop until m holders activate it again); add --yes\n", args[0])
				return nil
			}
			var st server.ActivationStatus
			if err := c.do(cmd.Context(), http.MethodPost, "/api/v1/cas/"+pathEscape(args[0])+"/deactivate", struct{}{}, &st); err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "CA %s is deactivated.\n", args[0])
			return nil
		},
	}
	cmd.Flags().BoolVar(&yes, "yes", false, "really deactivate")
	return cmd
}
