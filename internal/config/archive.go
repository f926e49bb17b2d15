package config

import (
	"regexp"
	"strings"
	"time"
)

// Archive configures the ten-year archive (ARC-1..ARC-6, AUD-4;
// docs/archive.md): who certifies its key, who can open its confidential
// items, how long each kind is kept and where copies go.
type Archive struct {
	// SignerCA and SignerProfile name the CA and the profile that certify
	// the archive key, which signs the heads of the archive's Merkle tree
	// (ARC-3). The profile must give digitalSignature and documentSigning,
	// as publication's does. Empty: no heads are signed, and retrieval
	// cannot prove an item's inclusion. Default: "".
	SignerCA      string `yaml:"signer_ca,omitempty"`
	SignerProfile string `yaml:"signer_profile,omitempty"`
	// Recipients are age X25519 public keys (age1…) to which confidential
	// items (identity evidence, personnel records) are sealed; their
	// identities stay with the people who may open them, never on this
	// machine. Empty: confidential items are refused. Default: none.
	Recipients []string `yaml:"recipients,omitempty"`
	// Retention per kind (crl, ca-certificate, document, journal-segment,
	// ceremony-transcript, audit-report, …), from the event. Each is at
	// least 10y (ARC-2: a setting may only lengthen it). Default: 10y for
	// every kind.
	Retention map[string]Duration `yaml:"retention,omitempty"`
	// HeadInterval: a signed tree head is issued at least this often
	// (1m..24h; ARC-3 asks for one a day at least). Default: 1h.
	HeadInterval Duration `yaml:"head_interval"`
	// Replicas receive a copy of every item and head (ARC-4).
	Replicas []ArchiveReplica `yaml:"replicas,omitempty"`
	// ReplicationInterval between passes over the queue (1s..1h).
	// Default: 10s.
	ReplicationInterval Duration `yaml:"replication_interval"`
	// MaxLag: a replica further behind raises an alert (AUD-6). Default: 1h.
	MaxLag Duration `yaml:"max_lag"`
	// MaxItemBytes bounds one item (1 KiB..1 GiB). Default: 64 MiB.
	MaxItemBytes int `yaml:"max_item_bytes"`
}

// ArchiveReplica is one second location: a directory or a bucket.
type ArchiveReplica struct {
	// Name identifies the replica in `sceau archive status` and the
	// sceau_archive_replication_lag_seconds metric.
	Name string `yaml:"name"`
	// Dir: a directory on another disk or an NFS mount.
	Dir string `yaml:"dir,omitempty"`
	// S3: a bucket on S3-compatible storage; object lock in compliance
	// mode is used when the bucket has it enabled.
	S3 AuditS3 `yaml:"s3,omitempty"`
}

// DefaultArchive is the archive section's defaults.
func DefaultArchive() Archive {
	return Archive{HeadInterval: Duration{time.Hour}, ReplicationInterval: Duration{10 * time.Second}, MaxLag: Duration{time.Hour},
		MaxItemBytes: 64 << 20}
}

var archiveKind = regexp.MustCompile(`^[a-z0-9-]{1,64}$`)

func (a *Archive) validate(c *Config, bad func(string, ...any)) {
	if (a.SignerCA == "") != (a.SignerProfile == "") {
		bad("archive.signer_ca and archive.signer_profile go together")
	}
	if a.SignerCA != "" && !c.hasProfile(a.SignerCA, a.SignerProfile) {
		bad("archive.signer_profile: no CA %q with a profile %q is declared", a.SignerCA, a.SignerProfile)
	}
	for _, r := range a.Recipients {
		if !strings.HasPrefix(r, "age1") {
			bad("archive.recipients: %q is not an age X25519 public key (age1…)", r)
		}
	}
	for k, d := range a.Retention {
		if !archiveKind.MatchString(k) {
			bad("archive.retention: %q is not a kind (lower-case letters, digits, '-')", k)
		}
		if d.Duration < 10*365*24*time.Hour {
			bad("archive.retention.%s: %s is below 10y (ARC-2: retention may only lengthen)", k, d)
		}
	}
	if d := a.HeadInterval.Duration; d < time.Minute || d > 24*time.Hour {
		bad("archive.head_interval: %s is not within 1m..24h (ARC-3: a signed head at least daily)", a.HeadInterval)
	}
	if d := a.ReplicationInterval.Duration; d < time.Second || d > time.Hour {
		bad("archive.replication_interval: %s is not within 1s..1h", a.ReplicationInterval)
	}
	if a.MaxLag.Duration < time.Second {
		bad("archive.max_lag: %s is below 1s", a.MaxLag)
	}
	if a.MaxItemBytes < 1<<10 || a.MaxItemBytes > 1<<30 {
		bad("archive.max_item_bytes: %d is not within 1 KiB..1 GiB", a.MaxItemBytes)
	}
	seen := map[string]bool{}
	for i, r := range a.Replicas {
		if !archiveKind.MatchString(r.Name) {
			bad("archive.replicas[%d].name: %q is not a name (lower-case letters, digits, '-')", i, r.Name)
		}
		if seen[r.Name] {
			bad("archive.replicas: %q is listed twice", r.Name)
		}
		seen[r.Name] = true
		if (r.Dir == "") == (r.S3.Endpoint == "") {
			bad("archive.replicas[%d] (%s): give dir or s3.endpoint, one of them", i, r.Name)
		}
		if r.S3.Endpoint != "" && (r.S3.Bucket == "" || r.S3.AccessKeyFile == "" || r.S3.SecretKeyFile == "") {
			bad("archive.replicas[%d].s3: endpoint needs bucket, access_key_file and secret_key_file", i)
		}
	}
}

// hasProfile says whether CA id declares profile.
func (c *Config) hasProfile(id, profile string) bool {
	for _, ca := range c.CAs {
		if ca.ID != id {
			continue
		}
		for _, p := range ca.Profiles {
			if p.Name == profile {
				return true
			}
		}
	}
	return false
}
