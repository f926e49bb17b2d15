package main

import (
	"bytes"
	"context"
	"crypto"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/sceau/sceau/internal/adminapi"
	"github.com/sceau/sceau/internal/audit"
	"github.com/sceau/sceau/internal/config"
	"github.com/sceau/sceau/internal/node"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/server"
)

func newAuditCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "Verify, read, export and add to the audit journal",
		Long: `The audit journal records every event of the installation in a hash chain,
signed at intervals by the audit signing key (docs/audit.md).

Two ways to reach it (AUD-3):

  through the admin API, when someone is logged in at this terminal ('sceau
  login') or with --api: the service decides with the access matrix; reading,
  verifying and exporting are the System Auditor's and the Security Officer's,
  and every refusal is itself an access.denied event. Events entered with
  'record' name the person logged in and their role (ROLE-5).

  offline, on the data directory or a copy of it (--db, --local, or nobody
  logged in): access to the journal is access to the database file, which the
  installation keeps in a directory of mode 0700. Run them as the service's
  account, or as an auditor given a copy. 'verify' works offline unless --api
  is given: the strongest check runs on a copy, away from the service.

  sceau audit verify        check the chain, the signed checkpoints, and the
                            database against the export (rollback)
  sceau audit status        where the journal, its checkpoints and its export stand
  sceau audit events        read events (also: list), with filters
  sceau audit show SEQ      one event, with what its action means
  sceau audit alerts        list the alerts of the anomaly analysis
  sceau audit export        bring the export directory up to date, or download the journal
  sceau audit record KIND   enter an event that happened outside the software`,
	}
	m := &auditMode{}
	cmd.PersistentFlags().BoolVar(&e.jsonOut, "json", false, "print JSON")
	cmd.PersistentFlags().BoolVar(&m.api, "api", false, "go through the admin API even when nobody is logged in (a personal client certificate)")
	cmd.PersistentFlags().BoolVar(&m.local, "local", false, "work offline on the data directory even when someone is logged in")
	cmd.AddCommand(newAuditVerifyCmd(e, m), newAuditStatusCmd(e, m), newAuditEventsCmd(e, m), newAuditShowCmd(e, m),
		newAuditAlertsCmd(e, m), newAuditExportCmd(e, m), newAuditRecordCmd(e, m))
	return cmd
}

// auditMode says whether an audit command goes through the admin API.
type auditMode struct{ api, local bool }

// remote returns a client of the admin API when the command should use it:
// --api, or someone logged in at this terminal, unless --local or a --db
// file is given. nil means offline.
func (m *auditMode) remote(e *env, dbPath string) (*adminapi.Client, error) {
	if m.api && (m.local || dbPath != "") {
		return nil, sceau.Errorf(sceau.Invalid, "audit", "--api goes through the service: it takes neither --local nor --db")
	}
	if m.local || dbPath != "" {
		return nil, nil
	}
	cfg, err := config.Load(e.configPath)
	if err != nil {
		if m.api {
			return nil, err
		}
		return nil, nil
	}
	if !m.api {
		s, err := readSession(cfg)
		if err != nil {
			return nil, err
		}
		if s == nil {
			return nil, nil
		}
	}
	return newAPIClient(cfg)
}

// openAuditTarget opens the journal a command works on (node.OpenJournal).
func openAuditTarget(ctx context.Context, e *env, dbPath string, needDB, migrate bool) (*auditTarget, error) {
	return node.OpenJournal(ctx, e.configPath, dbPath, needDB, migrate)
}

type auditTarget = node.JournalTarget

func newAuditVerifyCmd(e *env, m *auditMode) *cobra.Command {
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

With --api it asks the service to verify its database instead (an Auditor or
a Security Officer): quicker to reach, but the service checks itself; the
offline verification of a copy is the independent one.

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
			if m.api {
				return runAuditVerifyAPI(ctx, e, m, keyIDs, keyFiles, exportDir)
			}
			t, err := openAuditTarget(ctx, e, dbPath, exportDir == "" || dbPath != "", false)
			if err != nil {
				return err
			}
			defer t.Close()
			if exportDir != "" {
				t.ExportDir = exportDir
			}
			if noExport {
				t.ExportDir = ""
			}
			if t.DB == nil && t.ExportDir == "" {
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
func runAuditVerify(ctx context.Context, e *env, t *auditTarget, opts audit.VerifyOptions) error {
	w := e.stdout
	rep, failed := node.VerifyJournal(ctx, t.DB, t.ExportDir, opts, func(what string) func(done, total int64) { return auditProgress(e, what) })
	if rep == nil {
		return failed
	}
	if e.jsonOut {
		if err := printJSON(w, rep); err != nil {
			return err
		}
		return failed
	}
	if rep.NoExport != nil {
		fmt.Fprintf(w, "Export %s: none yet (%v)\n", t.ExportDir, rep.NoExport)
	}
	if rep.Export != nil {
		printAuditVerify(w, "Export "+t.ExportDir, rep.Export)
	}
	if rep.Database != nil {
		printAuditVerify(w, "Database "+t.DBName, rep.Database)
		if a := rep.Anchor; a != nil && rep.Database.OK() {
			fmt.Fprintf(w, "  matches the export: it holds exported event %d", a.Seq)
			if a.Checkpoint != nil {
				fmt.Fprintf(w, " and checkpoint %d", a.Checkpoint.ID)
			}
			fmt.Fprintln(w, " unchanged (no rollback)")
		}
	}
	if failed == nil {
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

// auditProgress shows a journal's progress on a terminal.
func auditProgress(e *env, what string) func(done, total int64) { return progress(e, what, "events") }

// progress shows progress on a terminal, and nothing in scripts.
func progress(e *env, what, unit string) func(done, total int64) {
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
			fmt.Fprintf(e.stderr, "\r%s: %d of %d %s (%d%%)   ", what, done, total, unit, done*100/max(total, 1))
		} else {
			fmt.Fprintf(e.stderr, "\r%s: %d %s   ", what, done, unit)
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

func newAuditStatusCmd(e *env, m *auditMode) *cobra.Command {
	var dbPath, exportDir, keyOut string
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show where the journal, its checkpoints, its export and its workers stand",
		Long: `status shows the journal's head, the last signed checkpoint and how many events
follow it, the archive boundary (AUD-4), the signing keys with their IDs (note
the ID of the audit signing key: 'sceau audit verify --key-id' pins it), the
export's position and lag (AUD-5) in the directory and in object storage, and
how far the syslog forwarding and the anomaly analysis went.

With --key-out FILE it writes the audit signing key's public key (PEM) to FILE,
to keep away from the installation and give to 'sceau audit verify --key'.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			j, err := openJournal(ctx, e, m, dbPath, exportDir, false)
			if err != nil {
				return err
			}
			defer j.Close()
			st, err := j.status(ctx)
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
			printAuditStatus(e.stdout, j.where(), st)
			return nil
		},
	}
	cmd.Flags().StringVar(&dbPath, "db", "", "read this SQLite file instead of the installation's database")
	cmd.Flags().StringVar(&exportDir, "export", "", "the export directory (default: audit.export.dir)")
	cmd.Flags().StringVar(&keyOut, "key-out", "", "write the audit signing public key (PEM) to this new file")
	return cmd
}

func printAuditStatus(w io.Writer, where string, full *server.AuditStatus) {
	st := &full.Status
	fmt.Fprintf(w, "Journal:      %s\n", where)
	fmt.Fprintf(w, "  head:       event %d", st.HeadSeq)
	if st.HeadAt != "" {
		fmt.Fprintf(w, " at %s", st.HeadAt)
	}
	fmt.Fprintf(w, "\n  live:       %d events (from event %d); archive: %d events, through event %d\n",
		st.LiveEvents, st.LiveFrom, st.ArchivedEvents, st.ArchivedThrough)
	if c := st.LastCheckpoint; c != nil {
		fmt.Fprintf(w, "Checkpoint:   #%d (%s) covers event %d, signed %s (%s ago) by key %s\n", c.ID, c.Kind, c.Seq, c.At,
			st.CheckpointAge.Round(time.Second), short16(c.KeyID))
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
	if seq, ok := st.Cursors["object-store"]; ok {
		fmt.Fprintf(w, "Object store: exported through event %d; lag %d events (audit.export.s3)\n", seq, st.HeadSeq-seq)
	}
	for _, name := range sortedKeys(st.Cursors) {
		fmt.Fprintf(w, "Cursor:       %-22s event %d\n", name, st.Cursors[name])
	}
}

func short16(s string) string {
	if len(s) > 16 {
		return s[:16]
	}
	return s
}

// auditFilterFlags are the filters of events and export.
type auditFilterFlags struct {
	after                       int64
	limit                       int
	action, actor, role, object string
	since, until                string
}

func (f *auditFilterFlags) add(cmd *cobra.Command) {
	cmd.Flags().Int64Var(&f.after, "after", 0, "events after this sequence number")
	cmd.Flags().IntVar(&f.limit, "limit", 100, "at most this many events")
	cmd.Flags().StringVar(&f.action, "action", "", "only actions starting with this (certificate., login.failed)")
	cmd.Flags().StringVar(&f.actor, "actor", "", "only events of this actor (an account, system:audit, cert:operator)")
	cmd.Flags().StringVar(&f.role, "role", "", "only events under this role (system-auditor, …)")
	cmd.Flags().StringVar(&f.object, "object", "", "only objects starting with this (certificate:5f2a, ca:issuing)")
	cmd.Flags().StringVar(&f.since, "since", "", "only events at or after this time: RFC 3339, or an age like 36h or 30d")
	cmd.Flags().StringVar(&f.until, "until", "", "only events before this time: RFC 3339, or an age like 2h")
}

// filter turns the flags into an audit.Filter; ages count back from now.
func (f *auditFilterFlags) filter(now time.Time) (audit.Filter, error) {
	out := audit.Filter{After: f.after, Action: f.action, Actor: f.actor, Role: f.role, Object: f.object}
	for _, x := range []struct {
		flag, v string
		dst     *time.Time
	}{{"since", f.since, &out.Since}, {"until", f.until, &out.Until}} {
		if x.v == "" {
			continue
		}
		if t, err := time.Parse(time.RFC3339, x.v); err == nil {
			*x.dst = t
			continue
		}
		d, err := config.ParseDuration(x.v)
		if err != nil || d <= 0 {
			return out, sceau.Errorf(sceau.Invalid, "audit", "--%s %q is neither an RFC 3339 time nor an age like 36h or 30d", x.flag, x.v)
		}
		*x.dst = now.Add(-d)
	}
	return out, nil
}

func newAuditEventsCmd(e *env, m *auditMode) *cobra.Command {
	var (
		dbPath string
		ff     auditFilterFlags
	)
	cmd := &cobra.Command{
		Use:     "events",
		Aliases: []string{"list"},
		Short:   "Print journal events, archive and live, in order, with filters",
		Long: `events prints the events after --after, at most --limit, that match every filter
given: --action (a prefix: certificate., login.failed), --actor, --role,
--object (a prefix), --since and --until (RFC 3339, or an age: 36h, 30d). The
actions and what they mean are listed in docs/audit.md; 'sceau audit show SEQ'
explains one event.

Logged in (or with --api), it reads through the admin API, as a System Auditor
or a Security Officer; otherwise it reads the data directory (--db FILE: a copy).

Examples:
  sceau audit events --action login.failed --since 24h
  sceau audit events --actor alice --limit 1000 --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			f, err := ff.filter(time.Now())
			if err != nil {
				return err
			}
			j, err := openJournal(ctx, e, m, dbPath, "", false)
			if err != nil {
				return err
			}
			defer j.Close()
			out, err := j.events(ctx, f, ff.limit)
			if err != nil {
				return err
			}
			if e.jsonOut {
				return printJSON(e.stdout, out)
			}
			for _, r := range out {
				actor := r.Actor
				if r.Role != "" {
					actor += " (" + r.Role + ")"
				}
				details := string(r.Details)
				if r.DetailsRaw != "" {
					details = r.DetailsRaw
				}
				fmt.Fprintf(e.stdout, "%7d %s %-28s %-30s %s %s\n", r.Seq, r.At, r.Action, r.Object, actor, details)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&dbPath, "db", "", "read this SQLite file instead of the installation's database")
	ff.add(cmd)
	return cmd
}

func newAuditShowCmd(e *env, m *auditMode) *cobra.Command {
	var dbPath string
	cmd := &cobra.Command{
		Use:   "show SEQ",
		Short: "Show one journal event, its hashes, and what its action means",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			seq, err := strconv.ParseInt(args[0], 10, 64)
			if err != nil || seq < 1 {
				return sceau.Errorf(sceau.Invalid, "audit show", "%q is not an event number", args[0])
			}
			j, err := openJournal(ctx, e, m, dbPath, "", false)
			if err != nil {
				return err
			}
			defer j.Close()
			ev, err := j.event(ctx, seq)
			if err != nil {
				return err
			}
			if e.jsonOut {
				return printJSON(e.stdout, ev)
			}
			w := e.stdout
			fmt.Fprintf(w, "Event %d at %s\n", ev.Seq, ev.At)
			fmt.Fprintf(w, "  action:    %s\n", ev.Action)
			if k, ok := audit.Describe(ev.Action); ok {
				fmt.Fprintf(w, "  meaning:   %s\n", k.Description)
			}
			fmt.Fprintf(w, "  actor:     %s\n  role:      %s\n  object:    %s\n", ev.Actor, ev.Role, ev.Object)
			if len(ev.Details) > 0 {
				var b bytes.Buffer
				if json.Indent(&b, ev.Details, "             ", "  ") == nil {
					fmt.Fprintf(w, "  details:   %s\n", b.String())
				}
			} else if ev.DetailsRaw != "" {
				fmt.Fprintf(w, "  details:   %s (not JSON)\n", ev.DetailsRaw)
			}
			fmt.Fprintf(w, "  prev hash: %s\n  hash:      %s\n", ev.PrevHash, ev.Hash)
			return nil
		},
	}
	cmd.Flags().StringVar(&dbPath, "db", "", "read this SQLite file instead of the installation's database")
	return cmd
}

func newAuditAlertsCmd(e *env, m *auditMode) *cobra.Command {
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
			from := time.Now().Add(-d)
			j, err := openJournal(ctx, e, m, dbPath, "", false)
			if err != nil {
				return err
			}
			defer j.Close()
			alerts, err := j.alerts(ctx, from, limit)
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

func newAuditExportCmd(e *env, m *auditMode) *cobra.Command {
	var dbPath, dir string
	cmd := &cobra.Command{
		Use:   "export",
		Short: "Bring an export directory up to date now (or download the journal)",
		Long: `export copies to the export directory (audit.export.dir, or --to DIR) what
the journal holds beyond the export's cursor: events, checkpoints and keys as
JSON lines, made durable before the cursor moves (AUD-5). 'sceau serve' does the
same continuously; while it runs, the directory is locked and this command says
so. Use --to DIR to start a new export elsewhere (it begins at event 1).

Logged in (or with --api), it downloads the journal through the admin API into
--to DIR, as a System Auditor or a Security Officer: run it again later and it
goes on from where it stopped. The directory verifies offline:
  sceau audit export --to ./journal-copy
  sceau audit verify --export ./journal-copy --key-id <ID from 'sceau audit status'>`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			j, err := openJournal(ctx, e, m, dbPath, "", false)
			if err != nil {
				return err
			}
			defer j.Close()
			return j.export(ctx, e, dir)
		},
	}
	cmd.Flags().StringVar(&dbPath, "db", "", "export from this SQLite file instead of the installation's database")
	cmd.Flags().StringVar(&dir, "to", "", "the export directory (default: audit.export.dir)")
	return cmd
}

// downloadAudit pulls the journal's export lines from the admin API into
// dir, from its cursor on, page by page; each page is durable before the
// cursor moves, so an interrupted download resumes (AUD-5).
func downloadAudit(ctx context.Context, e *env, c *adminapi.Client, dir string) error {
	cur, err := audit.ReadExportCursor(dir)
	if err != nil {
		return err
	}
	var total int64
	for {
		body, err := c.AuditExport(ctx, cur.Seq, cur.Checkpoint, 5000)
		if err != nil {
			return err
		}
		if len(body) == 0 {
			break
		}
		n, err := audit.AppendExport(dir, body, time.Now())
		if err != nil {
			return err
		}
		total += n
		if cur, err = audit.ReadExportCursor(dir); err != nil {
			return err
		}
		if isTerminal(e.stderr) {
			fmt.Fprintf(e.stderr, "\rdownloaded through event %d   ", cur.Seq)
		}
	}
	if isTerminal(e.stderr) && total > 0 {
		fmt.Fprintln(e.stderr)
	}
	fmt.Fprintf(e.stdout, "Downloaded %d events to %s: through event %d, checkpoint %d\n", total, dir, cur.Seq, cur.Checkpoint)
	return nil
}

// runAuditVerifyAPI asks the service to verify its journal (--api).
func runAuditVerifyAPI(ctx context.Context, e *env, m *auditMode, keyIDs, keyFiles []string, exportDir string) error {
	if exportDir != "" {
		return sceau.Errorf(sceau.Invalid, "audit verify", "--export is verified offline: leave out --api")
	}
	for _, f := range keyFiles {
		pub, err := readAuditKey(f)
		if err != nil {
			return err
		}
		id, err := audit.KeyID(pub)
		if err != nil {
			return err
		}
		keyIDs = append(keyIDs, id)
	}
	c, err := m.remote(e, "")
	if err != nil {
		return err
	}
	res, err := c.AuditVerify(ctx, keyIDs)
	if err != nil {
		return err
	}
	var failed error
	if !res.OK() {
		failed = sceau.Errorf(sceau.Conflict, "audit verify", "the database is broken at event %d: %s", res.BrokenAt, res.Reason)
	}
	if e.jsonOut {
		if err := printJSON(e.stdout, node.JournalCheck{Database: res, OK: failed == nil}); err != nil {
			return err
		}
		return failed
	}
	printAuditVerify(e.stdout, "Database of the service at "+c.Base(), res)
	if failed == nil {
		fmt.Fprintln(e.stdout, "OK: the journal is whole.")
	}
	return failed
}
