package config

import (
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// Audit configures the journal's workers (AUD-2, AUD-4, AUD-5, AUD-6).
type Audit struct {
	// SigningKey is the keystore label of the checkpoint signing key
	// (ECDSA P-256), created at init. Default: audit-signing.
	SigningKey string `yaml:"signing_key"`
	// Token is the label of the PKCS#11 token (keystore.pkcs11.module) that
	// holds the checkpoint signing key (AUD-2: in the device when PKCS#11
	// is configured). The key is generated in the token, non-extractable,
	// the first time. Empty: the software keystore. Default: "".
	Token string `yaml:"token,omitempty"`
	// TokenPINFile holds the user PIN of Token (never inline): the audit
	// key signs checkpoints unattended from the start of the service, so
	// its token cannot wait for a quorum like a CA key. Required with Token.
	TokenPINFile string          `yaml:"token_pin_file,omitempty"`
	Checkpoint   AuditCheckpoint `yaml:"checkpoint"`
	Export       AuditExport     `yaml:"export"`
	Syslog       AuditSyslog     `yaml:"syslog"`
	Retention    AuditRetention  `yaml:"retention"`
	Analysis     AuditAnalysis   `yaml:"analysis"`
}

// AuditCheckpoint sets how often the chain head is signed (AUD-2).
type AuditCheckpoint struct {
	// Every: a checkpoint after this many events. Default: 1000.
	Every int64 `yaml:"every"`
	// Interval: a checkpoint at least this often when events were
	// appended. Default: 5m.
	Interval Duration `yaml:"interval"`
}

// AuditExport is the continuous export to the backup site (AUD-5).
type AuditExport struct {
	// Dir receives the journal as JSON lines with its checkpoints; point it
	// at the backup site's mount. Empty turns the export off. Default: "".
	Dir string `yaml:"dir"`
	// Interval between export runs, to the directory and to object
	// storage. Default: 10s.
	Interval Duration `yaml:"interval"`
	// S3 also sends the export to S3-compatible object storage (AUD-5).
	S3 AuditS3 `yaml:"s3"`
}

// AuditS3 is the bucket that receives the export (AUD-5). Requests are
// path-style (endpoint/bucket/key) and signed with AWS Signature V4.
type AuditS3 struct {
	// Endpoint: the store's URL, scheme and host, e.g.
	// https://s3.backup.example.org. Empty turns it off. Default: "".
	Endpoint string `yaml:"endpoint"`
	// Region of the signature scope. Default: us-east-1.
	Region string `yaml:"region,omitempty"`
	// Bucket: an existing bucket. Required with Endpoint.
	Bucket string `yaml:"bucket,omitempty"`
	// Prefix of the objects' names. Default: sceau-audit/.
	Prefix string `yaml:"prefix,omitempty"`
	// AccessKeyFile and SecretKeyFile hold the access key ID and the
	// secret key (never inline). Required with Endpoint.
	AccessKeyFile string `yaml:"access_key_file,omitempty"`
	SecretKeyFile string `yaml:"secret_key_file,omitempty"`
	// CAFile: a PEM file of CA certificates that verify an https endpoint.
	// Default: "" (the system's roots).
	CAFile string `yaml:"ca_file,omitempty"`
}

// AuditSyslog forwards every event to a central collector (AUD-5).
type AuditSyslog struct {
	// Address of an RFC 5424 collector, host:port; empty turns forwarding
	// off. Default: "".
	Address string `yaml:"address"`
	// Network: udp (RFC 5426), tcp (RFC 6587 octet counting) or tls
	// (RFC 5425: TLS 1.2 or later, octet counting; the collector's
	// certificate is always verified). Default: udp.
	Network string `yaml:"network"`
	// Facility: RFC 5424 facility number. Default: 13 (log audit).
	Facility int `yaml:"facility"`
	// CAFile: with tls, a PEM file of the CA certificates that verify the
	// collector's certificate. Default: "" (the system's roots).
	CAFile string `yaml:"ca_file,omitempty"`
	// ServerName: with tls, the name the collector's certificate must
	// carry. Default: "" (the host of address).
	ServerName string `yaml:"server_name,omitempty"`
}

// AuditRetention sets how long events stay in the live journal (AUD-4).
type AuditRetention struct {
	// Live: events older than this move to the archive, with their
	// checkpoints. At least 31d (the policy's month on site). Default: 31d.
	Live Duration `yaml:"live"`
	// Interval between moves. Default: 1h.
	Interval Duration `yaml:"interval"`
}

// AuditAnalysis sets the anomaly rules (AUD-6). A zero count or duration
// turns its rule off.
type AuditAnalysis struct {
	// Interval between runs over new events. Default: 5s.
	Interval Duration `yaml:"interval"`
	// FailedLogins failed logins of one account within FailedLoginWindow
	// raise an alert. Default: 5 within 5m.
	FailedLogins      int      `yaml:"failed_logins"`
	FailedLoginWindow Duration `yaml:"failed_login_window"`
	// MassRevocations revocations within MassRevocationWindow raise an
	// alert. Default: 100 within 10m.
	MassRevocations      int      `yaml:"mass_revocations"`
	MassRevocationWindow Duration `yaml:"mass_revocation_window"`
	// ClockJump: an event dated this much before the previous one, or
	// ahead of the clock, raises an alert. Default: 2m.
	ClockJump Duration `yaml:"clock_jump"`
	// WorkingHours: people acting outside them raise an alert. No days
	// turns the rule off. Default: off.
	WorkingHours WorkingHours `yaml:"working_hours"`
	// CeremonyRule: a CA key activation (key.activated) outside every
	// ceremony window and outside a running ceremony raises an alert.
	// Default: true.
	CeremonyRule *bool `yaml:"ceremony_rule"`
	// CeremonyWindows: planned key ceremonies. Default: none.
	CeremonyWindows []TimeWindow `yaml:"ceremony_windows,omitempty"`
	// Webhook receives each alert as a JSON POST.
	Webhook Webhook `yaml:"webhook"`
}

// WorkingHours are the days and times people are expected to act.
type WorkingHours struct {
	// Days: mon, tue, wed, thu, fri, sat, sun.
	Days []string `yaml:"days,omitempty"`
	// Start and End: HH:MM, local to Timezone; End is excluded.
	Start string `yaml:"start,omitempty"`
	End   string `yaml:"end,omitempty"`
	// Timezone: an IANA name. Default: UTC.
	Timezone string `yaml:"timezone,omitempty"`
}

// TimeWindow is a span of time, RFC 3339.
type TimeWindow struct {
	Start time.Time `yaml:"start"`
	End   time.Time `yaml:"end"`
}

// Webhook is where alerts are posted.
type Webhook struct {
	// URL: http or https; empty turns the webhook off. Default: "".
	URL string `yaml:"url"`
	// TokenFile holds a bearer token sent with each alert (never inline).
	TokenFile string `yaml:"token_file,omitempty"`
}

// MinLiveRetention is the least live retention the policy allows (AUD-4:
// at least one month on site).
const MinLiveRetention = 31 * 24 * time.Hour

// DefaultAudit is the audit section of a fresh configuration.
func DefaultAudit() Audit {
	on := true
	return Audit{
		SigningKey: "audit-signing",
		Checkpoint: AuditCheckpoint{Every: 1000, Interval: Duration{5 * time.Minute}},
		Export:     AuditExport{Interval: Duration{10 * time.Second}},
		Syslog:     AuditSyslog{Network: "udp", Facility: 13},
		Retention:  AuditRetention{Live: Duration{MinLiveRetention}, Interval: Duration{time.Hour}},
		Analysis: AuditAnalysis{Interval: Duration{5 * time.Second}, FailedLogins: 5, FailedLoginWindow: Duration{5 * time.Minute},
			MassRevocations: 100, MassRevocationWindow: Duration{10 * time.Minute}, ClockJump: Duration{2 * time.Minute},
			CeremonyRule: &on},
	}
}

// Weekdays maps the day names of WorkingHours.Days to time.Weekday.
var Weekdays = map[string]time.Weekday{"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday,
	"thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday}

var (
	labelPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)
	clockPattern = regexp.MustCompile(`^([01][0-9]|2[0-3]):[0-5][0-9]$|^24:00$`)
)

// ClockTime reads HH:MM as a duration since midnight.
func ClockTime(s string) (time.Duration, error) {
	if !clockPattern.MatchString(s) {
		return 0, fmt.Errorf("%q is not HH:MM", s)
	}
	var h, m int
	fmt.Sscanf(s, "%d:%d", &h, &m)
	return time.Duration(h)*time.Hour + time.Duration(m)*time.Minute, nil
}

// validate reports the audit section's problems through bad.
func (a *Audit) validate(bad func(format string, args ...any)) {
	if !labelPattern.MatchString(a.SigningKey) {
		bad("audit.signing_key: %q is not a keystore label ([a-z0-9._-], at most 64)", a.SigningKey)
	}
	if (a.Token == "") != (a.TokenPINFile == "") {
		bad("audit: token and token_pin_file go together (the audit signing key's PKCS#11 token and its PIN file)")
	}
	if a.Checkpoint.Every < 1 || a.Checkpoint.Every > 1_000_000 {
		bad("audit.checkpoint.every: %d is not within 1..1000000 events", a.Checkpoint.Every)
	}
	if d := a.Checkpoint.Interval.Duration; d < time.Second || d > 24*time.Hour {
		bad("audit.checkpoint.interval: %s is not within 1s..24h", a.Checkpoint.Interval)
	}
	if a.Export.Interval.Duration < time.Second {
		bad("audit.export.interval: %s is below 1s", a.Export.Interval)
	}
	if x := a.Export.S3; x.Endpoint != "" {
		if p, err := url.Parse(x.Endpoint); err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" || (p.Path != "" && p.Path != "/") {
			bad("audit.export.s3.endpoint: %q is not an http(s) URL without a path", x.Endpoint)
		}
		if x.Bucket == "" || x.AccessKeyFile == "" || x.SecretKeyFile == "" {
			bad("audit.export.s3: bucket, access_key_file and secret_key_file are required with endpoint")
		}
	}
	switch a.Syslog.Network {
	case "udp", "tcp", "tls":
	default:
		bad("audit.syslog.network: %q is not udp, tcp or tls", a.Syslog.Network)
	}
	if a.Syslog.Network != "tls" && (a.Syslog.CAFile != "" || a.Syslog.ServerName != "") {
		bad("audit.syslog: ca_file and server_name need network: tls")
	}
	if a.Syslog.Address != "" {
		if _, _, err := net.SplitHostPort(a.Syslog.Address); err != nil {
			bad("audit.syslog.address: %q is not host:port", a.Syslog.Address)
		}
	}
	if a.Syslog.Facility < 0 || a.Syslog.Facility > 23 {
		bad("audit.syslog.facility: %d is not within 0..23", a.Syslog.Facility)
	}
	// AUD-4: events stay on site at least one month.
	if a.Retention.Live.Duration < MinLiveRetention {
		bad("audit.retention.live: %s is below the policy's minimum of %s (AUD-4)", a.Retention.Live, Duration{MinLiveRetention})
	}
	if a.Retention.Interval.Duration < time.Minute {
		bad("audit.retention.interval: %s is below 1m", a.Retention.Interval)
	}
	an := &a.Analysis
	if an.Interval.Duration < time.Second {
		bad("audit.analysis.interval: %s is below 1s", an.Interval)
	}
	if an.FailedLogins < 0 || (an.FailedLogins > 0 && an.FailedLoginWindow.Duration <= 0) {
		bad("audit.analysis: failed_logins must be 0 (off) or positive with a positive failed_login_window")
	}
	if an.MassRevocations < 0 || (an.MassRevocations > 0 && an.MassRevocationWindow.Duration <= 0) {
		bad("audit.analysis: mass_revocations must be 0 (off) or positive with a positive mass_revocation_window")
	}
	if an.ClockJump.Duration < 0 {
		bad("audit.analysis.clock_jump: %s is negative", an.ClockJump)
	}
	if wh := an.WorkingHours; len(wh.Days) > 0 {
		for _, d := range wh.Days {
			if _, ok := Weekdays[strings.ToLower(d)]; !ok {
				bad("audit.analysis.working_hours.days: %q is not one of mon, tue, wed, thu, fri, sat, sun", d)
			}
		}
		start, err1 := ClockTime(wh.Start)
		end, err2 := ClockTime(wh.End)
		switch {
		case err1 != nil:
			bad("audit.analysis.working_hours.start: %v", err1)
		case err2 != nil:
			bad("audit.analysis.working_hours.end: %v", err2)
		case start >= end:
			bad("audit.analysis.working_hours: start %s is not before end %s", wh.Start, wh.End)
		}
		if wh.Timezone != "" {
			if _, err := time.LoadLocation(wh.Timezone); err != nil {
				bad("audit.analysis.working_hours.timezone: %q is not a known time zone", wh.Timezone)
			}
		}
	}
	for i, w := range an.CeremonyWindows {
		if !w.End.After(w.Start) {
			bad("audit.analysis.ceremony_windows[%d]: end %s is not after start %s", i, w.End.Format(time.RFC3339), w.Start.Format(time.RFC3339))
		}
	}
	if u := an.Webhook.URL; u != "" {
		if p, err := url.Parse(u); err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
			bad("audit.analysis.webhook.url: %q is not an http(s) URL", u)
		}
	}
	if an.Webhook.TokenFile != "" && an.Webhook.URL == "" {
		bad("audit.analysis.webhook.token_file: set without a url")
	}
}
