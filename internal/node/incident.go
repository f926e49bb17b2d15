package node

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"os"
	"strings"
	"time"

	"github.com/sceau/sceau/internal/audit"
	"github.com/sceau/sceau/internal/incident"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/server"
)

// The incident register (INC-1, INC-4; docs/incident.md), built from the
// incident section: mail to the Security Officers and partners through
// incident.smtp, a signed webhook, syslog. Serve retries the deliveries and
// checks the deadlines (runIncidents).

// CompromiseCommand is what the timeline of a major incident says must be
// started: the CA key compromise procedure (INC-2, docs/incident.md).
const CompromiseCommand = "sceau ca compromise CA --reason TEXT --yes, approved by two other Security Officers (INC-2, docs/incident.md)"

func (n *Node) newIncidents() (*incident.Service, error) {
	cfg := n.Config.Incident
	o := incident.Options{Log: n.Log, Margin: cfg.AlertMargin.Duration, Backoff: cfg.RetryInterval.Duration,
		MaxBackoff: cfg.MaxRetryInterval.Duration, CompromiseCommand: CompromiseCommand,
		OnMajor: func(_ context.Context, in *incident.Incident) {
			n.Log.Error("INC-2: a major incident was opened: start the compromise procedure", "incident", in.ID, "kind", in.Kind,
				"title", in.Title, "procedure", CompromiseCommand)
		}}
	if s := cfg.SMTP; s.Relay != "" {
		so := incident.SMTPOptions{Addr: s.Relay, From: s.From, TLS: s.TLS, Username: s.Username}
		if s.CAFile != "" {
			pool, err := pemPool(n.Config.Path(s.CAFile), "incident.smtp.ca_file")
			if err != nil {
				return nil, err
			}
			so.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: pool}
		}
		if s.PasswordFile != "" {
			b, err := os.ReadFile(n.Config.Path(s.PasswordFile))
			if err != nil {
				return nil, sceau.E(sceau.Invalid, "incident", "cannot read incident.smtp.password_file", err)
			}
			so.Password = strings.TrimSpace(string(b))
		}
		snd, err := incident.NewSMTP(so)
		if err != nil {
			return nil, err
		}
		o.Senders = append(o.Senders, snd)
		for _, a := range cfg.SecurityOfficers {
			o.Recipients = append(o.Recipients, incident.Recipient{Channel: "smtp", To: a, Who: "security-officer"})
		}
		for _, a := range cfg.Partners {
			o.Recipients = append(o.Recipients, incident.Recipient{Channel: "smtp", To: a, Who: "partner"})
		}
	}
	if w := cfg.Webhook; w.URL != "" {
		b, err := os.ReadFile(n.Config.Path(w.SecretFile))
		if err != nil {
			return nil, sceau.E(sceau.Invalid, "incident", "cannot read incident.webhook.secret_file", err)
		}
		snd, err := incident.NewWebhook([]byte(strings.TrimSpace(string(b))), nil, nil)
		if err != nil {
			return nil, err
		}
		o.Senders = append(o.Senders, snd)
		o.Recipients = append(o.Recipients, incident.Recipient{Channel: "webhook", To: w.URL, Who: "partner"})
	}
	if sl := cfg.Syslog; sl.Address != "" {
		so := audit.SyslogOptions{Network: sl.Network, Address: sl.Address, Facility: sl.Facility}
		if sl.Network == "tls" {
			so.TLS = &tls.Config{MinVersion: tls.VersionTLS12, ServerName: sl.ServerName}
			if sl.CAFile != "" {
				pool, err := pemPool(n.Config.Path(sl.CAFile), "incident.syslog.ca_file")
				if err != nil {
					return nil, err
				}
				so.TLS.RootCAs = pool
			}
		}
		o.Senders = append(o.Senders, incident.NewSyslog(so, nil))
		o.Recipients = append(o.Recipients, incident.Recipient{Channel: "syslog", To: sl.Address, Who: "collector"})
	}
	return incident.NewService(n.DB, n.Journal, o), nil
}

func pemPool(path, setting string) (*x509.CertPool, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, sceau.E(sceau.Invalid, "incident", "cannot read "+setting, err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		return nil, sceau.Errorf(sceau.Invalid, "incident", "%s %s holds no PEM certificate", setting, path)
	}
	return pool, nil
}

// incidentsDue is what serve's incident loop does on each pass: retry the
// notifications due, raise the deadline alerts, and set the gauges.
func (n *Node) incidentsDue(ctx context.Context) {
	if _, err := n.Incidents.Deliver(ctx); err != nil && ctx.Err() == nil {
		n.Log.Warn("incident: deliveries", "err", err)
	}
	if _, err := n.Incidents.CheckDeadlines(ctx); err != nil && ctx.Err() == nil {
		n.Log.Warn("incident: deadlines", "err", err)
	}
	st, err := n.Incidents.Status(ctx)
	if err != nil {
		return
	}
	obs, err := n.Incidents.Pending(ctx)
	if err != nil {
		return
	}
	now := n.Incidents.Now()
	due := make([]server.IncidentDue, len(obs))
	for i, o := range obs {
		due[i] = server.IncidentDue{Incident: o.Incident, Kind: string(o.Kind), Left: o.DueAt.Sub(now)}
	}
	n.Metrics.SetIncidents(st.Open, st.Undelivered, due)
}

// runIncidents runs incidentsDue at once and every incident.retry_interval
// (at most a minute) until ctx ends.
func (n *Node) runIncidents(ctx context.Context) {
	if len(n.Config.Incident.SecurityOfficers) == 0 {
		n.Log.Warn("INC-1: incident.security_officers is empty: an incident opened is told to no Security Officer (docs/incident.md)")
	}
	t := time.NewTicker(min(n.Config.Incident.RetryInterval.Duration, time.Minute))
	defer t.Stop()
	for {
		n.incidentsDue(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
