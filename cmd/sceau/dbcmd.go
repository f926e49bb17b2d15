package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/sceau/sceau/internal/audit"
	"github.com/sceau/sceau/internal/config"
	"github.com/sceau/sceau/internal/node"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/store"
)

func newDBCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "db",
		Short: "Prepare the PostgreSQL database: migrations and the service role's grants",
	}
	cmd.AddCommand(newDBGrantCmd(e))
	return cmd
}

func newDBGrantCmd(e *env) *cobra.Command {
	var (
		yes     *yesFlag
		dsnFile string
	)
	cmd := &cobra.Command{
		Use:   "grant-service-role ROLE [--yes]",
		Short: "Apply the migrations as the schema's owner and give ROLE exactly what 'sceau serve' needs",
		Long: `On PostgreSQL, the journal is append-only in the database itself (AUD-2): triggers
refuse UPDATE, DELETE and TRUNCATE, and the role that 'sceau serve' connects as
must not be able to drop them. So two roles are used:

  the owner    owns the schema and its tables; runs the migrations and this
               command; nothing else connects as it.
  the service  what database.dsn_file of every node names; owns nothing.

Once, as a PostgreSQL administrator (names are examples):

  CREATE ROLE sceau_owner LOGIN PASSWORD '…';
  CREATE ROLE sceau_service LOGIN PASSWORD '…';
  CREATE SCHEMA sceau AUTHORIZATION sceau_owner;
  ALTER ROLE sceau_owner SET search_path = sceau;
  ALTER ROLE sceau_service SET search_path = sceau;

Put the owner's DSN in a file of its own, kept off the nodes, and the
service's in database.dsn_file. Then, on one machine:

  sceau db grant-service-role sceau_service --dsn-file owner.dsn          # shows
  sceau db grant-service-role sceau_service --dsn-file owner.dsn --yes    # does

It applies the pending migrations, then, in one transaction: revokes what
ROLE held on the schema, grants USAGE on the schema (never CREATE), on each
table the privileges the code uses (on the journal's append-only tables
SELECT and INSERT only; audit_events also DELETE, which its trigger allows
for archived events alone, AUD-4; never TRUNCATE, REFERENCES or TRIGGER),
USAGE on sequences if any, and pins the search path of the journal's
deletion trigger. It refuses a superuser, an owner, and a role that would
keep more through PUBLIC or another role. Without --yes it runs the same in
a transaction it rolls back, and shows the result.

Run it again after every upgrade, before starting the nodes: a new version
may add tables, and 'sceau serve' as the service role stops with a message
when a migration is pending, since only the owner may apply it.
Without --dsn-file, the DSN of --config is used: it must be the owner's.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := config.Load(e.configPath)
			if err != nil {
				return err
			}
			return grantServiceRole(cmd.Context(), e, cfg, args[0], dsnFile, bool(*yes))
		},
	}
	yes = addYes(cmd, "apply the migrations and the grants (without it: show them)")
	cmd.Flags().StringVar(&dsnFile, "dsn-file", "", "file holding the owner's DSN (default: database.dsn_file of --config)")
	cmd.Flags().BoolVar(&e.jsonOut, "json", false, "print the grants as JSON")
	return cmd
}

// grantServiceRole is 'sceau db grant-service-role' (AUD-2).
func grantServiceRole(ctx context.Context, e *env, cfg *config.Config, role, dsnFile string, yes bool) error {
	const op = "sceau: db grant-service-role"
	if cfg.Database.Engine != string(store.Postgres) {
		return sceau.Errorf(sceau.Invalid, op,
			"the database is %s, which has no roles: this is for PostgreSQL (on SQLite, triggers keep the journal append-only and the file's permissions guard it)",
			cfg.Database.Engine)
	}
	if dsnFile != "" {
		abs, err := filepath.Abs(dsnFile) // relative to the working directory, as a flag is
		if err != nil {
			return sceau.E(sceau.Invalid, op, "bad --dsn-file", err)
		}
		c := *cfg
		c.Database.DSNFile = abs
		cfg = &c
	}
	db, err := node.OpenStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	pending, err := db.PendingMigrations(ctx)
	if err != nil {
		return err
	}
	if !yes && len(pending) > 0 {
		// The grants name the tables the migrations create: without them
		// there is nothing exact to show yet.
		fmt.Fprintf(e.stdout, "would apply %d migrations (%s), then grant %s:\n", len(pending), strings.Join(pending, ", "), role)
		printGrants(e, store.ServiceGrants())
		fmt.Fprintln(e.stdout, "add --yes to do it")
		return nil
	}
	if yes {
		if err := db.Migrate(ctx); err != nil {
			return err
		}
		for _, m := range pending {
			fmt.Fprintf(e.stdout, "applied migration %s\n", m)
		}
	}
	var plan *store.ServiceRolePlan
	if yes {
		// SYS-3: a change of the database's configuration, journaled in
		// the transaction that makes it.
		plan, err = store.GrantServiceRole(ctx, db, role, func(tx *store.Tx, p *store.ServiceRolePlan) error {
			return audit.NewJournal(nil).Append(ctx, tx, audit.Event{Actor: localActor("db"), Action: "db.service_role_granted",
				Object: "schema:" + p.Schema, Details: map[string]any{"role": p.Role, "tables": p.Tables, "sequences": p.Sequences}})
		})
	} else {
		plan, err = store.PlanServiceRole(ctx, db, role)
	}
	if err != nil {
		return err
	}
	if e.jsonOut {
		return printJSON(e.stdout, plan)
	}
	verb := "would grant"
	if yes {
		verb = "granted"
	}
	fmt.Fprintf(e.stdout, "%s %s, on schema %s: USAGE on the schema, and\n", verb, plan.Role, plan.Schema)
	printGrants(e, plan.Tables)
	for _, s := range plan.Sequences {
		fmt.Fprintf(e.stdout, "  sequence %s: USAGE\n", s)
	}
	if len(plan.Unknown) > 0 {
		fmt.Fprintf(e.stdout, "nothing on %s: this version does not know these tables\n", strings.Join(plan.Unknown, ", "))
	}
	if !yes {
		fmt.Fprintln(e.stdout, "add --yes to do it")
		return nil
	}
	fmt.Fprintf(e.stdout, "start 'sceau serve' with a DSN of %s in database.dsn_file\n", plan.Role)
	return nil
}

func printGrants(e *env, gs []store.TableGrant) {
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	for _, g := range gs {
		privs := make([]string, len(g.Privileges))
		for i, p := range g.Privileges {
			privs[i] = string(p)
		}
		note := ""
		if g.AppendOnly {
			note = "append-only"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", g.Table, note, strings.Join(privs, ", "))
	}
	tw.Flush()
}
