package server

import (
	"net/http"
	"strconv"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sceau/sceau/internal/sceau"
)

// Admission bounds the issuance requests in progress (issue 13, "overload"):
// past the limit a request is refused at once with 503 and Retry-After
// rather than queued, so that an overload gives fast refusals, never a
// pile-up of requests that time out after holding memory and connections.
// The requests in progress and those shed are metrics.
type Admission struct {
	limit      int64
	inFlight   atomic.Int64
	shed       prometheus.Counter
	retryAfter int // seconds
}

// NewAdmission admits at most limit issuance requests at a time, and
// registers its metrics in m (if not nil).
func NewAdmission(limit int, m *Metrics) *Admission {
	a := &Admission{limit: int64(limit), retryAfter: 1,
		shed: prometheus.NewCounter(prometheus.CounterOpts{Name: "sceau_issuance_shed_total",
			Help: "Issuance requests refused with 503 because issuance.max_in_flight were in progress."})}
	if m != nil {
		m.Registry.MustRegister(a.shed, prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "sceau_issuance_in_flight",
			Help: "Issuance requests in progress (the queue before the group commit)."}, func() float64 { return float64(a.inFlight.Load()) }))
	}
	return a
}

// wrap admits a request to h, or refuses it when the limit is reached. A
// nil Admission admits everything.
func (a *Admission) wrap(h http.HandlerFunc) http.HandlerFunc {
	if a == nil {
		return h
	}
	return func(w http.ResponseWriter, r *http.Request) {
		if n := a.inFlight.Add(1); n > a.limit {
			a.inFlight.Add(-1)
			a.shed.Inc()
			w.Header().Set("Retry-After", strconv.Itoa(a.retryAfter))
			writeError(w, nil, sceau.Errorf(sceau.Unavailable, "issuance",
				"%d issuance requests are in progress, the limit (issuance.max_in_flight): retry in %d s", a.limit, a.retryAfter))
			return
		}
		defer a.inFlight.Add(-1)
		h(w, r)
	}
}
