package config_test

import (
	"strings"
	"testing"
	"time"

	"github.com/sceau/sceau/internal/config"
)

// The audit section has defaults for everything: a minimal configuration
// checkpoints every 1000 events or 5 minutes and keeps events live 31 days.
func TestAUD2_AuditSectionDefaults(t *testing.T) {
	c, err := config.Parse([]byte(minimal))
	if err != nil {
		t.Fatal(err)
	}
	a := c.Audit
	if a.SigningKey != "audit-signing" || a.Checkpoint.Every != 1000 || a.Checkpoint.Interval.Duration != 5*time.Minute ||
		a.Retention.Live.Duration != 31*24*time.Hour || a.Syslog.Network != "udp" || a.Export.Dir != "" ||
		a.Analysis.FailedLogins != 5 || a.Analysis.CeremonyRule == nil || !*a.Analysis.CeremonyRule {
		t.Errorf("audit defaults: %+v", a)
	}
	c, err = config.Parse([]byte(minimal + `
audit:
  export: {dir: /mnt/backup/audit}
  syslog: {address: "collector.example:6514", network: tcp}
  analysis:
    ceremony_rule: false
    working_hours: {days: [mon, fri], start: "08:00", end: "18:30", timezone: Europe/Paris}
    ceremony_windows: [{start: 2026-06-01T08:00:00+02:00, end: 2026-06-01T18:00:00+02:00}]
`))
	if err != nil {
		t.Fatal(err)
	}
	if c.Audit.Export.Dir != "/mnt/backup/audit" || c.Audit.Syslog.Network != "tcp" || *c.Audit.Analysis.CeremonyRule ||
		len(c.Audit.Analysis.CeremonyWindows) != 1 || c.Audit.Checkpoint.Every != 1000 {
		t.Errorf("audit section: %+v", c.Audit)
	}
}

// AUD-4: the configuration refuses to keep events live less than a month;
// every other problem of the audit section is reported at once.
func TestAUD4_ConfigRefusesLiveRetentionBelowAMonth(t *testing.T) {
	_, err := config.Parse([]byte(minimal + `
audit:
  signing_key: "Audit Key"
  checkpoint: {every: 0, interval: 0s}
  syslog: {address: "nowhere", network: carrier-pigeon}
  retention: {live: 30d}
  analysis:
    failed_logins: 3
    failed_login_window: 0s
    working_hours: {days: [mon, funday], start: "18:00", end: "08:00", timezone: Mars/Olympus}
    ceremony_windows: [{start: 2026-06-02T00:00:00Z, end: 2026-06-01T00:00:00Z}]
    webhook: {url: "ftp://x"}
  bogus: 1
`))
	if err == nil || !strings.Contains(err.Error(), "bogus") {
		t.Fatalf("unknown key in the audit section: %v", err)
	}
	_, err = config.Parse([]byte(minimal + `
audit:
  signing_key: "Audit Key"
  checkpoint: {every: 0, interval: 0s}
  syslog: {address: "nowhere", network: carrier-pigeon}
  retention: {live: 30d}
  analysis:
    failed_logins: 3
    failed_login_window: 0s
    working_hours: {days: [mon, funday], start: "18:00", end: "08:00", timezone: Mars/Olympus}
    ceremony_windows: [{start: 2026-06-02T00:00:00Z, end: 2026-06-01T00:00:00Z}]
    webhook: {url: "ftp://x"}
`))
	if err == nil {
		t.Fatal("accepted")
	}
	for _, want := range []string{"audit.signing_key", "audit.checkpoint.every", "audit.checkpoint.interval", "audit.syslog.network",
		"audit.syslog.address", "audit.retention.live: 30d is below the policy's minimum of 31d (AUD-4)", "failed_login_window",
		`"funday"`, "start 18:00 is not before end 08:00", "Mars/Olympus", "ceremony_windows[0]", "webhook.url"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not mention %s:\n%v", want, err)
		}
	}
}

// AUD-2, AUD-5: the audit key's token needs its PIN file and a PKCS#11
// module; syslog over TLS takes a CA file, which other networks refuse;
// object storage needs a bucket and its keys as files. Every problem is
// reported at once.
func TestAUD5_ConfigChecksTokenSyslogTLSAndObjectStorage(t *testing.T) {
	c, err := config.Parse([]byte(minimal + `
audit:
  syslog: {address: "collector.example:6514", network: tls, ca_file: secrets/collector-ca.pem, server_name: collector.example}
  export:
    s3: {endpoint: "https://s3.example.org", bucket: journal, access_key_file: secrets/s3.access, secret_key_file: secrets/s3.secret}
`))
	if err != nil {
		t.Fatal(err)
	}
	if c.Audit.Syslog.Network != "tls" || c.Audit.Syslog.CAFile != "secrets/collector-ca.pem" || c.Audit.Export.S3.Bucket != "journal" {
		t.Errorf("audit section: %+v", c.Audit)
	}
	_, err = config.Parse([]byte(minimal + `
audit:
  token: audit-token
  syslog: {address: "collector.example:514", network: tcp, ca_file: ca.pem}
  export:
    s3: {endpoint: "s3.example.org/journal"}
`))
	if err == nil {
		t.Fatal("accepted")
	}
	for _, want := range []string{"token and token_pin_file go together", "audit.token: the audit signing key's token needs keystore.pkcs11.module",
		"ca_file and server_name need network: tls", "audit.export.s3.endpoint", "bucket, access_key_file and secret_key_file are required"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the refusal lacks %q:\n%v", want, err)
		}
	}
}
