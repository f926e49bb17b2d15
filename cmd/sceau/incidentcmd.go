package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/sceau/sceau/internal/adminapi"
	"github.com/sceau/sceau/internal/incident"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/server"
)

func newIncidentCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{Use: "incident", Short: "The incident register: open, note, close, list, show (INC-1, INC-4)",
		Long: `The incident register (docs/incident.md), and the weak-algorithm procedure
(INC-3). Whoever notices an incident opens it at
once; the Security Officers and the configured partners are told by mail, signed
webhook and syslog, each notification retried until delivered. A major incident
owes notifications to the supervisory authority and the conformity assessment
body within 24 hours of its detection, and starts the compromise procedure;
'incident list' shows what is due and what is OVERDUE.`}
	cmd.AddCommand(newIncidentOpenCmd(e), newIncidentNoteCmd(e), newIncidentEscalateCmd(e), newIncidentCloseCmd(e), newIncidentListCmd(e),
		newIncidentShowCmd(e), newIncidentStatusCmd(e), newIncidentObligationCmd(e),
		newWeakAlgorithmCmd(e)) // INC-3 (weakalgcmd.go)
	cmd.PersistentFlags().BoolVar(&e.jsonOut, "json", false, "print JSON")
	return cmd
}

func incidentArg(s string) (int64, error) {
	id, err := strconv.ParseInt(strings.TrimPrefix(s, "#"), 10, 64)
	if err != nil || id <= 0 {
		return 0, sceau.Errorf(sceau.Invalid, "incident", "%q is not an incident number", s)
	}
	return id, nil
}

func newIncidentOpenCmd(e *env) *cobra.Command {
	var req server.OpenIncidentRequest
	var detected string
	cmd := &cobra.Command{
		Use:   "open",
		Short: "Open an incident and notify the Security Officers",
		Long: `open records an incident and tells the Security Officers and partners at once
(incident.security_officers, incident.partners, webhook, syslog); it prints
what was delivered and what will be retried.

Kinds: key-loss, suspected-compromise, theft, weak-algorithm, outage, other.
Severities: minor, moderate, major. A major incident owes notifications to the
supervisory authority and the conformity assessment body within 24 hours of
--detected-at (INC-4), and starts the compromise procedure.

Example:
  sceau incident open --kind suspected-compromise --severity major \
    --title "Issuing CA key may have leaked" --detected-at 2026-12-07T02:13:00Z \
    --description "HSM audit log shows signatures we did not make"`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if detected != "" {
				t, err := parseWhen(detected)
				if err != nil {
					return err
				}
				req.DetectedAt = t.UTC().Format(time.RFC3339)
			}
			in, err := apiCall(cmd.Context(), e, func(c *adminapi.Client, ctx context.Context) (*incident.Incident, error) {
				return c.IncidentOpen(ctx, req)
			})
			if err != nil {
				return err
			}
			if e.jsonOut {
				return printJSON(e.stdout, in)
			}
			w := e.stdout
			fmt.Fprintf(w, "Incident %d opened: %s %s: %s (detected %s)\n", in.ID, strings.ToUpper(string(in.Severity)), in.Kind, in.Title,
				in.DetectedAt.Format(time.RFC3339))
			printNotifications(w, in.Notifications)
			if len(in.Notifications) == 0 {
				fmt.Fprintln(w, "WARNING: no one was notified: set incident.security_officers and incident.smtp (docs/incident.md)")
			}
			printObligations(w, in.Obligations, time.Now())
			for _, n := range in.Timeline {
				if strings.HasPrefix(n.Text, "compromise procedure:") {
					fmt.Fprintf(w, "Major incident: %s\n", n.Text)
				}
			}
			fmt.Fprintf(w, "Add what you see and do: sceau incident note %d \"…\" [--action]\n", in.ID)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&req.Kind, "kind", "", "key-loss, suspected-compromise, theft, weak-algorithm, outage or other")
	f.StringVar(&req.Severity, "severity", "", "minor, moderate or major")
	f.StringVar(&req.Title, "title", "", "what happened, in a line")
	f.StringVar(&req.Description, "description", "", "what is known so far")
	f.StringVar(&detected, "detected-at", "", "when it was detected (RFC 3339 or 2026-12-07); default now")
	_ = cmd.MarkFlagRequired("kind")
	_ = cmd.MarkFlagRequired("severity")
	_ = cmd.MarkFlagRequired("title")
	return cmd
}

func newIncidentNoteCmd(e *env) *cobra.Command {
	var action bool
	cmd := &cobra.Command{
		Use:   "note ID TEXT…",
		Short: "Add a note, or an action taken (--action), to an open incident's timeline",
		Args:  cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := incidentArg(args[0])
			if err != nil {
				return err
			}
			kind := incident.NoteText
			if action {
				kind = incident.NoteAction
			}
			n, err := apiCall(cmd.Context(), e, func(c *adminapi.Client, ctx context.Context) (*incident.Note, error) {
				return c.IncidentNote(ctx, id, kind, strings.Join(args[1:], " "))
			})
			if err != nil {
				return err
			}
			if e.jsonOut {
				return printJSON(e.stdout, n)
			}
			fmt.Fprintf(e.stdout, "Incident %d: %s recorded at %s by %s\n", id, n.Kind, n.At.Format(time.RFC3339), n.Author)
			return nil
		},
	}
	cmd.Flags().BoolVar(&action, "action", false, "an action taken (revoked, deactivated, isolated…), not a note")
	return cmd
}

func newIncidentCloseCmd(e *env) *cobra.Command {
	var closure string
	cmd := &cobra.Command{
		Use:   "close ID",
		Short: "Close an incident with what was found and done (Security Officer)",
		Long: `close closes an open incident with its closure. A major incident is closed only
once its notifications to the authorities are recorded done ('incident
obligation done'). A closed incident is final.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := incidentArg(args[0])
			if err != nil {
				return err
			}
			in, err := apiCall(cmd.Context(), e, func(c *adminapi.Client, ctx context.Context) (*incident.Incident, error) {
				return c.IncidentClose(ctx, id, closure)
			})
			if err != nil {
				return err
			}
			if e.jsonOut {
				return printJSON(e.stdout, in)
			}
			fmt.Fprintf(e.stdout, "Incident %d closed at %s by %s, %s after its detection\n", in.ID, in.ClosedAt.Format(time.RFC3339), in.ClosedBy,
				in.ClosedAt.Sub(in.DetectedAt).Round(time.Minute))
			return nil
		},
	}
	cmd.Flags().StringVar(&closure, "closure", "", "what was found and done")
	_ = cmd.MarkFlagRequired("closure")
	return cmd
}

func newIncidentListCmd(e *env) *cobra.Command {
	var all bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the open incidents (--all: closed ones too); overdue notifications first and marked",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			l, printed, err := fetch(cmd.Context(), e, func(c *adminapi.Client, ctx context.Context) (*server.IncidentList, error) {
				return c.IncidentList(ctx, all, 0)
			})
			if err != nil || printed {
				return err
			}
			if len(l.Incidents) == 0 {
				fmt.Fprintln(e.stdout, "No open incident.")
				return nil
			}
			overdue := 0
			tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "\tID\tSTATUS\tSEVERITY\tKIND\tDETECTED\tOWED TO AUTHORITIES\tUNDELIVERED\tTITLE")
			for _, pass := range []bool{true, false} { // overdue first
				for _, in := range l.Incidents {
					if in.Overdue != pass {
						continue
					}
					mark := ""
					if in.Overdue {
						mark, overdue = "!!", overdue+1
					}
					fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\t%s\t%d\t%s\n", mark, in.ID, in.Status, in.Severity, in.Kind,
						in.DetectedAt.Format(time.DateTime), owed(in, l.Now), in.Undelivered, in.Title)
				}
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			if overdue > 0 {
				fmt.Fprintf(e.stdout, "\n!! %d incident(s) with a notification to an authority OVERDUE (INC-4): make it, then 'sceau incident obligation done ID KIND --reference …'\n", overdue)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&all, "all", false, "closed incidents too")
	return cmd
}

// owed says what an incident still owes the authorities, at now.
func owed(in incident.Summary, now time.Time) string {
	if len(in.Obligations) == 0 {
		return "-"
	}
	pending := 0
	for _, o := range in.Obligations {
		if !o.Done() {
			pending++
		}
	}
	switch {
	case pending == 0:
		return "done"
	case in.Overdue:
		return fmt.Sprintf("OVERDUE by %s (%d)", now.Sub(in.NextDue).Round(time.Minute), pending)
	default:
		return fmt.Sprintf("due in %s (%d)", in.NextDue.Sub(now).Round(time.Minute), pending)
	}
}

func newIncidentShowCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "show ID",
		Short: "Show an incident: its obligations, notifications and timeline",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := incidentArg(args[0])
			if err != nil {
				return err
			}
			in, printed, err := fetch(cmd.Context(), e, func(c *adminapi.Client, ctx context.Context) (*incident.Incident, error) {
				return c.IncidentShow(ctx, id)
			})
			if err != nil || printed {
				return err
			}
			w := e.stdout
			fmt.Fprintf(w, "Incident %d (%s): %s\n", in.ID, in.Status, in.Title)
			fmt.Fprintf(w, "  kind %s, severity %s\n  detected %s, opened %s by %s\n", in.Kind, in.Severity,
				in.DetectedAt.Format(time.RFC3339), in.OpenedAt.Format(time.RFC3339), in.OpenedBy)
			if in.Description != "" {
				fmt.Fprintf(w, "  %s\n", in.Description)
			}
			if in.Status == incident.StatusClosed {
				fmt.Fprintf(w, "  closed %s by %s: %s\n", in.ClosedAt.Format(time.RFC3339), in.ClosedBy, in.Closure)
			}
			printObligations(w, in.Obligations, time.Now())
			printNotifications(w, in.Notifications)
			fmt.Fprintln(w, "Timeline:")
			for _, n := range in.Timeline {
				fmt.Fprintf(w, "  %s  %-6s  %s: %s\n", n.At.Format(time.RFC3339), n.Kind, n.Author, n.Text)
			}
			return nil
		},
	}
}

func printObligations(w io.Writer, obs []incident.Obligation, now time.Time) {
	if len(obs) == 0 {
		return
	}
	fmt.Fprintln(w, "Owed within 24 hours of detection (INC-4):")
	for _, o := range obs {
		var state string
		switch {
		case o.Done():
			state = fmt.Sprintf("done %s by %s, reference %s", o.DoneAt.Format(time.RFC3339), o.DoneBy, o.Reference)
		case o.Overdue(now):
			state = fmt.Sprintf("!! OVERDUE: was due %s, %s ago", o.DueAt.Format(time.RFC3339), now.Sub(o.DueAt).Round(time.Minute))
		default:
			state = fmt.Sprintf("due %s, in %s", o.DueAt.Format(time.RFC3339), o.DueAt.Sub(now).Round(time.Minute))
		}
		fmt.Fprintf(w, "  notify %-33s %s\n", o.Kind.Title()+":", state)
	}
}

func printNotifications(w io.Writer, ns []incident.Notification) {
	if len(ns) == 0 {
		return
	}
	fmt.Fprintln(w, "Notifications:")
	for _, n := range ns {
		state := fmt.Sprintf("delivered %s", n.DeliveredAt.Format(time.RFC3339))
		if !n.Delivered() {
			state = fmt.Sprintf("NOT DELIVERED after %d attempt(s), next try %s: %s", n.Attempts, n.NextTry.Format(time.RFC3339), n.LastError)
		}
		fmt.Fprintf(w, "  %-8s %-8s %s  %s\n", n.Event, n.Channel, n.Recipient, state)
	}
}

func newIncidentStatusCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "status",
		Short: "Count open incidents, notifications owed to authorities and undelivered notifications",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			st, printed, err := fetch(cmd.Context(), e, func(c *adminapi.Client, ctx context.Context) (*incident.Status, error) {
				return c.IncidentStatus(ctx)
			})
			if err != nil || printed {
				return err
			}
			fmt.Fprintf(e.stdout, "Open incidents: %d\nNotifications owed to authorities: %d (%d overdue)\nUndelivered notifications: %d\n",
				st.Open, st.Obligations, st.Overdue, st.Undelivered)
			if !st.NextDue.IsZero() {
				fmt.Fprintf(e.stdout, "Next due: %s\n", st.NextDue.Format(time.RFC3339))
			}
			return nil
		},
	}
}

func newIncidentObligationCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{Use: "obligation", Short: "The notifications a major incident owes the authorities (INC-4)"}
	var reference string
	done := &cobra.Command{
		Use:   "done ID KIND",
		Short: "Record that the notification to an authority was made (Security Officer)",
		Long: `done records that incident ID's notification to KIND was made, with its
reference (the authority's acknowledgement, a ticket or registered-mail number).
KIND: supervisory-authority or conformity-body.

Example:
  sceau incident obligation done 3 supervisory-authority --reference "ticket 2026-4411"`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := incidentArg(args[0])
			if err != nil {
				return err
			}
			kind, err := incident.ParseObligationKind(args[1])
			if err != nil {
				return err
			}
			o, err := apiCall(cmd.Context(), e, func(c *adminapi.Client, ctx context.Context) (*incident.Obligation, error) {
				return c.IncidentObligationDone(ctx, id, kind, reference)
			})
			if err != nil {
				return err
			}
			if e.jsonOut {
				return printJSON(e.stdout, o)
			}
			late := "on time"
			if o.DoneAt.After(o.DueAt) {
				late = fmt.Sprintf("%s late", o.DoneAt.Sub(o.DueAt).Round(time.Minute))
			}
			fmt.Fprintf(e.stdout, "Incident %d: notification to %s recorded done (reference %s), %s\n", id, kind.Title(), o.Reference, late)
			return nil
		},
	}
	done.Flags().StringVar(&reference, "reference", "", "the acknowledgement, ticket or registered-mail number")
	_ = done.MarkFlagRequired("reference")
	cmd.AddCommand(done)
	return cmd
}

func newIncidentEscalateCmd(e *env) *cobra.Command {
	var severity, reason string
	cmd := &cobra.Command{
		Use:   "escalate ID --severity S --reason TEXT",
		Short: "Raise an open incident's severity; to major, its 24-hour obligations start from the detection",
		Long: `escalate raises an open incident's severity (never lowers it), with what was
learnt. Raised to major, the incident owes its notifications to the supervisory
authority and the conformity assessment body 24 hours after its detection (not
after the escalation: they may be due soon, or overdue already), and the
compromise procedure must be started. The recipients are told.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := incidentArg(args[0])
			if err != nil {
				return err
			}
			in, err := apiCall(cmd.Context(), e, func(c *adminapi.Client, ctx context.Context) (*incident.Incident, error) {
				return c.IncidentEscalate(ctx, id, incident.Severity(severity), reason)
			})
			if err != nil {
				return err
			}
			if e.jsonOut {
				return printJSON(e.stdout, in)
			}
			fmt.Fprintf(e.stdout, "Incident %d is now %s\n", in.ID, strings.ToUpper(string(in.Severity)))
			printObligations(e.stdout, in.Obligations, time.Now())
			var last []incident.Notification
			for _, n := range in.Notifications {
				if n.Event == "escalated" {
					last = append(last, n)
				}
			}
			printNotifications(e.stdout, last)
			return nil
		},
	}
	cmd.Flags().StringVar(&severity, "severity", "", "moderate or major")
	cmd.Flags().StringVar(&reason, "reason", "", "what was learnt")
	_ = cmd.MarkFlagRequired("severity")
	_ = cmd.MarkFlagRequired("reason")
	return cmd
}
