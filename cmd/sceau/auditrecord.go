package main

import (
	"fmt"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sceau/sceau/internal/audit"
	"github.com/sceau/sceau/internal/sceau"
)

func newAuditRecordCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "record KIND",
		Short: "Enter an event that happened outside the software (physical access, maintenance, …)",
		Long: `record enters in the journal an event that Sceau cannot see (AUD-1): a physical
access to a protected area, a maintenance action, the destruction of a medium,
the start or stop of a host. The event is hash-chained and signed like any
other; it cannot be changed or removed afterwards, so the command shows what it
will record and records only with --yes.

The operator who enters the event is named by --operator (and --role). Until
accounts are wired to this command, that name is taken as given: the command
runs offline on the data directory, which only the service's account can write.`,
	}
	for _, k := range audit.ManualKinds {
		cmd.AddCommand(newAuditRecordKindCmd(e, k))
	}
	return cmd
}

func newAuditRecordKindCmd(e *env, k audit.ManualKind) *cobra.Command {
	var (
		operator, role string
		yes            bool
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
		Use:   k.Name + " --operator NAME [flags] --yes",
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
			t, err := openAuditTarget(ctx, e, "", true, true)
			if err != nil {
				return err
			}
			defer t.Close()
			j := audit.NewJournal(nil)
			actor := sceau.Actor{ID: operator, Role: role}
			ev, err := audit.ManualEvent(k, actor, fields, j.Now())
			if err != nil {
				return err
			}
			if !yes {
				fmt.Fprintf(e.stdout, "Would record %s on %s by %s:\n", ev.Action, ev.Object, actor)
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
				return nil
			}
			seq, err := audit.RecordManual(ctx, t.db, j, audit.FileAccess, actor, k.Name, fields)
			if err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "Recorded event %d: %s on %s by %s\n", seq, ev.Action, ev.Object, actor)
			return nil
		},
	}
	cmd.Flags().StringVar(&operator, "operator", "", "who enters the event (required)")
	cmd.Flags().StringVar(&role, "role", "", "the role under which they enter it")
	cmd.Flags().BoolVar(&yes, "yes", false, "record it")
	for _, f := range k.Fields {
		v := new(string)
		values[f.Name] = v
		cmd.Flags().StringVar(v, f.Name, "", f.Help)
	}
	return cmd
}
