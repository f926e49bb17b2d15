package main

import (
	"context"
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/sceau/sceau/internal/audit"
	"github.com/sceau/sceau/internal/config"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/store"
)

func newAuditCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "Verify, read, export and add to the audit journal",
		Long: `The audit journal records every event of the installation in a hash chain,
signed at intervals by the audit signing key (docs/audit.md).

These commands work offline, on the data directory or a copy of it: access to
the journal is access to the database file, which the installation keeps in a
directory of mode 0700 (AUD-3). Run them as the service's account, or as an
auditor given a copy.

  sceau audit verify        check the chain, the signed checkpoints, and the
                            database against the export (rollback)
  sceau audit status        where the journal, its checkpoints and its export stand
  sceau audit events        read events
  sceau audit alerts        list the alerts of the anomaly analysis
  sceau audit export        bring the export directory up to date now
  sceau audit record KIND   enter an event that happened outside the software`,
	}
	cmd.PersistentFlags().BoolVar(&e.jsonOut, "json", false, "print JSON")
	cmd.AddCommand(newAuditVerifyCmd(e), newAuditStatusCmd(e), newAuditEventsCmd(e), newAuditAlertsCmd(e),
		newAuditExportCmd(e), newAuditRecordCmd(e))
	return cmd
}

// auditTarget is the journal a command works on: the installation's
// database and export directory, or the files named by flags.
type auditTarget struct {
	db        *store.DB
	dbName    string
	exportDir string
	cfg       *config.Config
}

func (t *auditTarget) Close() {
	if t.db != nil {
		t.db.Close()
	}
}

// openAuditTarget opens the journal: the SQLite file dbPath if given
// (never created nor migrated), else the installation of --config. migrate
// applies pending migrations to the installation's database, as serve
// would; commands that only read leave it as it is.
func openAuditTarget(ctx context.Context, e *env, dbPath string, needDB, migrate bool) (*auditTarget, error) {
	t := &auditTarget{}
	if dbPath != "" {
		if _, err := os.Stat(dbPath); err != nil {
			return nil, sceau.E(sceau.Invalid, "audit", "cannot read the database file "+dbPath, err)
		}
		db, err := store.Open(ctx, store.SQLite, dbPath)
		if err != nil {
			return nil, err
		}
		t.db, t.dbName = db, dbPath
		return t, nil
	}
	cfg, err := config.Load(e.configPath)
	if err != nil {
		if !needDB {
			return t, nil
		}
		return nil, err
	}
	t.cfg = cfg
	if cfg.Audit.Export.Dir != "" {
		t.exportDir = cfg.Path(cfg.Audit.Export.Dir)
	}
	if !needDB {
		return t, nil
	}
	db, err := openStore(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if migrate {
		if err := db.Migrate(ctx); err != nil {
			db.Close()
			return nil, err
		}
	}
	t.db = db
	t.dbName = cfg.Database.Engine + " database"
	if cfg.Database.Engine == "sqlite" {
		t.dbName = cfg.Path(cfg.Database.Path)
	}
	return t, nil
}

func newAuditVerifyCmd(e *env) *cobra.Command {
	var (
		dbPath, exportDir string
		noExport          bool
		keyFiles, keyIDs  []string
	)
	cmd := &cobra.Command{
		Use:   "verify",
		Short: "Check the journal's chain, its signed checkpoints, and the database against the export",
		Long: `verify checks the whole journal, offline (AUD-2):

  1. the export (audit.export.dir, or --export DIR), if there is one: every event
     chains to the one before and matches its hash, every checkpoint follows the
     one before and carries a valid signature of a trusted key, and covers the
     event it names;
  2. the database (the installation's, or --db FILE, a copy): the same over the
     archive and the live journal, and the chain head;
  3. the database against the export: the database must still hold the last
     exported event and checkpoint unchanged. A database rolled back to an
     older copy, or whose tail was rewritten after the export, fails here.

It reports the first broken position and exits 1 if anything is broken.

Trust: a checkpoint proves something only if its key is trusted. Pin the audit
signing key with --key FILE (a PEM public key) or --key-id HEX (as
'sceau audit status' prints it); keys registered later are trusted once a
checkpoint of a trusted key covers their registration. Without a pin, the key
that signed checkpoint 1 (of the export when there is one) is trusted on first
use, and verify says so.

Examples:
  sceau audit verify                                  the installation and its export
  sceau audit verify --db /mnt/copy/sceau.db --export /mnt/backup/audit-export
  sceau audit verify --export /mnt/backup/audit-export --key audit-signing.pem`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			t, err := openAuditTarget(ctx, e, dbPath, exportDir == "" || dbPath != "", false)
			if err != nil {
				return err
			}
			defer t.Close()
			if exportDir != "" {
				t.exportDir = exportDir
			}
			if noExport {
				t.exportDir = ""
			}
			if t.db == nil && t.exportDir == "" {
				return sceau.Errorf(sceau.Invalid, "audit verify", "nothing to verify: give --db, --export, or a --config whose data directory holds the journal")
			}
			opts := audit.VerifyOptions{TrustedKeyIDs: keyIDs}
			for _, f := range keyFiles {
				pub, err := readAuditKey(f)
				if err != nil {
					return err
				}
				opts.TrustedKeys = append(opts.TrustedKeys, pub)
			}
			return runAuditVerify(ctx, e, t, opts)
		},
	}
	cmd.Flags().StringVar(&dbPath, "db", "", "verify this SQLite file (a copy of sceau.db) instead of the installation's database")
	cmd.Flags().StringVar(&exportDir, "export", "", "the export directory (default: audit.export.dir of the configuration)")
	cmd.Flags().BoolVar(&noExport, "no-export", false, "do not verify against the export")
	cmd.Flags().StringArrayVar(&keyFiles, "key", nil, "trust the audit signing key in this PEM public key file (repeatable)")
	cmd.Flags().StringArrayVar(&keyIDs, "key-id", nil, "trust the audit signing key with this ID, hex SHA-256 (repeatable)")
	return cmd
}

// verifyReport is what verify prints with --json.
type verifyReport struct {
	Export   *audit.VerifyResult `json:"export,omitempty"`
	Database *audit.VerifyResult `json:"database,omitempty"`
	OK       bool                `json:"ok"`
}

func runAuditVerify(ctx context.Context, e *env, t *auditTarget, opts audit.VerifyOptions) error {
	var rep verifyReport
	w := e.stdout
	broken := func(what string, r *audit.VerifyResult) error {
		return sceau.Errorf(sceau.Conflict, "audit verify", "%s is broken at event %d: %s", what, r.BrokenAt, r.Reason)
	}
	var failed error
	if t.exportDir != "" {
		eo := opts
		eo.Progress = auditProgress(e, "verifying the export")
		res, anchor, err := audit.VerifyExport(ctx, t.exportDir, eo)
		switch {
		case err != nil && sceau.KindOf(err) == sceau.NotFound && t.db != nil:
			if !e.jsonOut {
				fmt.Fprintf(w, "Export %s: none yet (%v)\n", t.exportDir, err)
			}
		case err != nil:
			return err
		default:
			rep.Export = &res
			if !e.jsonOut {
				printAuditVerify(w, "Export "+t.exportDir, &res)
			}
			if !res.OK() {
				failed = broken("the export", &res)
			} else {
				opts.Anchor = anchor
			}
		}
	}
	if t.db != nil && failed == nil {
		do := opts
		do.Progress = auditProgress(e, "verifying the database")
		res, err := audit.VerifyWith(ctx, t.db, do)
		if err != nil {
			return err
		}
		rep.Database = &res
		if !e.jsonOut {
			printAuditVerify(w, "Database "+t.dbName, &res)
			if a := opts.Anchor; a != nil && res.OK() {
				fmt.Fprintf(w, "  matches the export: it holds exported event %d", a.Seq)
				if a.Checkpoint != nil {
					fmt.Fprintf(w, " and checkpoint %d", a.Checkpoint.ID)
				}
				fmt.Fprintln(w, " unchanged (no rollback)")
			}
		}
		if !res.OK() {
			failed = broken("the database", &res)
		}
	}
	rep.OK = failed == nil
	if e.jsonOut {
		if err := printJSON(w, rep); err != nil {
			return err
		}
	} else if failed == nil {
		fmt.Fprintln(w, "OK: the journal is whole.")
	}
	return failed
}

func printAuditVerify(w io.Writer, what string, r *audit.VerifyResult) {
	fmt.Fprintf(w, "%s: %d events, %d checkpoints verified", what, r.Events, r.Checkpoints)
	if c := r.LastCheckpoint; c != nil {
		fmt.Fprintf(w, "; last checkpoint %d covers event %d (%s), %d events after it", c.ID, c.Seq, c.At, r.Unsigned)
	}
	fmt.Fprintln(w)
	if len(r.TrustedKeys) > 0 {
		fmt.Fprintf(w, "  trusted keys: %s\n", strings.Join(r.TrustedKeys, ", "))
	}
	for _, warn := range r.Warnings {
		fmt.Fprintf(w, "  warning: %s\n", warn)
	}
	if !r.OK() {
		fmt.Fprintf(w, "  BROKEN at event %d: %s\n", r.BrokenAt, r.Reason)
	}
}

// progressPrinter shows progress on a terminal, and nothing in scripts.
func auditProgress(e *env, what string) func(done, total int64) {
	if !isTerminal(e.stderr) {
		return nil
	}
	last := time.Time{}
	return func(done, total int64) {
		if time.Since(last) < 200*time.Millisecond && done < total {
			return
		}
		last = time.Now()
		if total > 0 {
			fmt.Fprintf(e.stderr, "\r%s: %d of %d events (%d%%)   ", what, done, total, done*100/max(total, 1))
		} else {
			fmt.Fprintf(e.stderr, "\r%s: %d events   ", what, done)
		}
		if done >= total && total > 0 {
			fmt.Fprintln(e.stderr)
		}
	}
}

func readAuditKey(path string) (crypto.PublicKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, sceau.E(sceau.Invalid, "audit verify", "cannot read --key "+path, err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != "PUBLIC KEY" {
		return nil, sceau.Errorf(sceau.Invalid, "audit verify", "%s holds no PEM PUBLIC KEY", path)
	}
	pub, err := x509.ParsePKIXPublicKey(blk.Bytes)
	if err != nil {
		return nil, sceau.E(sceau.Invalid, "audit verify", path+" holds no usable public key", err)
	}
	return pub, nil
}

func newAuditStatusCmd(e *env) *cobra.Command {
	var dbPath, exportDir, keyOut string
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show where the journal, its checkpoints, its export and its workers stand",
		Long: `status shows the journal's head, the last signed checkpoint and how many events
follow it, the archive boundary (AUD-4), the signing keys with their IDs (note
the ID of the audit signing key: 'sceau audit verify --key-id' pins it), the
export's position and lag (AUD-5), and how far the syslog forwarding and the
anomaly analysis went.

With --key-out FILE it writes the audit signing key's public key (PEM) to FILE,
to keep away from the installation and give to 'sceau audit verify --key'.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			t, err := openAuditTarget(ctx, e, dbPath, true, false)
			if err != nil {
				return err
			}
			defer t.Close()
			if exportDir != "" {
				t.exportDir = exportDir
			}
			st, err := audit.Guard{DB: t.db, Decider: audit.FileAccess}.Status(ctx, sceau.Actor{ID: "local"}, t.exportDir, time.Now())
			if err != nil {
				return err
			}
			if keyOut != "" {
				if len(st.Keys) == 0 {
					return sceau.Errorf(sceau.NotFound, "audit status", "no audit signing key is registered yet")
				}
				k := st.Keys[len(st.Keys)-1]
				b := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: k.DER})
				if err := writeNewFile(keyOut, b, 0o644); err != nil {
					return err
				}
			}
			if e.jsonOut {
				return printJSON(e.stdout, st)
			}
			printAuditStatus(e.stdout, t, &st)
			return nil
		},
	}
	cmd.Flags().StringVar(&dbPath, "db", "", "read this SQLite file instead of the installation's database")
	cmd.Flags().StringVar(&exportDir, "export", "", "the export directory (default: audit.export.dir)")
	cmd.Flags().StringVar(&keyOut, "key-out", "", "write the audit signing public key (PEM) to this new file")
	return cmd
}

func printAuditStatus(w io.Writer, t *auditTarget, st *audit.Status) {
	fmt.Fprintf(w, "Journal:      %s\n", t.dbName)
	fmt.Fprintf(w, "  head:       event %d", st.HeadSeq)
	if st.HeadAt != "" {
		fmt.Fprintf(w, " at %s", st.HeadAt)
	}
	fmt.Fprintf(w, "\n  live:       %d events (from event %d); archive: %d events, through event %d\n",
		st.LiveEvents, st.LiveFrom, st.ArchivedEvents, st.ArchivedThrough)
	if c := st.LastCheckpoint; c != nil {
		fmt.Fprintf(w, "Checkpoint:   #%d (%s) covers event %d, signed %s (%s ago) by key %s\n", c.ID, c.Kind, c.Seq, c.At,
			st.CheckpointAge.Round(time.Second), c.KeyID[:16])
		fmt.Fprintf(w, "  unsigned:   %d events after it\n", st.Unsigned)
	} else {
		fmt.Fprintf(w, "Checkpoint:   none yet (%d events unsigned)\n", st.Unsigned)
	}
	for _, k := range st.Keys {
		fmt.Fprintf(w, "Signing key:  %s %s %s, registered by event %d\n", k.ID, k.Algorithm, k.Label, k.Seq)
	}
	if x := st.Export; x != nil {
		fmt.Fprintf(w, "Export:       %s\n", x.Dir)
		if x.Cursor.Segment == "" {
			fmt.Fprintf(w, "  nothing exported yet: lag %d events\n", x.LagEvents)
		} else {
			fmt.Fprintf(w, "  exported:   through event %d, checkpoint %d, at %s\n", x.Cursor.Seq, x.Checkpoint, x.Cursor.UpdatedAt)
			fmt.Fprintf(w, "  lag:        %d events, %s\n", x.LagEvents, x.Lag.Round(time.Second))
		}
	} else {
		fmt.Fprintln(w, "Export:       off (audit.export.dir)")
	}
	for _, name := range auditSortedKeys(st.Cursors) {
		fmt.Fprintf(w, "Cursor:       %-22s event %d\n", name, st.Cursors[name])
	}
}

func newAuditEventsCmd(e *env) *cobra.Command {
	var (
		dbPath string
		after  int64
		limit  int
		action string
	)
	cmd := &cobra.Command{
		Use:   "events",
		Short: "Print journal events, archive and live, in order",
		Long: `events prints the events after --after, at most --limit, optionally only those
whose action starts with --action (certificate., login.failed, …). The actions
and what they mean are listed in docs/audit.md.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			t, err := openAuditTarget(ctx, e, dbPath, true, false)
			if err != nil {
				return err
			}
			defer t.Close()
			g := audit.Guard{DB: t.db, Decider: audit.FileAccess}
			var out []audit.Record
			for len(out) < limit {
				recs, err := g.Read(ctx, sceau.Actor{ID: "local"}, after, 1000)
				if err != nil {
					return err
				}
				if len(recs) == 0 {
					break
				}
				for _, r := range recs {
					if strings.HasPrefix(r.Action, action) && len(out) < limit {
						out = append(out, r)
					}
				}
				after = recs[len(recs)-1].Seq
			}
			if e.jsonOut {
				return printJSON(e.stdout, out)
			}
			for _, r := range out {
				actor := r.Actor
				if r.Role != "" {
					actor += " (" + r.Role + ")"
				}
				fmt.Fprintf(e.stdout, "%7d %s %-28s %-30s %s %s\n", r.Seq, r.At, r.Action, r.Object, actor, r.Details)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&dbPath, "db", "", "read this SQLite file instead of the installation's database")
	cmd.Flags().Int64Var(&after, "after", 0, "print events after this sequence number")
	cmd.Flags().IntVar(&limit, "limit", 100, "print at most this many events")
	cmd.Flags().StringVar(&action, "action", "", "only actions starting with this")
	return cmd
}

func newAuditAlertsCmd(e *env) *cobra.Command {
	var (
		dbPath string
		since  string
		limit  int
	)
	cmd := &cobra.Command{
		Use:   "alerts",
		Short: "List the alerts of the anomaly analysis",
		Long: `alerts lists the alerts raised by the analysis of the journal (AUD-6), newest
last: bursts of failed logins, people acting outside the working hours, gaps or
breaks in the chain, logging that stopped unrecorded or failed, clock jumps, CA
keys activated outside a ceremony, mass revocations. Each alert is also an
audit.alert_raised event in the journal, a log line of the service, and a
webhook call where one is configured.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			d, err := config.ParseDuration(since)
			if err != nil {
				return sceau.E(sceau.Invalid, "audit alerts", "bad --since", err)
			}
			t, err := openAuditTarget(ctx, e, dbPath, true, false)
			if err != nil {
				return err
			}
			defer t.Close()
			alerts, err := audit.Guard{DB: t.db, Decider: audit.FileAccess}.Alerts(ctx, sceau.Actor{ID: "local"}, time.Now().Add(-d), limit)
			if err != nil {
				return err
			}
			if e.jsonOut {
				if alerts == nil {
					alerts = []audit.Alert{}
				}
				return printJSON(e.stdout, alerts)
			}
			if len(alerts) == 0 {
				fmt.Fprintf(e.stdout, "No alert in the last %s.\n", since)
			}
			for _, a := range alerts {
				fmt.Fprintf(e.stdout, "%s  event %-7d %-28s %s\n", a.At, a.Seq, a.Rule, a.Message)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&dbPath, "db", "", "read this SQLite file instead of the installation's database")
	cmd.Flags().StringVar(&since, "since", "30d", "list alerts raised this recently (90m, 36h, 30d)")
	cmd.Flags().IntVar(&limit, "limit", 1000, "list at most this many alerts")
	return cmd
}

func newAuditExportCmd(e *env) *cobra.Command {
	var dbPath, dir string
	cmd := &cobra.Command{
		Use:   "export",
		Short: "Bring the export directory up to date now",
		Long: `export copies to the export directory (audit.export.dir, or --to DIR) what
the journal holds beyond the export's cursor: events, checkpoints and keys as
JSON lines, made durable before the cursor moves (AUD-5). 'sceau serve' does the
same continuously; while it runs, the directory is locked and this command says
so. Use --to DIR to start a new export elsewhere (it begins at event 1).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			t, err := openAuditTarget(ctx, e, dbPath, true, false)
			if err != nil {
				return err
			}
			defer t.Close()
			if dir == "" {
				dir = t.exportDir
			}
			if dir == "" {
				return sceau.Errorf(sceau.Invalid, "audit export", "no export directory: set audit.export.dir or give --to DIR")
			}
			n, err := audit.Guard{DB: t.db, Decider: audit.FileAccess}.Export(ctx, sceau.Actor{ID: "local"}, dir)
			if err != nil {
				return err
			}
			st, err := audit.ReadExportStatus(ctx, t.db, dir, time.Now())
			if err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "Exported %d events to %s: through event %d, checkpoint %d; lag %d events\n",
				n, dir, st.Cursor.Seq, st.Checkpoint, st.LagEvents)
			return nil
		},
	}
	cmd.Flags().StringVar(&dbPath, "db", "", "export from this SQLite file instead of the installation's database")
	cmd.Flags().StringVar(&dir, "to", "", "the export directory (default: audit.export.dir)")
	return cmd
}
