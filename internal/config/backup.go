package config

import (
	"strings"
	"time"
)

// Backup configures the backups of the installation (CONT-1;
// docs/continuity.md): where `sceau backup create` writes them, to whom
// they are encrypted, and how often `serve` makes one.
type Backup struct {
	// To is the backup target: a directory (on another disk, an NFS mount
	// of the second site), or s3://bucket/prefix with S3 giving the
	// endpoint and keys. Empty: `sceau backup create` needs --to and serve
	// makes none. Default: "".
	To string `yaml:"to,omitempty"`
	// S3 is the object store of an s3:// target: endpoint, region, key
	// files (bucket and prefix come from To). Default: none.
	S3 AuditS3 `yaml:"s3,omitempty"`
	// Recipients are the second site's age X25519 public keys (age1…):
	// each backup is encrypted to all of them, and any one of their
	// identities restores it. Their identities are never on this machine.
	// Required with To. Default: none.
	Recipients []string `yaml:"recipients,omitempty"`
	// Interval between the backups serve makes (1m..30d); 0 turns them
	// off. Default: 0 (off).
	Interval Duration `yaml:"interval,omitempty"`
	// Keep: how many backups a directory target keeps; older ones are
	// removed after a new one is written and verified. 0 keeps them all.
	// Default: 0.
	Keep int `yaml:"keep,omitempty"`
}

// DefaultBackup is the backup section's defaults.
func DefaultBackup() Backup { return Backup{} }

// S3Target splits an s3://bucket/prefix target; ok is false for a directory.
func (a *Backup) S3Target() (bucket, prefix string, ok bool) {
	rest, ok := strings.CutPrefix(a.To, "s3://")
	if !ok {
		return "", "", false
	}
	bucket, prefix, _ = strings.Cut(rest, "/")
	if prefix != "" && !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	return bucket, prefix, true
}

func (a *Backup) validate(c *Config, bad func(string, ...any)) {
	for _, r := range a.Recipients {
		if !strings.HasPrefix(r, "age1") {
			bad("backup.recipients: %q is not an age X25519 public key (age1…)", r)
		}
	}
	if a.To != "" && len(a.Recipients) == 0 {
		bad("backup.to is set but backup.recipients is empty: a backup is always encrypted to the second site (CONT-1)")
	}
	if d := a.Interval.Duration; d != 0 && (d < time.Minute || d > 30*24*time.Hour) {
		bad("backup.interval: %s is not within 1m..30d (0 turns it off)", a.Interval)
	}
	if a.Interval.Duration != 0 && a.To == "" {
		bad("backup.interval is set but backup.to is empty")
	}
	if a.Keep < 0 {
		bad("backup.keep: %d is negative", a.Keep)
	}
	if bucket, _, ok := a.S3Target(); ok {
		if bucket == "" {
			bad("backup.to: %q names no bucket (s3://bucket/prefix)", a.To)
		}
		if a.S3.Endpoint == "" || a.S3.AccessKeyFile == "" || a.S3.SecretKeyFile == "" {
			bad("backup.s3: an s3:// target needs endpoint, access_key_file and secret_key_file")
		}
	} else if a.S3.Endpoint != "" {
		bad("backup.s3 is set but backup.to is not an s3:// target")
	}
}
