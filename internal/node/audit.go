package node

import (
	"context"
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"gopkg.in/yaml.v3"

	"github.com/sceau/sceau/internal/audit"
	"github.com/sceau/sceau/internal/config"
	"github.com/sceau/sceau/internal/keys"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/server"
	"github.com/sceau/sceau/internal/store"
)

// auditKeyStore is what the audit signing key needs of a keystore.
type auditKeyStore interface {
	Signer(label string) (crypto.Signer, error)
	Generate(label string, t keys.Type) (crypto.Signer, error)
}

// auditSigner returns the checkpoint signing key, created (ECDSA P-256)
// the first time.
func auditSigner(ks auditKeyStore, label string) (crypto.Signer, error) {
	s, err := ks.Signer(label)
	if errors.Is(err, sceau.ErrNotFound) {
		return ks.Generate(label, keys.ECDSAP256)
	}
	return s, err
}

// auditTokenRing is where the ring keeps the audit signing key's token,
// so that it is deactivated with every other store when the node closes.
// It cannot be a CA's ID (CA IDs take no colon).
const auditTokenRing = "audit:token"

// auditKeys returns the store of the audit signing key: the PKCS#11 token
// of audit.token, opened with audit.token_pin_file the first time (AUD-2:
// in the device when PKCS#11 is configured), else the service keystore.
func (n *Node) auditKeys() (auditKeyStore, error) {
	a := n.Config.Audit
	if a.Token == "" {
		return n.Keys, nil
	}
	if st, ok := n.Ring.CAStore(auditTokenRing); ok {
		return st, nil
	}
	if n.Config.Keystore.PKCS11 == nil {
		return nil, sceau.Errorf(sceau.Invalid, "audit", "audit.token needs keystore.pkcs11.module")
	}
	pin, err := os.ReadFile(n.Config.Path(a.TokenPINFile))
	if err != nil {
		return nil, sceau.E(sceau.Unavailable, "audit", "cannot read audit.token_pin_file", err)
	}
	defer clear(pin)
	st := keys.OpenPKCS11(keys.PKCS11Config{Module: n.Config.Keystore.PKCS11.Module, TokenLabel: a.Token})
	if err := st.Activate([]byte(strings.TrimSpace(string(pin)))); err != nil {
		return nil, fmt.Errorf("audit signing key token %q: %w", a.Token, err)
	}
	n.Ring.AddCA(auditTokenRing, st)
	return st, nil
}

// ensureAuditKey loads or creates the audit signing key in its store and
// registers its public key in the journal (AUD-2), so that checkpoints
// verify offline from the database or an export.
func (n *Node) ensureAuditKey(ctx context.Context) error {
	label := n.Config.Audit.SigningKey
	ks, err := n.auditKeys()
	if err != nil {
		return err
	}
	s, err := auditSigner(ks, label)
	if err != nil {
		return fmt.Errorf("audit signing key %q: %w", label, err)
	}
	_, created, err := audit.RegisterKey(ctx, n.DB, n.Journal, sceau.System("service"), label, s.Public())
	if err != nil || !created || ks == auditKeyStore(n.Keys) {
		return err
	}
	return n.handOverAuditKey(ctx, label, s)
}

// handOverAuditKey lets the key the journal trusted so far vouch for a new
// key in the token (AUD-2): when the software keystore still holds a
// registered audit key, it signs one checkpoint covering the new key's
// registration, so that verification pinned to the old key trusts the new
// one (key rotation, see audit.VerifyOptions.TrustedKeys).
func (n *Node) handOverAuditKey(ctx context.Context, label string, next crypto.Signer) error {
	old, err := n.Keys.Signer(label)
	if errors.Is(err, sceau.ErrNotFound) {
		return nil // a new installation: the token's key is the first
	}
	if err != nil {
		return fmt.Errorf("audit signing key %q: the previous key cannot vouch for the token's: %w", label, err)
	}
	oldID, err := audit.KeyID(old.Public())
	if err != nil {
		return err
	}
	if nextID, _ := audit.KeyID(next.Public()); nextID == oldID {
		return nil
	}
	ks, err := audit.Keys(ctx, n.DB)
	if err != nil {
		return err
	}
	registered := false
	for _, k := range ks {
		registered = registered || k.ID == oldID
	}
	if !registered {
		return nil
	}
	cp, err := audit.NewCheckpointer(n.DB, old, nil)
	if err != nil {
		return err
	}
	if _, err := cp.Checkpoint(ctx, audit.KindPeriodic); err != nil {
		return fmt.Errorf("audit signing key %q: the hand-over checkpoint failed: %w", label, err)
	}
	if n.Log != nil {
		n.Log.Info("the previous audit signing key vouched for the token's key", "old", oldID[:16])
	}
	return nil
}

// startAudit records the configuration's version (SYS-3) and starts the
// journal's workers: checkpoints, export, syslog, retention, analysis
// (AUD-2, AUD-4, AUD-5, AUD-6). The returned stop records the stop of
// logging, signs a final checkpoint and flushes the export: call it after
// the service's last event.
func (n *Node) startAudit(ctx context.Context, log *slog.Logger) (stop func(), err error) {
	a := n.Config.Audit
	ks, err := n.auditKeys()
	if err != nil {
		return nil, err
	}
	signer, err := auditSigner(ks, a.SigningKey)
	if err != nil {
		return nil, fmt.Errorf("audit signing key %q: %w", a.SigningKey, err)
	}
	snap, err := configSnapshot(n.Config)
	if err != nil {
		return nil, err
	}
	version, changes, err := audit.RecordConfig(ctx, n.DB, n.Journal, sceau.System("config"), n.Config.DataDir, snap)
	if err != nil {
		return nil, err
	}
	if len(changes) > 0 {
		log.Info("configuration recorded", "version", version, "changes", len(changes))
	}
	rules, err := auditRules(a.Analysis)
	if err != nil {
		return nil, err
	}
	where := "software keystore " + n.Layout.KeystoreDir()
	if a.Token != "" {
		where = "PKCS#11 token " + a.Token
	} else if n.Config.Keystore.PKCS11 != nil {
		// AUD-2 wants the key in the device when there is one: say where it is.
		log.Warn("the audit signing key is in the software keystore although a PKCS#11 device is configured: set audit.token")
	}
	o := audit.Options{DB: n.DB, Journal: n.Journal, Signer: signer, KeyLabel: a.SigningKey, Log: log, OnMoved: n.archiveSegment,
		Settings:        map[string]any{"signing_key_store": where},
		CheckpointEvery: a.Checkpoint.Every, CheckpointInterval: a.Checkpoint.Interval.Duration,
		ExportInterval: a.Export.Interval.Duration, LiveRetention: a.Retention.Live.Duration,
		RetentionInterval: a.Retention.Interval.Duration, Rules: rules, AnalysisInterval: a.Analysis.Interval.Duration}
	o.ExportDir = n.Layout.ExportDir()
	if a.Export.S3.Endpoint != "" {
		if o.Objects, err = objectStore(n.Config); err != nil {
			return nil, err
		}
		o.ObjectPrefix = objectPrefix(n.Config)
		o.Settings["object_store"] = a.Export.S3.Endpoint + "/" + a.Export.S3.Bucket + "/" + o.ObjectPrefix
	}
	if a.Syslog.Address != "" {
		o.Syslog = &audit.SyslogOptions{Network: a.Syslog.Network, Address: a.Syslog.Address, Facility: a.Syslog.Facility}
		if a.Syslog.Network == "tls" {
			if o.Syslog.TLS, err = syslogTLS(n.Config); err != nil {
				return nil, err
			}
		}
	}
	if w := a.Analysis.Webhook; w.URL != "" {
		o.Webhook = &audit.Webhook{URL: w.URL}
		if w.TokenFile != "" {
			b, err := os.ReadFile(n.Config.Path(w.TokenFile))
			if err != nil {
				return nil, sceau.E(sceau.Invalid, "audit", "cannot read audit.analysis.webhook.token_file", err)
			}
			o.Webhook.Token = strings.TrimSpace(string(b))
		}
	}
	svc, err := audit.Start(ctx, o)
	if err != nil {
		return nil, err
	}
	col := &auditCollector{db: n.DB, exportDir: o.ExportDir}
	if err := n.Metrics.Registry.Register(col); err != nil {
		log.Warn("audit metrics not registered", "err", err)
	}
	return func() {
		svc.Stop()
		n.Metrics.Registry.Unregister(col)
	}, nil
}

// auditRules turns the analysis settings into the audit package's rules.
func auditRules(an config.AuditAnalysis) (audit.Rules, error) {
	r := audit.Rules{FailedLogins: an.FailedLogins, FailedLoginWindow: an.FailedLoginWindow.Duration,
		MassRevocations: an.MassRevocations, MassRevocationWindow: an.MassRevocationWindow.Duration,
		ClockJump: an.ClockJump.Duration, CeremonyRule: an.CeremonyRule == nil || *an.CeremonyRule}
	for _, w := range an.CeremonyWindows {
		r.CeremonyWindows = append(r.CeremonyWindows, audit.Window{Start: w.Start, End: w.End})
	}
	if wh := an.WorkingHours; len(wh.Days) > 0 {
		h := &audit.WorkingHours{Location: time.UTC}
		for _, d := range wh.Days {
			h.Days[config.Weekdays[strings.ToLower(d)]] = true
		}
		var err error
		if h.Start, err = config.ClockTime(wh.Start); err != nil {
			return r, err
		}
		if h.End, err = config.ClockTime(wh.End); err != nil {
			return r, err
		}
		if wh.Timezone != "" {
			if h.Location, err = time.LoadLocation(wh.Timezone); err != nil {
				return r, err
			}
		}
		r.WorkingHours = h
	}
	return r, nil
}

// configSnapshot flattens the configuration to dotted keys ("cas.1.id"),
// for its versions (SYS-3); audit.RecordConfig redacts it.
func configSnapshot(cfg *config.Config) (map[string]string, error) {
	b, err := yaml.Marshal(cfg)
	if err != nil {
		return nil, fmt.Errorf("config snapshot: %w", err)
	}
	var tree any
	if err := yaml.Unmarshal(b, &tree); err != nil {
		return nil, fmt.Errorf("config snapshot: %w", err)
	}
	out := map[string]string{}
	flattenConfig("", tree, out)
	return out, nil
}

func flattenConfig(prefix string, v any, out map[string]string) {
	join := func(k string) string {
		if prefix == "" {
			return k
		}
		return prefix + "." + k
	}
	switch x := v.(type) {
	case map[string]any:
		for k, vv := range x {
			flattenConfig(join(k), vv, out)
		}
	case []any:
		if len(x) == 0 {
			out[prefix] = "[]"
		}
		for i, vv := range x {
			flattenConfig(join(strconv.Itoa(i)), vv, out)
		}
	case nil:
		out[prefix] = ""
	case time.Time:
		out[prefix] = x.Format(time.RFC3339)
	default:
		out[prefix] = fmt.Sprint(x)
	}
}

// auditCollector exposes the journal's lags as Prometheus gauges (AUD-5:
// the export's lag is visible).
type auditCollector struct {
	db        *store.DB
	exportDir string
}

var (
	descExportLagEvents = prometheus.NewDesc("sceau_audit_export_lag_events", "Journal events not yet exported to the backup site.", nil, nil)
	descExportLag       = prometheus.NewDesc("sceau_audit_export_lag_seconds", "Age of the oldest journal event not yet exported.", nil, nil)
	descUnsigned        = prometheus.NewDesc("sceau_audit_unsigned_events", "Journal events after the last signed checkpoint.", nil, nil)
	descCheckpointAge   = prometheus.NewDesc("sceau_audit_checkpoint_age_seconds", "Age of the last signed checkpoint.", nil, nil)
	descHead            = prometheus.NewDesc("sceau_audit_head_seq", "Sequence number of the last journal event.", nil, nil)
)

func (c *auditCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descExportLagEvents, descExportLag, descUnsigned, descCheckpointAge, descHead} {
		ch <- d
	}
}

func (c *auditCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	now := time.Now()
	head, _, err := audit.Head(ctx, c.db)
	if err != nil {
		return
	}
	ch <- prometheus.MustNewConstMetric(descHead, prometheus.GaugeValue, float64(head))
	if cp, err := audit.LastCheckpoint(ctx, c.db); err == nil {
		unsigned, age := head, 0.0
		if cp != nil {
			unsigned = head - cp.Seq
			if t, err := store.ParseTime(cp.At); err == nil {
				age = now.Sub(t).Seconds()
			}
		}
		ch <- prometheus.MustNewConstMetric(descUnsigned, prometheus.GaugeValue, float64(unsigned))
		ch <- prometheus.MustNewConstMetric(descCheckpointAge, prometheus.GaugeValue, age)
	}
	if c.exportDir != "" {
		if st, err := audit.ReadExportStatus(ctx, c.db, c.exportDir, now); err == nil {
			ch <- prometheus.MustNewConstMetric(descExportLagEvents, prometheus.GaugeValue, float64(st.LagEvents))
			ch <- prometheus.MustNewConstMetric(descExportLag, prometheus.GaugeValue, st.Lag.Seconds())
		}
	}
}

// auditAPI serves the journal on the admin listener (AUD-3): reading,
// verifying and exporting for the Auditor and the Security Officer,
// entering events for the people who witness them.
func (n *Node) auditAPI() *server.AuditAPI {
	return &server.AuditAPI{DB: n.DB, Journal: n.Journal, ExportDir: n.Layout.ExportDir()}
}

// objectPrefix is the prefix of the export's objects.
func objectPrefix(cfg *config.Config) string {
	if p := cfg.Audit.Export.S3.Prefix; p != "" {
		return p
	}
	return "sceau-audit/"
}

// objectStore is the S3-compatible bucket of audit.export.s3 (AUD-5).
func objectStore(cfg *config.Config) (*audit.S3, error) {
	x := cfg.Audit.Export.S3
	ak, sk, tr, err := s3Access(cfg, x, "audit.export.s3")
	if err != nil {
		return nil, err
	}
	st := &audit.S3{Endpoint: x.Endpoint, Region: x.Region, Bucket: x.Bucket, AccessKey: ak, SecretKey: sk}
	if tr != nil {
		st.Client = &http.Client{Timeout: 60 * time.Second, Transport: tr}
	}
	return st, nil
}

// s3Access reads a bucket's keys from their files and, with ca_file, the
// transport that verifies its endpoint (nil: the system's roots).
func s3Access(cfg *config.Config, x config.AuditS3, setting string) (ak, sk string, tr *http.Transport, err error) {
	read := func(name, path string) (string, error) {
		b, err := os.ReadFile(cfg.Path(path))
		if err != nil {
			return "", sceau.E(sceau.Invalid, "node: S3", "cannot read "+setting+"."+name, err)
		}
		return strings.TrimSpace(string(b)), nil
	}
	if ak, err = read("access_key_file", x.AccessKeyFile); err != nil {
		return "", "", nil, err
	}
	if sk, err = read("secret_key_file", x.SecretKeyFile); err != nil {
		return "", "", nil, err
	}
	if x.CAFile != "" {
		b, err := os.ReadFile(cfg.Path(x.CAFile))
		if err != nil {
			return "", "", nil, sceau.E(sceau.Invalid, "node: S3", "cannot read "+setting+".ca_file", err)
		}
		roots := x509.NewCertPool()
		if !roots.AppendCertsFromPEM(b) {
			return "", "", nil, sceau.Errorf(sceau.Invalid, "node: S3", "%s.ca_file holds no PEM certificate", setting)
		}
		tr = &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}}
	}
	return ak, sk, tr, nil
}

// syslogTLS is the client configuration of the syslog forwarding over TLS
// (AUD-5, RFC 5425): the collector is verified with audit.syslog.ca_file,
// or the system's roots.
func syslogTLS(cfg *config.Config) (*tls.Config, error) {
	c := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: cfg.Audit.Syslog.ServerName}
	if f := cfg.Audit.Syslog.CAFile; f != "" {
		b, err := os.ReadFile(cfg.Path(f))
		if err != nil {
			return nil, sceau.E(sceau.Invalid, "audit", "cannot read audit.syslog.ca_file", err)
		}
		c.RootCAs = x509.NewCertPool()
		if !c.RootCAs.AppendCertsFromPEM(b) {
			return nil, sceau.Errorf(sceau.Invalid, "audit", "audit.syslog.ca_file %s holds no PEM certificate", f)
		}
	}
	return c, nil
}
