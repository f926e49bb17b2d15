package main

import (
	"context"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/sceau/sceau/internal/access"
	"github.com/sceau/sceau/internal/adminapi"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/server"
)

// A Security Officer's single-person actions on an account (ROLE-4):
// change, suspend, resume, delete, and personal admin client certificates.

func newAccountSetCmd(e *env) *cobra.Command {
	var fullName string
	var yes *yesFlag
	cmd := &cobra.Command{
		Use:   "set NAME --full-name \"First Last\" --yes",
		Short: "Change an account's full name (Security Officer)",
		Long:  `set changes the full name of the account NAME. The change, with the old and new values, is an audit event (account.changed).`,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if fullName == "" {
				return sceau.Errorf(sceau.Invalid, "account set", "--full-name is required")
			}
			if yes.dryRun(e, "set the full name of %s to %q", args[0], fullName) {
				return nil
			}
			a, err := apiCall(cmd.Context(), e, func(c *adminapi.Client, ctx context.Context) (*access.Account, error) {
				return c.ChangeAccount(ctx, args[0], server.AccountChange{FullName: fullName})
			})
			if err != nil {
				return err
			}
			if e.jsonOut {
				return printJSON(e.stdout, a)
			}
			printAccount(e.stdout, a)
			return nil
		},
	}
	cmd.Flags().StringVar(&fullName, "full-name", "", "the person's name")
	cmd.Flags().StringVar(&fullName, "display-name", "", "same as --full-name")
	yes = addYes(cmd, "do it")
	return cmd
}

// accountStatusVerbs describe suspend, resume and delete.
var accountStatusVerbs = map[string]struct {
	short, long string
	call        func(c *adminapi.Client, ctx context.Context, name, reason string) (*access.Account, error)
	needsReason bool
}{
	"suspend": {"Suspend an account at once (Security Officer); its sessions end",
		`suspend disables the account NAME from its next request on (ROLE-4): its sessions
end, its password and its certificates authenticate nobody, and the requests
under dual control it made fail if approved later. Its roles and records stay.
One Security Officer may do it alone: it only ever removes rights. The last
active Security Officer cannot be suspended. 'sceau account resume' undoes it.`,
		(*adminapi.Client).SuspendAccount, true},
	"resume": {"Reactivate a suspended account (another Security Officer)",
		`resume reactivates the suspended account NAME. A person cannot resume themself.
Sessions ended by the suspension stay ended: the person logs in again.`,
		(*adminapi.Client).ResumeAccount, false},
	"delete": {"Disable an account for good (Security Officer); history is kept",
		`delete disables the account NAME for good. Nothing is erased: the account, its
personnel record and every journal event stay. Its password and TOTP secret
are dropped, its sessions end, its certificates are revoked and its roles are
closed (role.removed). The last active Security Officer cannot be deleted.`,
		(*adminapi.Client).DeleteAccount, true},
}

func newAccountStatusCmd(e *env, verb string) *cobra.Command {
	v := accountStatusVerbs[verb]
	var reason string
	var yes *yesFlag
	cmd := &cobra.Command{
		Use:   verb + " NAME --reason WHY --yes",
		Short: v.short,
		Long:  v.long,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if v.needsReason && reason == "" {
				return sceau.Errorf(sceau.Invalid, "account "+verb, "--reason is required (it is recorded in the journal)")
			}
			if yes.dryRun(e, "%s the account %s", verb, args[0]) {
				return nil
			}
			a, err := apiCall(cmd.Context(), e, func(c *adminapi.Client, ctx context.Context) (*access.Account, error) {
				return v.call(c, ctx, args[0], reason)
			})
			if err != nil {
				return err
			}
			if e.jsonOut {
				return printJSON(e.stdout, a)
			}
			fmt.Fprintf(e.stdout, "Account %s is %s.\n", a.Name, a.Status)
			return nil
		},
	}
	cmd.Flags().StringVar(&reason, "reason", "", "why (recorded in the journal)")
	yes = addYes(cmd, "do it")
	return cmd
}

func newAccountCertCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "cert",
		Short: "Personal admin client certificates: issue, list, revoke (Security Officer, ROLE-4)",
		Long: `A personal client certificate from the installation's admin CA, bound to a
person's account, stands in for their password and TOTP code (ROLE-4). The key
is made here, on the person's machine, and never crosses the API: the command
sends a certificate request and writes the key and the certificate it gets
back. The person then uses them with
  SCEAU_CLIENT_CERT=DIR/NAME.pem SCEAU_CLIENT_KEY=DIR/NAME-key.pem sceau ...
A Security Officer issues one for someone else, never for themself. A revoked
certificate is refused on its next request.`,
	}
	var (
		outDir   string
		validity time.Duration
		yes      *yesFlag
	)
	issue := &cobra.Command{
		Use:   "issue NAME --out DIR --yes",
		Short: "Make a key and have the admin CA certify it for NAME",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := args[0]
			if err := access.CheckAccountName(name); err != nil {
				return err
			}
			if outDir == "" {
				return sceau.Errorf(sceau.Invalid, "account cert issue", "--out DIR is required")
			}
			if err := access.CheckPersonalFiles(outDir, name); err != nil {
				return err
			}
			certPath, keyPath, _ := access.PersonalFiles(outDir, name)
			if yes.dryRun(e, "make a key in %s and have a personal admin certificate issued for %s", keyPath, name) {
				return nil
			}
			_, c, err := loadClient(e)
			if err != nil {
				return err
			}
			key, err := access.NewPersonalKey(name)
			if err != nil {
				return err
			}
			req := server.PersonalCertRequest{CSR: key.CSR}
			if validity > 0 {
				req.Validity = validity.String()
			}
			ic, err := c.IssueAccountCertificate(cmd.Context(), name, req)
			if err != nil {
				return err
			}
			if err := key.Write(outDir, ic); err != nil {
				return err
			}
			if e.jsonOut {
				return printJSON(e.stdout, ic.BoundCertificate)
			}
			fmt.Fprintf(e.stdout, "Issued certificate %s for %s, valid until %s.\n  certificate: %s\n  key:         %s (mode 0600: hand it to %s only)\n",
				ic.Serial, name, ic.NotAfter.Local().Format(time.DateTime), certPath, keyPath, name)
			fmt.Fprintf(e.stdout, "Use it: SCEAU_CLIENT_CERT=%s SCEAU_CLIENT_KEY=%s sceau whoami\n", certPath, keyPath)
			return nil
		},
	}
	issue.Flags().StringVar(&outDir, "out", "", "directory for NAME.pem and NAME-key.pem (never overwritten)")
	issue.Flags().DurationVar(&validity, "validity", 0, "lifetime, e.g. 2160h (default 1 year, at most 397 days)")
	yes = addYes(issue, "do it")

	list := &cobra.Command{
		Use:   "list NAME",
		Short: "List the admin certificates bound to NAME, revoked ones too",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			list, printed, err := fetch(cmd.Context(), e, func(c *adminapi.Client, ctx context.Context) ([]access.BoundCertificate, error) {
				return c.AccountCertificates(ctx, args[0])
			})
			if err != nil || printed {
				return err
			}
			tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "SERIAL\tSHA-256\tNOT AFTER\tBOUND BY\tSTATE")
			for _, c := range list {
				state := "valid"
				if c.RevokedAt != nil {
					state = "revoked " + c.RevokedAt.Local().Format(time.DateTime) + " by " + c.RevokedBy
				} else if time.Now().After(c.NotAfter) {
					state = "expired"
				}
				serial := c.Serial
				if serial == "" {
					serial = "-"
				}
				fmt.Fprintf(tw, "%s\t%s…\t%s\t%s\t%s\n", serial, c.SHA256[:16], c.NotAfter.Local().Format(time.DateOnly), c.BoundBy, state)
			}
			return tw.Flush()
		},
	}
	var reason string
	var yesRevoke *yesFlag
	revoke := &cobra.Command{
		Use:   "revoke NAME SERIAL --reason WHY --yes",
		Short: "Revoke a personal admin certificate (by serial or SHA-256); refused from its next request",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if yesRevoke.dryRun(e, "revoke certificate %s of %s", args[1], args[0]) {
				return nil
			}
			bc, err := apiCall(cmd.Context(), e, func(c *adminapi.Client, ctx context.Context) (*access.BoundCertificate, error) {
				return c.RevokeAccountCertificate(ctx, args[0], args[1], reason)
			})
			if err != nil {
				return err
			}
			if e.jsonOut {
				return printJSON(e.stdout, bc)
			}
			fmt.Fprintf(e.stdout, "Revoked certificate %s of %s; it is refused from its next request.\n", args[1], args[0])
			return nil
		},
	}
	revoke.Flags().StringVar(&reason, "reason", "", "why (recorded in the journal)")
	yesRevoke = addYes(revoke, "do it")
	cmd.AddCommand(issue, list, revoke)
	return cmd
}
