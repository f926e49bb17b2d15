package config

import (
	"net"
	"net/mail"
	"net/url"
	"time"
)

// Incident configures the incident register (INC-1, INC-4;
// docs/incident.md): who is told of an incident, and how.
type Incident struct {
	// SecurityOfficers: the e-mail addresses of the Security Officers,
	// told of every incident opened and closed and of every deadline
	// alert (INC-1). Default: none (configure them: an incident must reach
	// someone).
	SecurityOfficers []string `yaml:"security_officers,omitempty"`
	// Partners: other e-mail addresses told of the same (a SOC, the
	// hosting provider, the legal department). Default: none.
	Partners []string `yaml:"partners,omitempty"`
	// SMTP is the relay that carries the mail.
	SMTP IncidentSMTP `yaml:"smtp,omitempty"`
	// Webhook, if its URL is set, receives every notification as a JSON
	// POST signed with X-Sceau-Signature: sha256=<HMAC-SHA256 of the body>.
	Webhook IncidentWebhook `yaml:"webhook,omitempty"`
	// Syslog, if its address is set, receives every notification (RFC
	// 5424, severity alert), as audit.syslog does the journal.
	Syslog AuditSyslog `yaml:"syslog,omitempty"`
	// AlertMargin: the alert before a notification owed to an authority
	// is due is raised when less than this is left (INC-4; 10m..23h).
	// Default: 4h.
	AlertMargin Duration `yaml:"alert_margin"`
	// RetryInterval: the wait after a first failed delivery, doubled after
	// each next one up to MaxRetryInterval. Defaults: 30s and 1h.
	RetryInterval    Duration `yaml:"retry_interval"`
	MaxRetryInterval Duration `yaml:"max_retry_interval"`
}

// IncidentSMTP is the mail relay.
type IncidentSMTP struct {
	// Relay: host:port of the submission relay. Empty: no mail. Default: "".
	Relay string `yaml:"relay,omitempty"`
	// From: the sender address. Required with a relay.
	From string `yaml:"from,omitempty"`
	// TLS: starttls (port 587), tls (implicit, port 465), or none (only
	// to a relay on the loopback). Default: starttls.
	TLS string `yaml:"tls,omitempty"`
	// CAFile: a PEM file of the CA certificates that verify the relay.
	// Default: "" (the system's roots). Verification is never turned off.
	CAFile string `yaml:"ca_file,omitempty"`
	// Username and PasswordFile authenticate (PLAIN, over TLS only).
	Username     string `yaml:"username,omitempty"`
	PasswordFile string `yaml:"password_file,omitempty"`
}

// IncidentWebhook is a signed webhook.
type IncidentWebhook struct {
	URL string `yaml:"url,omitempty"`
	// SecretFile holds the shared HMAC secret (at least 16 bytes).
	SecretFile string `yaml:"secret_file,omitempty"`
}

// DefaultIncident is the incident section's defaults.
func DefaultIncident() Incident {
	return Incident{SMTP: IncidentSMTP{TLS: "starttls"}, Syslog: AuditSyslog{Network: "udp", Facility: 13},
		AlertMargin: Duration{4 * time.Hour}, RetryInterval: Duration{30 * time.Second}, MaxRetryInterval: Duration{time.Hour}}
}

func (in *Incident) validate(bad func(string, ...any)) {
	for _, list := range []struct {
		name  string
		addrs []string
	}{{"security_officers", in.SecurityOfficers}, {"partners", in.Partners}} {
		for _, a := range list.addrs {
			if _, err := mail.ParseAddress(a); err != nil {
				bad("incident.%s: %q is not an e-mail address", list.name, a)
			}
		}
	}
	s := in.SMTP
	if len(in.SecurityOfficers)+len(in.Partners) > 0 && s.Relay == "" {
		bad("incident.smtp.relay: the addresses of incident.security_officers and incident.partners need a relay")
	}
	if s.Relay != "" {
		if _, _, err := net.SplitHostPort(s.Relay); err != nil {
			bad("incident.smtp.relay: %q is not host:port", s.Relay)
		}
		if _, err := mail.ParseAddress(s.From); err != nil {
			bad("incident.smtp.from: %q is not an e-mail address", s.From)
		}
	}
	switch s.TLS {
	case "starttls", "tls", "none":
	default:
		bad("incident.smtp.tls: %q is not starttls, tls or none", s.TLS)
	}
	if (s.Username == "") != (s.PasswordFile == "") {
		bad("incident.smtp.username and incident.smtp.password_file go together")
	}
	if w := in.Webhook; w.URL != "" {
		if u, err := url.Parse(w.URL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			bad("incident.webhook.url: %q is not an http(s) URL", w.URL)
		}
		if w.SecretFile == "" {
			bad("incident.webhook.secret_file: a webhook's notifications are signed: give the secret's file")
		}
	}
	switch in.Syslog.Network {
	case "udp", "tcp", "tls":
	default:
		bad("incident.syslog.network: %q is not udp, tcp or tls", in.Syslog.Network)
	}
	if a := in.Syslog.Address; a != "" {
		if _, _, err := net.SplitHostPort(a); err != nil {
			bad("incident.syslog.address: %q is not host:port", a)
		}
	}
	if d := in.AlertMargin.Duration; d < 10*time.Minute || d > 23*time.Hour {
		bad("incident.alert_margin: %s is not within 10m..23h", in.AlertMargin)
	}
	if d := in.RetryInterval.Duration; d < time.Second || d > time.Hour {
		bad("incident.retry_interval: %s is not within 1s..1h", in.RetryInterval)
	}
	if in.MaxRetryInterval.Duration < in.RetryInterval.Duration || in.MaxRetryInterval.Duration > 24*time.Hour {
		bad("incident.max_retry_interval: %s is not within retry_interval..24h", in.MaxRetryInterval)
	}
}
