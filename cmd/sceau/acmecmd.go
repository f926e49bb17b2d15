package main

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/sceau/sceau/internal/acme"
	"github.com/sceau/sceau/internal/adminapi"
	"github.com/sceau/sceau/internal/server"
)

func newACMECmd(e *env) *cobra.Command {
	cmd := &cobra.Command{Use: "acme", Short: "The ACME server's external account binding keys (CA-4)"}
	eab := &cobra.Command{Use: "eab", Short: "EAB keys: an ACME account is bound to a validated registration dossier",
		Long: `An ACME client (certbot, lego, cert-manager…) registers its account with an
external account binding (RFC 8555 §7.3.4): a key id and an HMAC key that a
Registration Officer makes for a validated dossier. The key fixes the CA, the
profile and the DNS names the account may obtain; it binds one account, once.
The HMAC key is printed once, when the key is made, and never journaled: hand
it to the applicant by a separate channel. See docs/acme.md.`}
	eab.AddCommand(newEABCreateCmd(e), newEABListCmd(e), newEABRevokeCmd(e))
	eab.PersistentFlags().BoolVar(&e.jsonOut, "json", false, "print JSON")
	cmd.AddCommand(eab)
	return cmd
}

func newEABCreateCmd(e *env) *cobra.Command {
	var req server.EABRequest
	cmd := &cobra.Command{Use: "create", Short: "Make an EAB key for a validated dossier (the HMAC key is shown once)", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			k, err := apiCall(cmd.Context(), e, func(c *adminapi.Client, ctx context.Context) (*acme.EABKey, error) {
				return c.CreateEAB(ctx, req)
			})
			if err != nil {
				return err
			}
			if e.jsonOut {
				return printJSON(e.stdout, k)
			}
			fmt.Fprintf(e.stdout, "EAB key for dossier %d (CA %s, profile %s): %s\n", k.Dossier, k.CA, k.Profile, strings.Join(k.DNSNames, ", "))
			fmt.Fprintf(e.stdout, "  kid:      %s\n  hmac key: %s\n", k.KID, k.HMACKey)
			fmt.Fprintln(e.stdout, "The HMAC key is not shown again; hand it to the applicant by a separate channel.")
			return nil
		}}
	f := cmd.Flags()
	f.Int64Var(&req.Dossier, "dossier", 0, "the validated dossier's id")
	f.StringSliceVar(&req.DNSNames, "dns", nil, "a DNS name of the dossier the account may obtain (repeat; default: all of them)")
	return cmd
}

func newEABListCmd(e *env) *cobra.Command {
	return &cobra.Command{Use: "list", Short: "List the EAB keys and the accounts bound to them", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			list, err := apiCall(cmd.Context(), e, func(c *adminapi.Client, ctx context.Context) ([]acme.EABKey, error) {
				return c.EABKeys(ctx)
			})
			if err != nil {
				return err
			}
			if e.jsonOut {
				return printJSON(e.stdout, list)
			}
			tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "KID\tDOSSIER\tCA\tPROFILE\tDNS NAMES\tACCOUNT\tCREATED\tBY\tREVOKED")
			for _, k := range list {
				account, revoked := "-", "-"
				if k.Account != 0 {
					account = fmt.Sprint(k.Account)
				}
				if k.RevokedAt != nil {
					revoked = k.RevokedAt.Format(time.RFC3339)
				}
				fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", k.KID, k.Dossier, k.CA, k.Profile, strings.Join(k.DNSNames, ","),
					account, k.CreatedAt.Format(time.RFC3339), k.CreatedBy, revoked)
			}
			return tw.Flush()
		}}
}

func newEABRevokeCmd(e *env) *cobra.Command {
	return &cobra.Command{Use: "revoke KID", Short: "Revoke an EAB key: its account orders nothing more", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := apiCall(cmd.Context(), e, func(c *adminapi.Client, ctx context.Context) (*server.EABRevocation, error) {
				return c.RevokeEAB(ctx, args[0])
			})
			if err != nil {
				return err
			}
			if e.jsonOut {
				return printJSON(e.stdout, r)
			}
			fmt.Fprintf(e.stdout, "EAB key %s revoked\n", r.KID)
			return nil
		}}
}
