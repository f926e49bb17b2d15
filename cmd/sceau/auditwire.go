package main

import (
	"context"
	"crypto"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"gopkg.in/yaml.v3"

	"github.com/sceau/sceau/internal/audit"
	"github.com/sceau/sceau/internal/config"
	"github.com/sceau/sceau/internal/keys"
	"github.com/sceau/sceau/internal/sceau"
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

// ensureAuditKey loads or creates the audit signing key in the service
// keystore and registers its public key in the journal (AUD-2), so that
// checkpoints verify offline from the database or an export.
func ensureAuditKey(ctx context.Context, n *node) error {
	label := n.cfg.Audit.SigningKey
	s, err := auditSigner(n.keys, label)
	if err != nil {
		return fmt.Errorf("audit signing key %q: %w", label, err)
	}
	_, _, err = audit.RegisterKey(ctx, n.db, n.journal, sceau.System("service"), label, s.Public())
	return err
}

// startAudit records the configuration's version (SYS-3) and starts the
// journal's workers: checkpoints, export, syslog, retention, analysis
// (AUD-2, AUD-4, AUD-5, AUD-6). The returned stop records the stop of
// logging, signs a final checkpoint and flushes the export: call it after
// the service's last event.
func startAudit(ctx context.Context, n *node, log *slog.Logger) (stop func(), err error) {
	a := n.cfg.Audit
	signer, err := auditSigner(n.keys, a.SigningKey)
	if err != nil {
		return nil, fmt.Errorf("audit signing key %q: %w", a.SigningKey, err)
	}
	snap, err := configSnapshot(n.cfg)
	if err != nil {
		return nil, err
	}
	version, changes, err := audit.RecordConfig(ctx, n.db, n.journal, sceau.System("config"), n.cfg.DataDir, snap)
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
	o := audit.Options{DB: n.db, Journal: n.journal, Signer: signer, KeyLabel: a.SigningKey, Log: log,
		CheckpointEvery: a.Checkpoint.Every, CheckpointInterval: a.Checkpoint.Interval.Duration,
		ExportInterval: a.Export.Interval.Duration, LiveRetention: a.Retention.Live.Duration,
		RetentionInterval: a.Retention.Interval.Duration, Rules: rules, AnalysisInterval: a.Analysis.Interval.Duration}
	if a.Export.Dir != "" {
		o.ExportDir = n.cfg.Path(a.Export.Dir)
	}
	if a.Syslog.Address != "" {
		o.Syslog = &audit.SyslogOptions{Network: a.Syslog.Network, Address: a.Syslog.Address, Facility: a.Syslog.Facility}
	}
	if w := a.Analysis.Webhook; w.URL != "" {
		o.Webhook = &audit.Webhook{URL: w.URL}
		if w.TokenFile != "" {
			b, err := os.ReadFile(n.cfg.Path(w.TokenFile))
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
	col := &auditCollector{db: n.db, exportDir: o.ExportDir}
	if err := n.metrics.Registry.Register(col); err != nil {
		log.Warn("audit metrics not registered", "err", err)
	}
	return func() {
		svc.Stop()
		n.metrics.Registry.Unregister(col)
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

// auditSortedKeys lists a map's keys in order.
func auditSortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
