package server

import (
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Metrics are the Prometheus metrics served on the admin listener.
type Metrics struct {
	Registry    *prometheus.Registry
	issuance    *prometheus.CounterVec
	issuanceDur *prometheus.HistogramVec
	revocations prometheus.Counter
	ocsp        *prometheus.CounterVec
	ocspDur     prometheus.Histogram
	batch       prometheus.Histogram
	archiveLag  *prometheus.GaugeVec
	// INC-1, INC-4: the incident register, set by serve's incident loop.
	incidentsOpen  prometheus.Gauge
	obligationsDue *prometheus.GaugeVec
	overdue        prometheus.Gauge
	undelivered    prometheus.Gauge
	// CA-4: the ACME server (acme.go) and the EST server (est.go).
	acme *prometheus.CounterVec
	est  *prometheus.CounterVec
}

// NewMetrics registers Sceau's metrics and the Go runtime's.
func NewMetrics() *Metrics {
	m := &Metrics{Registry: prometheus.NewRegistry()}
	m.issuance = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sceau_issuance_total",
		Help: "Issuance requests by outcome (issued, refused, lint_refused, error)."}, []string{"outcome"})
	m.issuanceDur = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "sceau_issuance_seconds",
		Help: "Time spent in each issuance phase.", Buckets: prometheus.ExponentialBuckets(0.0002, 2, 14)}, []string{"outcome"})
	m.revocations = prometheus.NewCounter(prometheus.CounterOpts{Name: "sceau_revocations_total", Help: "Certificates revoked."})
	m.ocsp = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sceau_ocsp_responses_total",
		Help: "OCSP answers by status (good, revoked, unknown, malformed, unauthorized, trylater)."}, []string{"status"})
	m.ocspDur = prometheus.NewHistogram(prometheus.HistogramOpts{Name: "sceau_ocsp_seconds",
		Help: "Time to answer an OCSP request.", Buckets: prometheus.ExponentialBuckets(0.00005, 2, 14)})
	m.batch = prometheus.NewHistogram(prometheus.HistogramOpts{Name: "sceau_group_commit_batch_size",
		Help: "Operations per committed transaction on the issuance path.", Buckets: prometheus.ExponentialBuckets(1, 2, 10)})
	m.archiveLag = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "sceau_archive_replication_lag_seconds",
		Help: "Seconds since the oldest archive item or head not yet copied to each replica was queued (0: caught up; ARC-4)."}, []string{"target"})
	m.incidentsOpen = prometheus.NewGauge(prometheus.GaugeOpts{Name: "sceau_incidents_open", Help: "Incidents open in the register (INC-1)."})
	m.obligationsDue = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "sceau_incident_obligation_due_seconds",
		Help: "Seconds until each notification owed for a major incident is due (negative once overdue); absent once done (INC-4)."},
		[]string{"incident", "kind"})
	m.overdue = prometheus.NewGauge(prometheus.GaugeOpts{Name: "sceau_incident_obligations_overdue",
		Help: "Notifications owed to an authority past their due time and not recorded done (INC-4)."})
	m.undelivered = prometheus.NewGauge(prometheus.GaugeOpts{Name: "sceau_incident_notifications_undelivered",
		Help: "Notifications of incidents not delivered yet (retried; INC-1)."})
	m.acme = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sceau_acme_events_total",
		Help: "ACME server events: orders by state reached, challenges by type and result, problems by type."}, []string{"kind", "outcome"})
	m.est = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sceau_est_enrollments_total",
		Help: "EST enrollments (simpleenroll, simplereenroll) by outcome: issued, or the HTTP status of the refusal."}, []string{"operation", "outcome"})
	m.Registry.MustRegister(m.est, m.acme, m.issuance, m.issuanceDur, m.revocations, m.ocsp, m.ocspDur, m.batch, m.archiveLag,
		m.incidentsOpen, m.obligationsDue, m.overdue, m.undelivered,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// ObserveIssuance records an issuance phase outcome.
func (m *Metrics) ObserveIssuance(outcome string, d time.Duration) {
	m.issuance.WithLabelValues(outcome).Inc()
	m.issuanceDur.WithLabelValues(outcome).Observe(d.Seconds())
}

// ObserveOCSP records an OCSP answer.
func (m *Metrics) ObserveOCSP(status string, d time.Duration) {
	m.ocsp.WithLabelValues(status).Inc()
	m.ocspDur.Observe(d.Seconds())
}

// ObserveBatch records a group-commit batch.
func (m *Metrics) ObserveBatch(size int, _ time.Duration) { m.batch.Observe(float64(size)) }

// SetArchiveLag sets a replica's replication lag (ARC-4).
func (m *Metrics) SetArchiveLag(target string, lag time.Duration) {
	m.archiveLag.WithLabelValues(target).Set(lag.Seconds())
}

// IncidentDue is one notification owed to an authority, for the metrics.
type IncidentDue struct {
	Incident int64
	Kind     string
	Left     time.Duration // negative once overdue
}

// SetIncidents sets the incident register's gauges (INC-1, INC-4).
func (m *Metrics) SetIncidents(open, undelivered int, due []IncidentDue) {
	m.incidentsOpen.Set(float64(open))
	m.undelivered.Set(float64(undelivered))
	m.obligationsDue.Reset()
	overdue := 0
	for _, d := range due {
		m.obligationsDue.WithLabelValues(strconv.FormatInt(d.Incident, 10), d.Kind).Set(d.Left.Seconds())
		if d.Left <= 0 {
			overdue++
		}
	}
	m.overdue.Set(float64(overdue))
}

// ObserveRevocation counts a revocation.
func (m *Metrics) ObserveRevocation() { m.revocations.Inc() }

// ObservePublication exports the freshness of the publication site (PUB-3):
// the seconds until each CA's CRL reaches its nextUpdate, and the number of
// the manifest served.
func (m *Metrics) ObservePublication(crlLeft func() map[string]float64, manifest func() int64) {
	m.Registry.MustRegister(crlCollector{desc: prometheus.NewDesc("sceau_publication_crl_seconds_until_next_update",
		"Seconds until the nextUpdate of each CA's published CRL (negative once passed).", []string{"ca"}, nil), left: crlLeft},
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "sceau_publication_manifest_number",
			Help: "Number of the signed manifest the site serves (0: none)."}, func() float64 { return float64(manifest()) }))
}

// ClockReading is what the clock guard knows (SYS-4).
type ClockReading struct {
	Offset    time.Duration // the NTP servers' time minus this machine's, at the last check that got answers
	CheckedAt time.Time     // end of the last check; zero before the first
	InSync    bool          // the last check measured an offset within the limit
	Refused   bool          // the guard refuses to sign now
	Answered  int           // servers that answered the last check
}

// ObserveClock exports the clock guard's last check (SYS-4): its offset,
// its time, whether it was in range, whether signing is refused, and how
// many servers answered. read is called at each scrape; it must be cheap.
func (m *Metrics) ObserveClock(read func() ClockReading) {
	gauge := func(name, help string, f func(ClockReading) float64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, func() float64 { return f(read()) })
	}
	b := func(v bool) float64 {
		if v {
			return 1
		}
		return 0
	}
	m.Registry.MustRegister(
		gauge("sceau_clock_offset_seconds", "NTP servers' time minus this machine's at the last clock check that got answers (median; positive: the local clock is behind).",
			func(r ClockReading) float64 { return r.Offset.Seconds() }),
		gauge("sceau_clock_last_check_timestamp_seconds", "Unix time of the last clock check (0: none).", func(r ClockReading) float64 {
			if r.CheckedAt.IsZero() {
				return 0
			}
			return float64(r.CheckedAt.UnixNano()) / 1e9
		}),
		gauge("sceau_clock_ok", "1 when the last clock check found the clock within clock.max_drift, else 0 (drifted, unanswered, unchecked or not configured).",
			func(r ClockReading) float64 { return b(r.InSync) }),
		gauge("sceau_clock_signing_refused", "1 while the clock guard refuses to sign (SYS-4).", func(r ClockReading) float64 { return b(r.Refused) }),
		gauge("sceau_clock_servers_answered", "NTP servers that answered the last clock check.", func(r ClockReading) float64 { return float64(r.Answered) }),
	)
}

type crlCollector struct {
	desc *prometheus.Desc
	left func() map[string]float64
}

func (c crlCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c crlCollector) Collect(ch chan<- prometheus.Metric) {
	for id, v := range c.left() {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, v, id)
	}
}
