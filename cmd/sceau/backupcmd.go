package main

import (
	"fmt"
	"os"
	"strings"
	"text/tabwriter"

	"filippo.io/age"
	"github.com/spf13/cobra"

	"github.com/sceau/sceau/internal/config"
	"github.com/sceau/sceau/internal/continuity"
	"github.com/sceau/sceau/internal/node"
	"github.com/sceau/sceau/internal/sceau"
)

func newBackupCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{Use: "backup", Short: "Backups of the installation and restore at a second site (CONT-1)",
		Long: `A backup is a consistent snapshot of the installation: the database, the
configuration, the published files and the journal, with the keystore files as
they are (sealed under their activation secret; PKCS#11 keys stay in their
device). It is one age-encrypted file, to backup.recipients (the second site's
keys), with a manifest signed by the journal's audit key; never a private key
in clear: secret files and files holding a key in clear are left out and named
in the manifest.

  sceau backup create                     a backup to backup.to (or --to)
  sceau backup list                       the backups at the target
  sceau backup verify FROM --identity F   decrypt, check every digest, trial restore
  sceau backup restore FROM --dir NEW --identity F [--journal EXPORT]
                                          restore on a clean machine, reconciled
                                          with the journal's off-site export

After a restore, 'sceau serve --status-only' brings up CRL, OCSP, time-stamping
and publication before any CA key is activated. See docs/continuity.md.`}
	cmd.AddCommand(newBackupCreateCmd(e), newBackupListCmd(e), newBackupVerifyCmd(e), newBackupRestoreCmd(e))
	return cmd
}

func newBackupCreateCmd(e *env) *cobra.Command {
	var to string
	cmd := &cobra.Command{
		Use:   "create",
		Short: "Write a backup of the installation to backup.to or --to",
		Long: `create opens the installation named by --config, takes a consistent snapshot of
its database and its data directory, encrypts it to backup.recipients and signs
its manifest with the audit key; the file appears at the target whole or not at
all. It records backup.created. 'sceau serve' does the same every
backup.interval.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := config.Load(e.configPath)
			if err != nil {
				return err
			}
			n, err := node.Open(cmd.Context(), cfg, nil)
			if err != nil {
				return err
			}
			defer n.Close()
			res, err := n.Backup(cmd.Context(), to)
			if err != nil {
				return err
			}
			m := res.Manifest
			fmt.Fprintf(e.stdout, "Backup %s written: %d bytes encrypted to %d recipient(s), %d files, journal up to event %d.\n",
				res.Name, res.Bytes, len(m.Recipients), len(m.Files), m.JournalSeq)
			for _, x := range m.Excluded {
				fmt.Fprintf(e.stdout, "  left out: %s (%s)\n", x.Path, x.Reason)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&to, "to", "", "target: a directory or s3://bucket/prefix (default backup.to)")
	return cmd
}

func newBackupListCmd(e *env) *cobra.Command {
	var to string
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the backups at backup.to or --to, from their signed manifests",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := config.Load(e.configPath)
			if err != nil {
				return err
			}
			t, err := node.BackupTarget(cfg, to)
			if err != nil {
				return err
			}
			names, err := continuity.Backups(cmd.Context(), t)
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tCREATED\tNODE\tENGINE\tJOURNAL\tBYTES\tSIGNED BY")
			for _, name := range names {
				m, s, err := continuity.ReadSidecar(cmd.Context(), t, name)
				if err != nil {
					fmt.Fprintf(tw, "%s\t(its manifest: %v)\n", name, err)
					continue
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d\t%.16s\n", name, m.CreatedAt.Format("2006-01-02 15:04:05Z"), m.Node, m.Engine,
					m.JournalSeq, m.Size(), s.KeyID)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().StringVar(&to, "to", "", "target: a directory or s3://bucket/prefix (default backup.to)")
	return cmd
}

// s3Flags give an s3:// FROM its endpoint on a machine without the
// installation's configuration.
type s3Flags struct{ endpoint, region, accessKeyFile, secretKeyFile string }

func (f *s3Flags) add(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.endpoint, "s3-endpoint", "", "for an s3:// FROM without --config: the store's URL")
	cmd.Flags().StringVar(&f.region, "s3-region", "", "for an s3:// FROM: the region (default us-east-1)")
	cmd.Flags().StringVar(&f.accessKeyFile, "s3-access-key-file", "", "for an s3:// FROM: the file holding the access key ID")
	cmd.Flags().StringVar(&f.secretKeyFile, "s3-secret-key-file", "", "for an s3:// FROM: the file holding the secret key")
}

// source resolves FROM, with the installation's backup.s3 when --config
// loads and no --s3-endpoint is given.
func (f *s3Flags) source(e *env, from string) (continuity.Target, string, error) {
	var cfg *config.Config
	if f.endpoint != "" {
		cwd, _ := os.Getwd()
		cfg = &config.Config{DataDir: cwd}
		cfg.Backup.S3 = config.AuditS3{Endpoint: f.endpoint, Region: f.region, AccessKeyFile: f.accessKeyFile, SecretKeyFile: f.secretKeyFile}
	} else if strings.HasPrefix(from, "s3://") {
		c, err := config.Load(e.configPath)
		if err != nil {
			return nil, "", fmt.Errorf("an s3:// FROM needs --s3-endpoint and its key files, or --config with backup.s3: %w", err)
		}
		cfg = c
	}
	return node.SplitBackupRef(cfg, from)
}

func readIdentities(path string) ([]age.Identity, error) {
	if path == "" {
		return nil, sceau.Errorf(sceau.Invalid, "backup", "--identity FILE is required: an age identity of the second site (AGE-SECRET-KEY-1…)")
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, sceau.E(sceau.Invalid, "backup", "cannot read the identity file "+path, err)
	}
	defer clear(b)
	return continuity.ParseIdentities(b)
}

func newBackupVerifyCmd(e *env) *cobra.Command {
	var (
		identity string
		s3       s3Flags
	)
	cmd := &cobra.Command{
		Use:   "verify FROM",
		Short: "Verify a backup in full: decrypt, signature, digests, trial restore",
		Long: `verify decrypts FROM (DIR/sceau-backup-….age or s3://bucket/prefix/…) with the
identity, checks the manifest's signature and every file's digest, and restores
the database into a temporary directory, where it must open, migrate, hold the
key that signed the manifest and verify its journal. Nothing else is written.
When --config names an installation, backup.verified is recorded in its
journal ('sceau check' reads how recent the last verified backup is). Run it
weekly at the second site (docs/continuity.md).`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ids, err := readIdentities(identity)
			if err != nil {
				return err
			}
			t, name, err := s3.source(e, args[0])
			if err != nil {
				return err
			}
			opened, res, err := node.VerifyBackup(cmd.Context(), node.VerifyOptions{Target: t, Name: name, Identities: ids})
			if err != nil {
				return err
			}
			m := opened.Manifest
			fmt.Fprintf(e.stdout, "%s: decrypted (%d bytes), manifest signed by %.16s…, %d files match their SHA-256.\n",
				name, opened.Bytes, opened.Signed.KeyID, len(m.Files))
			if res != nil {
				fmt.Fprintf(e.stdout, "Trial restore: the database opens and migrates; its journal verifies (%d events, head %d).\n", res.Events, res.HeadSeq)
			} else {
				fmt.Fprintln(e.stdout, "Trial restore: a PostgreSQL dump is tried by 'sceau backup restore --db' into a scratch database.")
			}
			fmt.Fprintf(e.stdout, "OK: backup of %s made %s, journal up to event %d.\n", m.Node, m.CreatedAt.Format("2006-01-02 15:04:05Z"), m.JournalSeq)
			if cfg, err := config.Load(e.configPath); err == nil {
				if err := node.RecordVerified(cmd.Context(), cfg, t.String(), opened); err != nil {
					fmt.Fprintf(e.stderr, "sceau: backup.verified not recorded in %s: %v\n", cfg.DataDir, err)
				} else {
					fmt.Fprintf(e.stdout, "Recorded backup.verified in the journal of %s.\n", cfg.DataDir)
				}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&identity, "identity", "", "age identity file of the second site (required)")
	s3.add(cmd)
	return cmd
}

func newBackupRestoreCmd(e *env) *cobra.Command {
	var (
		identity, dir, journal, secrets, dsn string
		s3                                   s3Flags
	)
	cmd := &cobra.Command{
		Use:   "restore FROM --dir NEW --identity FILE",
		Short: "Restore a backup into an empty directory (a clean machine at the second site)",
		Long: `restore decrypts and checks FROM as verify does, then puts the configuration,
the data directory's files and the database in place in NEW (empty or absent),
and checks that the manifest is signed by a key of the restored journal.

--journal names the journal's off-site export (audit.export.dir as mounted at
the second site): the events it holds after the backup are replayed, and the
certificates issued and revoked since the backup are recreated, so that OCSP
answers good or revoked for each, never unknown. Without it, the database ends
where the backup does.

The backup leaves out the secret files (the keystore's activation secret, the
TOTP sealing key, the DSN, object-store keys) and any file holding a key in
clear: --secrets DIR copies them from a directory laid out like the data
directory (the second site's sealed copy); the rest are listed.

A PostgreSQL backup restores into the new, empty database of --db.
Then: sceau serve --status-only --config NEW/sceau.yaml (docs/continuity.md).`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if dir == "" {
				return sceau.Errorf(sceau.Invalid, "backup restore", "--dir NEW is required: the empty directory to restore into")
			}
			ids, err := readIdentities(identity)
			if err != nil {
				return err
			}
			t, name, err := s3.source(e, args[0])
			if err != nil {
				return err
			}
			r, err := node.Restore(cmd.Context(), node.RestoreOptions{Target: t, Name: name, Identities: ids, Dir: dir, DB: dsn,
				Journal: journal, Secrets: secrets})
			if err != nil {
				return err
			}
			m := r.Manifest
			fmt.Fprintf(e.stdout, "Restored %s (made %s on %s, journal up to event %d) into %s.\n", name,
				m.CreatedAt.Format("2006-01-02 15:04:05Z"), m.Node, m.JournalSeq, dir)
			if c := r.Reconciled; c != nil {
				fmt.Fprintf(e.stdout, "Reconciled with the journal's export: %d events replayed (journal now up to event %d); recovered: %d issued, %d revoked.\n",
					c.Events, c.To, c.Recovered["certificate.issued"], c.Recovered["certificate.revoked"])
			} else {
				fmt.Fprintln(e.stdout, "Not reconciled with a journal export (--journal): certificates issued after the backup are unknown to this database.")
			}
			for _, x := range r.Missing {
				fmt.Fprintf(e.stdout, "  missing: %s (%s): put it in place before serving\n", x.Path, x.Reason)
			}
			fmt.Fprintf(e.stdout, "Next: sceau serve --status-only --config %s\n", r.Config)
			return nil
		},
	}
	cmd.Flags().StringVar(&identity, "identity", "", "age identity file of the second site (required)")
	cmd.Flags().StringVar(&dir, "dir", "", "the new data directory, empty or absent (required)")
	cmd.Flags().StringVar(&journal, "journal", "", "the journal's off-site export to reconcile with")
	cmd.Flags().StringVar(&secrets, "secrets", "", "a directory holding the secret files the backup left out, laid out like the data directory")
	cmd.Flags().StringVar(&dsn, "db", "", "for a PostgreSQL backup: the DSN of the new, empty database")
	s3.add(cmd)
	return cmd
}
