package node

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"filippo.io/age"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/sceau/sceau/internal/audit"
	"github.com/sceau/sceau/internal/ca"
	"github.com/sceau/sceau/internal/config"
	"github.com/sceau/sceau/internal/continuity"
	"github.com/sceau/sceau/internal/revocation"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/server"
	"github.com/sceau/sceau/internal/store"
)

// BackupTarget resolves a backup target: to, or backup.to when to is
// empty; a directory, or s3://bucket/prefix with backup.s3's endpoint and
// keys (CONT-1).
func BackupTarget(cfg *config.Config, to string) (continuity.Target, error) {
	b := cfg.Backup
	if to == "" {
		to = b.To
	}
	if to == "" {
		return nil, sceau.Errorf(sceau.Invalid, "backup", "no target: give --to DIR|s3://bucket/prefix or set backup.to")
	}
	b.To = to
	if bucket, prefix, ok := b.S3Target(); ok {
		if b.S3.Endpoint == "" {
			return nil, sceau.Errorf(sceau.Invalid, "backup", "%s: backup.s3.endpoint and its keys are not set", to)
		}
		ak, sk, tr, err := s3Access(cfg, b.S3, "backup.s3")
		if err != nil {
			return nil, err
		}
		return continuity.NewS3(continuity.S3Options{Endpoint: b.S3.Endpoint, Region: b.S3.Region, Bucket: bucket, Prefix: prefix,
			AccessKey: ak, SecretKey: sk, Transport: tr})
	}
	return continuity.Dir(cfg.Path(to)), nil
}

// SplitBackupRef splits FROM, a backup's object (DIR/NAME.age or
// s3://bucket/prefix/NAME.age), into its target and name.
func SplitBackupRef(cfg *config.Config, from string) (continuity.Target, string, error) {
	i := strings.LastIndex(from, "/")
	if i < 0 {
		from = "./" + from
		i = 1
	}
	dir, name := from[:i], from[i+1:]
	if !strings.HasSuffix(name, continuity.ObjectSuffix) {
		return nil, "", sceau.Errorf(sceau.Invalid, "backup", "%q does not name a backup (…/sceau-backup-….age)", from)
	}
	if cfg == nil {
		cfg = &config.Config{}
	}
	if strings.HasPrefix(dir, "s3://") {
		t, err := BackupTarget(cfg, dir)
		return t, name, err
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, "", sceau.E(sceau.Invalid, "backup", "", err)
	}
	return continuity.Dir(abs), name, nil
}

// backupSkip lists what a backup leaves out of the data directory besides
// the files holding a key in clear: the live database (its snapshot goes
// in instead), the secret files (the keystore's activation secret, the
// DSN, the TOTP sealing key, the object-store keys), credentials, and the
// copies that are themselves the second site (journal export, archive
// replicas, the backup target).
func (n *Node) backupSkip(target continuity.Target) []continuity.Excluded {
	c := n.Config
	var out []continuity.Excluded
	add := func(p, reason string) {
		if p != "" {
			out = append(out, continuity.Excluded{Path: c.Path(p), Reason: reason})
		}
	}
	if c.Database.Engine != "postgres" {
		db := c.Path(c.Database.Path)
		add(db, "the live database: its snapshot is "+continuity.DBEntrySQLite)
		for _, s := range []string{"-wal", "-shm", "-journal"} {
			add(db+s, "the live database: its snapshot is "+continuity.DBEntrySQLite)
		}
	}
	const secret = reasonSecret
	add(c.Keystore.SecretFile, secret)
	add(c.Database.DSNFile, secret)
	add(c.Access.TOTPKeyFile, secret)
	add(c.Audit.TokenPINFile, secret)
	add("secrets", secret)
	for _, s3 := range []config.AuditS3{c.Backup.S3, c.Audit.Export.S3} {
		add(s3.AccessKeyFile, secret)
		add(s3.SecretKeyFile, secret)
	}
	add(demoCredentials, "credentials in clear")
	add(initialCreds, "credentials in clear")
	add(c.Audit.Export.Dir, "the journal's export: the off-site witness, copied apart (AUD-5)")
	for _, r := range c.Archive.Replicas {
		add(r.Dir, "an archive replica")
		add(r.S3.AccessKeyFile, secret)
		add(r.S3.SecretKeyFile, secret)
	}
	if d, ok := target.(continuity.Dir); ok {
		add(string(d), "the backup target")
	}
	return out
}

// reasonSecret is why a secret file is left out of a backup.
const reasonSecret = "a secret: it travels to the second site apart from the backup (docs/continuity.md)"

// Backup writes a backup of the installation to to (or backup.to) and
// records backup.created (CONT-1).
func (n *Node) Backup(ctx context.Context, to string) (*continuity.Result, error) {
	t, err := BackupTarget(n.Config, to)
	if err != nil {
		return nil, err
	}
	ks, err := n.auditKeys()
	if err != nil {
		return nil, err
	}
	signer, err := auditSigner(ks, n.Config.Audit.SigningKey)
	if err != nil {
		return nil, fmt.Errorf("audit signing key: %w", err)
	}
	host, _ := os.Hostname()
	o := continuity.Options{Node: host, DB: n.DB, DataDir: n.Config.DataDir, Skip: n.backupSkip(t),
		Recipients: n.Config.Backup.Recipients, Signer: signer}
	if n.Config.Database.Engine == "postgres" {
		if o.PostgresDSN, err = readDSN(n.Config); err != nil {
			return nil, err
		}
	}
	res, err := continuity.Create(ctx, t, o)
	if err != nil {
		n.recordFailure(ctx, t, err)
		return nil, err
	}
	m := res.Manifest
	err = n.record(ctx, audit.ActionBackupCreated, map[string]any{"name": res.Name, "target": t.String(), "created_at": store.FormatTime(m.CreatedAt),
		"bytes": res.Bytes, "files": len(m.Files), "excluded": len(m.Excluded), "engine": m.Engine, "journal_seq": m.JournalSeq})
	if err != nil {
		return nil, err
	}
	n.lastBackup().Store(m.CreatedAt.Unix())
	if k := n.Config.Backup.Keep; k > 0 {
		if err := pruneBackups(ctx, t, k); err != nil {
			n.Log.Warn("old backups could not be removed", "target", t.String(), "err", err)
		}
	}
	return res, nil
}

// recordFailure journals a backup that failed (CONT-1: reported, never silent).
func (n *Node) recordFailure(ctx context.Context, t continuity.Target, err error) {
	if rerr := n.record(ctx, audit.ActionBackupFailed, map[string]any{"target": t.String(), "error": err.Error()}); rerr != nil {
		n.Log.Error("cannot record the failed backup", "err", rerr)
	}
}

// pruneBackups keeps the newest keep backups of t.
func pruneBackups(ctx context.Context, t continuity.Target, keep int) error {
	names, err := continuity.Backups(ctx, t)
	if err != nil {
		return err
	}
	for len(names) > keep {
		if err := t.Remove(ctx, names[0]+continuity.SidecarSuffix); err != nil {
			return err
		}
		if err := t.Remove(ctx, names[0]); err != nil {
			return err
		}
		names = names[1:]
	}
	return nil
}

// lastBackups holds, per data directory, the Unix time of the last backup
// this process made or found recorded, for sceau_backup_age_seconds.
var lastBackups sync.Map // string -> *atomic.Int64

func (n *Node) lastBackup() *atomic.Int64 {
	v, _ := lastBackups.LoadOrStore(n.Config.DataDir, new(atomic.Int64))
	return v.(*atomic.Int64)
}

// RestoreOptions say what to restore where.
type RestoreOptions struct {
	Target     continuity.Target
	Name       string
	Identities []age.Identity
	Dir        string // the new data directory: empty or absent
	// DB: for a PostgreSQL backup, the DSN of the new, empty database.
	DB string
	// Journal: the journal's off-site export (AUD-5) to reconcile with;
	// empty: none (the restored database ends where the backup does).
	Journal string
	// Secrets: a directory laid out like the data directory holding the
	// files the backup left out as secrets (secrets/keystore.secret, …),
	// copied in when present.
	Secrets string
}

// Restored is the outcome of a restore.
type Restored struct {
	Manifest   *continuity.Manifest
	Reconciled *continuity.Reconciled // nil without a journal export
	Missing    []continuity.Excluded  // left out of the backup and not given in Secrets
	Config     string                 // the restored configuration file
}

// Restore puts a backup in place in an empty directory (CONT-1): it
// decrypts and checks the backup, installs its files and database,
// checks that the manifest is signed by a key of the restored journal,
// reconciles with the journal's export when one is given, and records
// backup.restored in the restored journal.
func Restore(ctx context.Context, o RestoreOptions) (_ *Restored, err error) {
	const op = "backup: restore"
	dir, err := filepath.Abs(o.Dir)
	if err != nil {
		return nil, sceau.E(sceau.Invalid, op, "", err)
	}
	if err := continuity.CheckEmpty(dir); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return nil, sceau.E(sceau.Unavailable, op, "cannot create "+filepath.Dir(dir), err)
	}
	stage, err := os.MkdirTemp(filepath.Dir(dir), ".sceau-restore-")
	if err != nil {
		return nil, sceau.E(sceau.Unavailable, op, "cannot create a staging directory beside "+dir, err)
	}
	defer os.RemoveAll(stage)
	opened, err := continuity.Extract(ctx, o.Target, o.Name, o.Identities, filepath.Join(stage, "b"))
	if err != nil {
		return nil, err
	}
	m := opened.Manifest
	if m.Engine == "postgres" && o.DB == "" {
		return nil, sceau.Errorf(sceau.Invalid, op, "a PostgreSQL backup restores into a new, empty database: give --db DSN")
	}
	// From here on dir holds this restore alone (it was empty or absent):
	// a restore that fails removes it, rather than leave half an
	// installation.
	defer func() {
		if err != nil {
			os.RemoveAll(dir)
		}
	}()
	if err = continuity.Install(opened, dir); err != nil {
		return nil, err
	}
	out := &Restored{Manifest: m, Config: filepath.Join(dir, ConfigFileName)}
	for _, x := range m.Excluded {
		if x.Reason != reasonSecret && x.Reason != continuity.ReasonClearKey {
			continue // the database's files, the export, replicas: not expected back
		}
		dst := filepath.Join(dir, filepath.FromSlash(x.Path))
		if o.Secrets != "" && !strings.HasSuffix(x.Path, "/") {
			if b, err := os.ReadFile(filepath.Join(o.Secrets, filepath.FromSlash(x.Path))); err == nil {
				os.MkdirAll(filepath.Dir(dst), 0o700)
				err = os.WriteFile(dst, b, 0o600)
				clear(b)
				if err != nil {
					return nil, sceau.E(sceau.Unavailable, op, "cannot write "+dst, err)
				}
				continue
			}
		}
		if _, err := os.Stat(dst); err != nil {
			out.Missing = append(out.Missing, x)
		}
	}
	cfg, err := config.Load(out.Config)
	if err != nil {
		return nil, fmt.Errorf("%s: the restored configuration: %w", op, err)
	}
	if m.Engine == "postgres" {
		if err := continuity.RestorePostgres(ctx, opened.DBPath(), o.DB); err != nil {
			return nil, err
		}
		if p := cfg.Path(cfg.Database.DSNFile); p != "" {
			if _, err := os.Stat(p); err != nil {
				os.MkdirAll(filepath.Dir(p), 0o700)
				if err := os.WriteFile(p, []byte(o.DB+"\n"), 0o600); err != nil {
					return nil, sceau.E(sceau.Unavailable, op, "cannot write database.dsn_file", err)
				}
			}
		}
	} else if err := continuity.InstallSQLite(opened, cfg.Path(cfg.Database.Path)); err != nil {
		return nil, err
	}
	db, err := OpenMigratedStore(ctx, cfg)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	if err := continuity.Trusted(ctx, db, opened.Signed); err != nil {
		return nil, err
	}
	if o.Journal != "" {
		if out.Reconciled, err = continuity.Reconcile(ctx, db, o.Journal, ca.RecoverFromEvent, revocation.RecoverFromEvent); err != nil {
			return nil, err
		}
	}
	details := map[string]any{"name": o.Name, "from": o.Target.String(), "created_at": store.FormatTime(m.CreatedAt),
		"journal_seq": m.JournalSeq, "dir": dir}
	if r := out.Reconciled; r != nil {
		details["journal"] = o.Journal
		details["replayed"] = r.Events
		details["recovered"] = r.Recovered
	}
	err = db.InTx(ctx, func(tx *store.Tx) error {
		return audit.NewJournal(nil).Append(ctx, tx, audit.Event{Actor: sceau.System("restore"), Action: audit.ActionBackupRestored,
			Object: "backup:" + o.Name, Details: details})
	})
	return out, err
}

// VerifyOptions say which backup to verify and how.
type VerifyOptions struct {
	Target     continuity.Target
	Name       string
	Identities []age.Identity
}

// VerifyBackup checks a backup fully (CONT-1): it decrypts it, verifies
// the manifest's signature and every file's digest, and makes a trial
// restore of the database (SQLite) in a temporary directory that opens,
// migrates, holds the signing key and whose journal verifies. It writes
// nothing else.
func VerifyBackup(ctx context.Context, o VerifyOptions) (*continuity.Opened, *audit.VerifyResult, error) {
	stage, err := os.MkdirTemp("", "sceau-verify-")
	if err != nil {
		return nil, nil, sceau.E(sceau.Unavailable, "backup: verify", "cannot create a temporary directory", err)
	}
	defer os.RemoveAll(stage)
	opened, err := continuity.Extract(ctx, o.Target, o.Name, o.Identities, filepath.Join(stage, "b"))
	if err != nil {
		return nil, nil, err
	}
	if opened.Manifest.Engine == "postgres" {
		return opened, nil, nil // the trial restore needs a scratch database: `backup restore --db`
	}
	db, err := store.Open(ctx, store.SQLite, opened.DBPath())
	if err != nil {
		return nil, nil, err
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		return nil, nil, fmt.Errorf("backup: verify: the trial restore does not migrate: %w", err)
	}
	if err := continuity.Trusted(ctx, db, opened.Signed); err != nil {
		return nil, nil, err
	}
	res, err := audit.Verify(ctx, db)
	if err != nil {
		return nil, nil, err
	}
	if !res.OK() {
		return nil, nil, sceau.Errorf(sceau.Invalid, "backup: verify", "the backed-up journal is broken at event %d: %s", res.BrokenAt, res.Reason)
	}
	return opened, &res, nil
}

// RecordVerified journals backup.verified in the installation cfg
// describes (CONT-1: `sceau check` reads how recent the last verified
// backup is).
func RecordVerified(ctx context.Context, cfg *config.Config, from string, opened *continuity.Opened) error {
	db, err := OpenMigratedStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	m := opened.Manifest
	return db.InTx(ctx, func(tx *store.Tx) error {
		return audit.NewJournal(nil).Append(ctx, tx, audit.Event{Actor: sceau.System("backup"), Action: audit.ActionBackupVerified,
			Object: "backup:" + opened.Name, Details: map[string]any{"name": opened.Name, "target": from, "created_at": store.FormatTime(m.CreatedAt),
				"bytes": opened.Bytes, "files": len(m.Files), "journal_seq": m.JournalSeq, "verified_at": store.FormatTime(time.Now())}})
	})
}

// serveStatus is the status-only part of serve: the public listener, the
// archive's and the site's loops, the clock guard; nothing that signs with
// a CA key (CONT-1).
func (n *Node) serveStatus(ctx context.Context, log *slog.Logger, pub *server.Public, ready func(*Node)) error {
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	site := n.Site()
	go n.runArchive(sctx)
	clockDone := make(chan struct{})
	go func() {
		defer close(clockDone)
		n.ClockGuard.Run(sctx)
	}()
	go site.Run(sctx)
	log.Warn("CONT-1: status services only: CRLs as stored, OCSP, publication and time-stamping; no admin listener, no CA key is used; "+
		"restart with 'sceau serve' to activate the CAs (docs/continuity.md)", "config", n.Config.DataDir)
	err := server.Listen(sctx, log, []server.Listener{{Name: "public", Addr: n.Config.Public.Listen, Handler: pub.Handler()}}, func() {
		if ready != nil {
			ready(n)
		}
	})
	cancel()
	<-clockDone
	log.Info("sceau stopped")
	return err
}

// runBackups makes a backup every backup.interval until ctx ends (CONT-1);
// a failure is logged and journaled (backup.failed) and retried at the
// next interval.
func (n *Node) runBackups(ctx context.Context) {
	every := n.Config.Backup.Interval.Duration
	if every <= 0 {
		return
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if res, err := n.Backup(ctx, ""); err != nil {
				if ctx.Err() == nil {
					n.Log.Error("scheduled backup failed", "target", n.Config.Backup.To, "err", err)
				}
			} else {
				n.Log.Info("backup written", "name", res.Name, "target", n.Config.Backup.To, "bytes", res.Bytes)
			}
		}
	}
}

// observeBackupAge registers sceau_backup_age_seconds: the seconds since
// the last backup, as this process made it or the journal recorded it
// (-1 when there is none).
func (n *Node) observeBackupAge(ctx context.Context) {
	last := n.lastBackup()
	if t, err := lastRecordedBackup(ctx, n.DB); err == nil && !t.IsZero() && t.Unix() > last.Load() {
		last.Store(t.Unix())
	}
	n.Metrics.Registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "sceau_backup_age_seconds",
		Help: "Seconds since the last backup of the installation was written (-1: none yet; CONT-1)."}, func() float64 {
		at := last.Load()
		if at == 0 {
			return -1
		}
		return time.Since(time.Unix(at, 0)).Seconds()
	}))
}

// lastRecordedBackup is the created_at of the journal's last
// backup.created of the past 31 days.
func lastRecordedBackup(ctx context.Context, db *store.DB) (time.Time, error) {
	f := audit.Filter{Action: audit.ActionBackupCreated, Limit: audit.MaxPage, Since: time.Now().Add(-31 * 24 * time.Hour)}
	var last *audit.Record
	for range 1000 {
		p, err := audit.Search(ctx, db, f)
		if err != nil {
			return time.Time{}, err
		}
		if len(p.Events) > 0 {
			last = &p.Events[len(p.Events)-1]
		}
		if !p.More {
			break
		}
		f.After = p.Next
	}
	if last == nil {
		return time.Time{}, nil
	}
	var d struct {
		CreatedAt string `json:"created_at"`
	}
	if err := json.Unmarshal([]byte(last.Details), &d); err != nil {
		return time.Time{}, err
	}
	return store.ParseTime(d.CreatedAt)
}
