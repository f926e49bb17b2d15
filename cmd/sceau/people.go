package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/sceau/sceau/internal/access"
	"github.com/sceau/sceau/internal/adminapi"
	"github.com/sceau/sceau/internal/config"
	"github.com/sceau/sceau/internal/node"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/server"
)

func newAccountCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "account",
		Short: "Accounts of trusted people: create, show, suspend, delete, admin certificates (ROLE-4)",
		Long: `Every person who operates Sceau has an account. A Security Officer creates it
(with no role), hands the person their initial password and TOTP secret, and
grants roles with 'sceau role grant' under dual control. See docs/roles.md.`,
	}
	cmd.PersistentFlags().BoolVar(&e.jsonOut, "json", false, "print JSON")
	cmd.AddCommand(newAccountCreateCmd(e), newAccountShowCmd(e), newAccountListCmd(e), newAccountPasswdCmd(e), newAccountRecoverCmd(e),
		newAccountSetCmd(e), newAccountStatusCmd(e, "suspend"), newAccountStatusCmd(e, "resume"), newAccountStatusCmd(e, "delete"),
		newAccountCertCmd(e))
	return cmd
}

func newAccountCreateCmd(e *env) *cobra.Command {
	var (
		fullName string
		yes      *yesFlag
	)
	cmd := &cobra.Command{
		Use:   "create NAME --full-name \"First Last\" --yes",
		Short: "Create a person's account (Security Officer); prints their initial credentials once",
		Long: `create makes the account NAME, without any role, and prints once its initial
password (to change at first login) and TOTP secret (to enrol in an
authenticator app). Hand them to the person in person. Account creation is an
audit event.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if fullName == "" {
				return sceau.Errorf(sceau.Invalid, "account create", "--full-name is required")
			}
			if yes.dryRun(e, "create the account %s (%s), without roles", args[0], fullName) {
				return nil
			}
			creds, err := apiCall(cmd.Context(), e, func(c *adminapi.Client, ctx context.Context) (*access.Credentials, error) {
				return c.CreateAccount(ctx, server.NewAccount{Name: args[0], FullName: fullName})
			})
			if err != nil {
				return err
			}
			if e.jsonOut {
				return printJSON(e.stdout, creds)
			}
			fmt.Fprintf(e.stdout, "Created the account %s. Its credentials, shown once:\n", creds.Account)
			node.WriteCredentials(e.stdout, node.Person{Credentials: *creds})
			fmt.Fprintf(e.stdout, "\nGrant a role: sceau role grant %s ROLE --yes (then two approvals)\n", creds.Account)
			return nil
		},
	}
	cmd.Flags().StringVar(&fullName, "full-name", "", "the person's name")
	yes = addYes(cmd, "do it")
	return cmd
}

func newAccountShowCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "show NAME",
		Short: "Show an account: roles, authentication, lock",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			a, printed, err := fetch(cmd.Context(), e, func(c *adminapi.Client, ctx context.Context) (*access.Account, error) {
				return c.Account(ctx, args[0])
			})
			if err != nil || printed {
				return err
			}
			printAccount(e.stdout, a)
			return nil
		},
	}
}

func printAccount(w io.Writer, a *access.Account) {
	fmt.Fprintf(w, "Account:   %s\nName:      %s\nRoles:     %s\n", a.Name, a.FullName, roleTitles(a.Roles))
	auth := []string{}
	if a.Password {
		auth = append(auth, "password")
	}
	if a.TOTP {
		auth = append(auth, "TOTP")
	}
	for _, c := range a.Certificates {
		if c.RevokedAt == nil {
			auth = append(auth, "certificate "+c.SHA256[:16]+"…")
		}
	}
	fmt.Fprintf(w, "Auth:      %s\n", strings.Join(auth, ", "))
	if a.MustChangePassword {
		fmt.Fprintln(w, "Password:  initial, not yet changed")
	}
	if a.LockedUntil != nil {
		fmt.Fprintf(w, "Locked:    until %s\n", a.LockedUntil.Local().Format(time.DateTime))
	}
	if a.Status != "" && a.Status != access.AccountActive {
		fmt.Fprintf(w, "Status:    %s (%s)\n", a.Status, a.StatusReason)
	}
	fmt.Fprintf(w, "Created:   %s by %s\n", a.CreatedAt.Local().Format(time.DateTime), a.CreatedBy)
}

func newAccountListCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List the accounts with their roles",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			list, printed, err := fetch(cmd.Context(), e, (*adminapi.Client).Accounts)
			if err != nil || printed {
				return err
			}
			tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ACCOUNT\tNAME\tROLES\tSTATE")
			for _, a := range list {
				state := "active"
				if a.Status != "" && a.Status != access.AccountActive {
					state = a.Status
				} else if a.LockedUntil != nil {
					state = "locked"
				} else if a.MustChangePassword {
					state = "initial password"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", a.Name, a.FullName, roleTitles(a.Roles), state)
			}
			return tw.Flush()
		},
	}
}

func newAccountPasswdCmd(e *env) *cobra.Command {
	var currentFile, newFile string
	cmd := &cobra.Command{
		Use:   "passwd",
		Short: "Change your password (you must be logged in with it)",
		Long: `passwd replaces the password of the person logged in at this terminal. The new
one has at least 12 characters, does not contain the account name and is not
a common password (PUB-4). Your other sessions end.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			_, c, err := loadClient(e)
			if err != nil {
				return err
			}
			cur, err := secretFrom(currentFile, "Current password: ", e)
			if err != nil {
				return err
			}
			defer clear(cur)
			next, err := secretFrom(newFile, "New password: ", e)
			if err != nil {
				return err
			}
			defer clear(next)
			if newFile == "" {
				again, err := readSecret("New password again: ", e.stdout)
				if err != nil {
					return err
				}
				same := string(again) == string(next)
				clear(again)
				if !same {
					return sceau.Errorf(sceau.Invalid, "account passwd", "the two new passwords differ")
				}
			}
			if err := c.ChangePassword(cmd.Context(), server.PasswordChange{Current: string(cur), New: string(next)}); err != nil {
				return err
			}
			fmt.Fprintln(e.stdout, "Password changed; your other sessions have ended.")
			return nil
		},
	}
	cmd.Flags().StringVar(&currentFile, "password-file", "", "read the current password from FILE")
	cmd.Flags().StringVar(&newFile, "new-password-file", "", "read the new password from FILE")
	return cmd
}

func secretFrom(file, prompt string, e *env) ([]byte, error) {
	if file == "" {
		return readSecret(prompt, e.stdout)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, sceau.E(sceau.Invalid, "prompt", "cannot read "+file, err)
	}
	return trimNewline(b), nil
}

func newAccountRecoverCmd(e *env) *cobra.Command {
	var (
		witnesses []string
		yes       *yesFlag
	)
	cmd := &cobra.Command{
		Use:   "recover NAME --witness A --witness B --yes",
		Short: "Recovery, on the CA machine: new initial password and TOTP for an account",
		Long: `recover is the break-glass path of docs/roles.md, for when a person (typically
the last Security Officer able to log in) has lost their password or their
TOTP device. It runs on the installation itself with direct access to its
database, not through the admin API: whoever runs it already holds the data
directory. It gives NAME a new initial password and TOTP secret, printed once,
unlocks the account and ends its sessions. It changes no role. The two
witnesses' names are recorded with the event in the audit journal.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(witnesses) < 2 {
				return sceau.Errorf(sceau.Invalid, "account recover", "name two witnesses with --witness")
			}
			if yes.dryRun(e, "give %s a new initial password and TOTP secret, witnessed by %s", args[0], strings.Join(witnesses, ", ")) {
				return nil
			}
			cfg, err := config.Load(e.configPath)
			if err != nil {
				return err
			}
			p, err := node.RecoverAccount(cmd.Context(), cfg, localActor("recovery"), args[0], witnesses)
			if err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "Recovered %s. New credentials, shown once:\n", args[0])
			node.WriteCredentials(e.stdout, *p)
			return nil
		},
	}
	cmd.Flags().StringArrayVar(&witnesses, "witness", nil, "name of a witness (two needed)")
	yes = addYes(cmd, "do it")
	return cmd
}

func newRoleCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "role",
		Short: "Grant and remove trusted roles, under dual control (ROLE-2, ROLE-3)",
		Long: `A Security Officer requests a role grant or removal; it takes effect once
two other people holding the Security Officer or System Auditor role have
approved it ('sceau approval approve'). A grant that breaks separation of
duties is refused (a Security Officer, an Auditor and a Registration &
Revocation Officer hold no other role; System Administrator and System
Operator may be combined, and nothing else added). A removal takes effect on
the person's next request.`,
	}
	cmd.PersistentFlags().BoolVar(&e.jsonOut, "json", false, "print JSON")
	cmd.AddCommand(newRoleChangeCmd(e, true), newRoleChangeCmd(e, false), &cobra.Command{
		Use:   "list",
		Short: "List the trusted roles",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			for _, r := range access.Roles {
				fmt.Fprintf(e.stdout, "%-26s %s\n", r, r.Title())
			}
			return nil
		},
	})
	return cmd
}

func newRoleChangeCmd(e *env, grant bool) *cobra.Command {
	var yes *yesFlag
	verb := "remove"
	if grant {
		verb = "grant"
	}
	cmd := &cobra.Command{
		Use:   verb + " ACCOUNT ROLE --yes",
		Short: "Request that ACCOUNT be " + map[bool]string{true: "granted", false: "removed"}[grant] + " ROLE (Security Officer; needs approvals)",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			role, err := access.ParseRole(args[1])
			if err != nil {
				return err
			}
			if yes.dryRun(e, "request to %s the role %s (%s) %s %s, for approval",
				verb, role, role.Title(), map[bool]string{true: "to", false: "from"}[grant], args[0]) {
				return nil
			}
			_, c, err := loadClient(e)
			if err != nil {
				return err
			}
			change := c.RemoveRole
			if grant {
				change = c.GrantRole
			}
			rq, err := change(cmd.Context(), args[0], string(role))
			if err != nil {
				return err
			}
			if e.jsonOut {
				return printJSON(e.stdout, rq)
			}
			fmt.Fprintf(e.stdout, "Request %s: %s %s %s. It needs %d approvals before %s.\nApprovers run: sceau approval approve %s --yes\n",
				rq.ID, rq.Action, role, args[0], rq.Required, rq.ExpiresAt.Local().Format(time.DateTime), rq.ID)
			return nil
		},
	}
	yes = addYes(cmd, "make the request")
	return cmd
}

func newApprovalCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "approval",
		Short: "List, approve and reject requests under dual control (ROLE-3)",
		Long: `Sensitive actions (role grants and removals; key backup, import and
destruction; CA creation and termination; mass revocation; changes to
published documents) wait as requests until enough distinct people holding an
approver role approve them. The requester never counts; a person counts once,
whatever their sessions; one rejection ends the request; requests expire.`,
	}
	cmd.PersistentFlags().BoolVar(&e.jsonOut, "json", false, "print JSON")
	var status string
	list := &cobra.Command{
		Use:   "list",
		Short: "List requests (pending by default)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if status == "all" {
				status = ""
			}
			rqs, printed, err := fetch(cmd.Context(), e, func(c *adminapi.Client, ctx context.Context) ([]*access.Request, error) {
				return c.Approvals(ctx, status, 0)
			})
			if err != nil || printed {
				return err
			}
			tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tACTION\tRESOURCE\tPAYLOAD\tREQUESTER\tAPPROVALS\tSTATUS\tEXPIRES")
			for _, r := range rqs {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d/%d\t%s\t%s\n", r.ID, r.Action, r.Resource, r.Payload, r.Requester,
					r.Approvals, r.Required, r.Status, r.ExpiresAt.Local().Format(time.DateTime))
			}
			return tw.Flush()
		},
	}
	list.Flags().StringVar(&status, "status", "pending", "pending, executed, rejected, expired, failed or all")
	show := &cobra.Command{
		Use:   "show ID",
		Short: "Show a request and its votes",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			r, printed, err := fetch(cmd.Context(), e, func(c *adminapi.Client, ctx context.Context) (*access.Request, error) {
				return c.Approval(ctx, args[0])
			})
			if err != nil || printed {
				return err
			}
			printRequest(e.stdout, r)
			return nil
		},
	}
	cmd.AddCommand(list, show, newVoteCmd(e, true), newVoteCmd(e, false))
	return cmd
}

func printRequest(w io.Writer, r *access.Request) {
	fmt.Fprintf(w, "Request:   %s\nAction:    %s on %s\nPayload:   %s\nRequester: %s (%s)\nStatus:    %s, %d of %d approvals\nExpires:   %s\n",
		r.ID, r.Action, r.Resource, r.Payload, r.Requester, r.RequesterRole.Title(), r.Status, r.Approvals, r.Required,
		r.ExpiresAt.Local().Format(time.DateTime))
	for _, v := range r.Votes {
		fmt.Fprintf(w, "  %s  %-7s by %s (%s) %s\n", v.At.Local().Format(time.DateTime), v.Vote, v.Account, v.Role.Title(), v.Reason)
	}
	if r.Result != "" {
		fmt.Fprintf(w, "Result:    %s\n", r.Result)
	}
}

func newVoteCmd(e *env, approve bool) *cobra.Command {
	var (
		yes    *yesFlag
		reason string
	)
	verb := map[bool]string{true: "approve", false: "reject"}[approve]
	cmd := &cobra.Command{
		Use:   verb + " ID --yes",
		Short: map[bool]string{true: "Approve a request; the last approval needed executes it", false: "Reject (or, as its requester, withdraw) a request"}[approve],
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			_, c, err := loadClient(e)
			if err != nil {
				return err
			}
			r, err := c.Approval(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if !*yes {
				printRequest(e.stdout, r)
				yes.dryRun(e, "%s this request", verb)
				return nil
			}
			if approve {
				r, err = c.Approve(cmd.Context(), args[0])
			} else {
				r, err = c.Reject(cmd.Context(), args[0], reason)
			}
			if err != nil {
				return err
			}
			if e.jsonOut {
				return printJSON(e.stdout, r)
			}
			switch r.Status {
			case access.StatusExecuted:
				fmt.Fprintf(e.stdout, "Approved; request %s is executed: %s\n", r.ID, r.Result)
			case access.StatusFailed:
				fmt.Fprintf(e.stdout, "Approved, but request %s failed: %s\n", r.ID, r.Result)
			case access.StatusPending:
				fmt.Fprintf(e.stdout, "Approved; request %s has %d of %d approvals.\n", r.ID, r.Approvals, r.Required)
			default:
				fmt.Fprintf(e.stdout, "Request %s is %s.\n", r.ID, r.Status)
			}
			return nil
		},
	}
	yes = addYes(cmd, "vote")
	if !approve {
		cmd.Flags().StringVar(&reason, "reason", "", "why (recorded in the journal)")
	}
	return cmd
}

func newPeopleCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "people",
		Short: "Personnel records: role history, background checks, training (ROLE-6)",
	}
	cmd.PersistentFlags().BoolVar(&e.jsonOut, "json", false, "print JSON")
	show := &cobra.Command{
		Use:   "show [NAME]",
		Short: "Show the personnel record of NAME, or of everyone",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			_, c, err := loadClient(e)
			if err != nil {
				return err
			}
			var recs []*access.PersonRecord
			if len(args) == 1 {
				r, err := c.Person(cmd.Context(), args[0])
				if err != nil {
					return err
				}
				recs = append(recs, r)
			} else if recs, err = c.People(cmd.Context()); err != nil {
				return err
			}
			if e.jsonOut {
				if len(args) == 1 {
					return printJSON(e.stdout, recs[0])
				}
				return printJSON(e.stdout, recs)
			}
			for i, r := range recs {
				if i > 0 {
					fmt.Fprintln(e.stdout)
				}
				printPerson(e.stdout, r)
			}
			return nil
		},
	}
	var (
		kind, date, by, note string
		yes                  *yesFlag
	)
	attest := &cobra.Command{
		Use:   "attest NAME --kind background-check|training --date YYYY-MM-DD --by WHO --yes",
		Short: "Record a background check or a training of a person (Security Officer)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if yes.dryRun(e, "record for %s: %s on %s, attested by %s", args[0], kind, date, by) {
				return nil
			}
			at, err := apiCall(cmd.Context(), e, func(c *adminapi.Client, ctx context.Context) (*access.Attestation, error) {
				return c.Attest(ctx, args[0], server.NewAttestation{Kind: kind, Date: date, AttestedBy: by, Note: note})
			})
			if err != nil {
				return err
			}
			if e.jsonOut {
				return printJSON(e.stdout, at)
			}
			fmt.Fprintf(e.stdout, "Recorded %s of %s on %s (attested by %s).\n", at.Kind, args[0], at.Date, at.AttestedBy)
			return nil
		},
	}
	attest.Flags().StringVar(&kind, "kind", "", "background-check or training")
	attest.Flags().StringVar(&date, "date", "", "when it took place, YYYY-MM-DD")
	attest.Flags().StringVar(&by, "by", "", "who performed or attests it")
	attest.Flags().StringVar(&note, "note", "", "what it covered")
	yes = addYes(attest, "record it")
	cmd.AddCommand(show, attest)
	return cmd
}

func printPerson(w io.Writer, r *access.PersonRecord) {
	fmt.Fprintf(w, "%s — %s (account created %s by %s)\n  Roles now: %s\n", r.Account, r.FullName,
		r.CreatedAt.Local().Format(time.DateOnly), r.CreatedBy, roleTitles(r.Roles))
	for _, a := range r.Assignments {
		line := fmt.Sprintf("  %s  granted %s by %s", a.GrantedAt.Local().Format(time.DateOnly), a.Role.Title(), a.GrantedBy)
		if a.GrantApproval != "" {
			line += " (approval " + a.GrantApproval + ")"
		}
		if a.RemovedAt != nil {
			line += fmt.Sprintf("; removed %s by %s", a.RemovedAt.Local().Format(time.DateOnly), a.RemovedBy)
			if a.RemovalApproval != "" {
				line += " (approval " + a.RemovalApproval + ")"
			}
		}
		fmt.Fprintln(w, line)
	}
	for _, at := range r.Attestations {
		fmt.Fprintf(w, "  %s  %s attested by %s, recorded by %s", at.Date, at.Kind, at.AttestedBy, at.RecordedBy)
		if at.Note != "" {
			fmt.Fprintf(w, ": %s", at.Note)
		}
		fmt.Fprintln(w)
	}
}

// localActor is who the journal names for a command run on the
// installation's files rather than through the admin API: the command and,
// when the shell says, the system user (not authenticated by Sceau).
func localActor(command string) sceau.Actor {
	if u := os.Getenv("USER"); u != "" {
		return sceau.System(command + ":" + u)
	}
	return sceau.System(command)
}
