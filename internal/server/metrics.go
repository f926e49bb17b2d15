package server

import (
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
	m.Registry.MustRegister(m.issuance, m.issuanceDur, m.revocations, m.ocsp, m.ocspDur, m.batch,
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

// ObserveRevocation counts a revocation.
func (m *Metrics) ObserveRevocation() { m.revocations.Inc() }
