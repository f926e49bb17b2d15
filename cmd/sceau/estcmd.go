package main

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/sceau/sceau/internal/adminapi"
	"github.com/sceau/sceau/internal/est"
	"github.com/sceau/sceau/internal/server"
)

func newESTCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{Use: "est", Short: "The EST server's credentials (CA-4)"}
	cred := &cobra.Command{Use: "credential", Short: "EST credentials: an EST client enrolls for a validated registration dossier",
		Long: `An EST client (RFC 7030: curl, libest, cert-manager's EST issuers, routers…)
enrolls with simpleenroll, authenticated by HTTP Basic with a user name and a
password that a Registration Officer makes for a validated dossier. The
credential fixes the CA, the profile and the subject: the certificate carries
the dossier's subject and names only, and a CSR naming anything else is
refused. The certificate re-enrolls itself with simplereenroll, presented as
the TLS client certificate. The password is printed once, when the credential
is made, and never journaled: hand it to the applicant by a separate channel.
See docs/est.md.`}
	cred.AddCommand(newESTCredentialCreateCmd(e), newESTCredentialListCmd(e), newESTCredentialRevokeCmd(e))
	cred.PersistentFlags().BoolVar(&e.jsonOut, "json", false, "print JSON")
	cmd.AddCommand(cred)
	return cmd
}

func newESTCredentialCreateCmd(e *env) *cobra.Command {
	var req server.ESTCredentialRequest
	cmd := &cobra.Command{Use: "create", Short: "Make an EST credential for a validated dossier (the password is shown once)", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := apiCall(cmd.Context(), e, func(cl *adminapi.Client, ctx context.Context) (*est.Credential, error) {
				return cl.CreateESTCredential(ctx, req)
			})
			if err != nil {
				return err
			}
			if e.jsonOut {
				return printJSON(e.stdout, c)
			}
			fmt.Fprintf(e.stdout, "EST credential for dossier %d (CA %s, profile %s)\n", c.Dossier, c.CA, c.Profile)
			fmt.Fprintf(e.stdout, "  user name: %s\n  password:  %s\n", c.Username, c.Password)
			fmt.Fprintf(e.stdout, "  enroll at: <enrollment listener>/.well-known/est/%s/simpleenroll\n", c.CA)
			fmt.Fprintln(e.stdout, "The password is not shown again; hand it to the applicant by a separate channel.")
			return nil
		}}
	cmd.Flags().Int64Var(&req.Dossier, "dossier", 0, "the validated dossier's id")
	return cmd
}

func newESTCredentialListCmd(e *env) *cobra.Command {
	return &cobra.Command{Use: "list", Short: "List the EST credentials and the certificates they obtained", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			list, err := apiCall(cmd.Context(), e, func(c *adminapi.Client, ctx context.Context) ([]est.Credential, error) {
				return c.ESTCredentials(ctx)
			})
			if err != nil {
				return err
			}
			if e.jsonOut {
				return printJSON(e.stdout, list)
			}
			tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "USER NAME\tDOSSIER\tCA\tPROFILE\tCERTIFICATES\tCREATED\tBY\tREVOKED")
			for _, c := range list {
				certs, revoked := "-", "-"
				if len(c.Enrollments) > 0 {
					certs = strings.Join(c.Enrollments, ",")
				}
				if c.RevokedAt != nil {
					revoked = c.RevokedAt.Format(time.RFC3339)
				}
				fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\n", c.Username, c.Dossier, c.CA, c.Profile, certs,
					c.CreatedAt.Format(time.RFC3339), c.CreatedBy, revoked)
			}
			return tw.Flush()
		}}
}

func newESTCredentialRevokeCmd(e *env) *cobra.Command {
	return &cobra.Command{Use: "revoke USERNAME", Short: "Revoke an EST credential: it enrolls and re-enrolls nothing more", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := apiCall(cmd.Context(), e, func(c *adminapi.Client, ctx context.Context) (*server.ESTCredentialRevocation, error) {
				return c.RevokeESTCredential(ctx, args[0])
			})
			if err != nil {
				return err
			}
			if e.jsonOut {
				return printJSON(e.stdout, r)
			}
			fmt.Fprintf(e.stdout, "EST credential %s revoked\n", r.Username)
			return nil
		}}
}
