package main

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/sceau/sceau/internal/audit"
	"github.com/sceau/sceau/internal/sceau"
)

func newAuditRecordCmd(e *env, m *auditMode) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "record KIND",
		Short: "Enter an event that happened outside the software (physical access, maintenance, …)",
		Long: `record enters in the journal an event that Sceau cannot see (AUD-1): a physical
access to a protected area, a maintenance action, the destruction of a medium,
the start or stop of a host. The event is hash-chained and signed like any
other; it cannot be changed or removed afterwards, so the command shows what it
will record and records only with --yes.

Logged in ('sceau login', or --api with a personal client certificate), the
event goes through the admin API and names you: your account and the role
under which the access matrix lets you enter it (Security Officer, System
Administrator or System Operator), never a name typed on the command line
(ROLE-5).

Offline (nobody logged in, or --local), the command writes to the data
directory, which only the service's account can write; the operator is named
by --operator (and --role), taken as given, and the event says so in its
"entry" detail. Prefer the API whenever the service runs.`,
	}
	for _, k := range audit.ManualKinds {
		cmd.AddCommand(newAuditRecordKindCmd(e, m, k))
	}
	return cmd
}

func newAuditRecordKindCmd(e *env, m *auditMode, k audit.ManualKind) *cobra.Command {
	var (
		operator, role string
		yes            *yesFlag
		values         = map[string]*string{}
	)
	var help strings.Builder
	fmt.Fprintf(&help, "record %s enters an event %s: %s.\n\n", k.Name, k.Action, k.Summary)
	for _, f := range k.Fields {
		req := ""
		if f.Required {
			req = " (required)"
		}
		fmt.Fprintf(&help, "  --%-12s %s%s\n", f.Name, f.Help, req)
	}
	help.WriteString("\nWithout --yes it shows the event and records nothing.")
	cmd := &cobra.Command{
		Use:   k.Name + " [flags] --yes",
		Short: "Record: " + k.Summary,
		Long:  help.String(),
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			fields := map[string]string{}
			for name, v := range values {
				if *v != "" {
					fields[name] = *v
				}
			}
			j, err := openJournal(ctx, e, m, "", "", true)
			if err != nil {
				return err
			}
			defer j.Close()
			named, said, err := j.recorder(sceau.Actor{ID: operator, Role: role})
			if err != nil {
				return err
			}
			// Checked here for the dry run; the journal checks again.
			ev, err := audit.ManualEvent(k, named, fields, time.Now())
			if err != nil {
				return err
			}
			if !*yes {
				showManual(e, ev, said)
				return nil
			}
			rec, err := j.record(ctx, k, fields, sceau.Actor{ID: operator, Role: role})
			if err != nil {
				return err
			}
			note := ""
			if j.offline() {
				note = " (offline entry)"
			}
			fmt.Fprintf(e.stdout, "Recorded event %d: %s on %s by %s%s\n", rec.Seq, rec.Action, rec.Object, sceau.Actor{ID: rec.Actor, Role: rec.Role}, note)
			return nil
		},
	}
	cmd.Flags().StringVar(&operator, "operator", "", "offline only: who enters the event (required offline)")
	cmd.Flags().StringVar(&role, "role", "", "offline only: the role under which they enter it")
	yes = addYes(cmd, "record it")
	for _, f := range k.Fields {
		v := new(string)
		values[f.Name] = v
		cmd.Flags().StringVar(v, f.Name, "", f.Help)
	}
	return cmd
}

// showManual prints the event a record would enter (the dry run).
func showManual(e *env, ev audit.Event, by string) {
	fmt.Fprintf(e.stdout, "Would record %s on %s by %s:\n", ev.Action, ev.Object, by)
	d := ev.Details.(map[string]string)
	names := make([]string, 0, len(d))
	for n := range d {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(e.stdout, "  %-12s %s\n", n, d[n])
	}
	fmt.Fprintln(e.stdout, "Run again with --yes to record it; it cannot be changed afterwards.")
}
