package server

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// Issue 13 ("overload"): past issuance.max_in_flight an issuance request
// is refused at once with 503, Retry-After and the limit named, instead of
// waiting; the requests in progress and those shed are metrics; once one
// ends, the next is admitted.
func TestIssuanceOverloadIsShedAtOnceWithRetryAfter(t *testing.T) {
	m := NewMetrics()
	adm := NewAdmission(2, m)
	release := make(chan struct{})
	entered := make(chan struct{}, 3)
	h := adm.wrap(func(w http.ResponseWriter, r *http.Request) {
		entered <- struct{}{}
		<-release
		w.WriteHeader(http.StatusCreated)
	})
	var wg sync.WaitGroup
	codes := make(chan int, 2)
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rec := httptest.NewRecorder()
			h(rec, httptest.NewRequest(http.MethodPost, "/api/v1/certificates", nil))
			codes <- rec.Code
		}()
	}
	<-entered
	<-entered
	if n := metricValue(t, m, "sceau_issuance_in_flight"); n != 2 {
		t.Errorf("in flight: %v, want 2", n)
	}
	rec := httptest.NewRecorder()
	h(rec, httptest.NewRequest(http.MethodPost, "/api/v1/certificates", nil))
	var body ErrorBody
	_ = json.Unmarshal(rec.Body.Bytes(), &body)
	if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") != "1" || body.Kind != "unavailable" ||
		!strings.Contains(body.Error, "2 issuance requests are in progress, the limit (issuance.max_in_flight)") {
		t.Fatalf("the third request: %d, Retry-After %q, %+v", rec.Code, rec.Header().Get("Retry-After"), body)
	}
	if n := metricValue(t, m, "sceau_issuance_shed_total"); n != 1 {
		t.Errorf("shed: %v, want 1", n)
	}
	close(release)
	wg.Wait()
	close(codes)
	for c := range codes {
		if c != http.StatusCreated {
			t.Errorf("an admitted request ended with %d", c)
		}
	}
	rec = httptest.NewRecorder()
	h(rec, httptest.NewRequest(http.MethodPost, "/api/v1/certificates", nil))
	if rec.Code != http.StatusCreated {
		t.Errorf("after the others ended: %d, want admitted", rec.Code)
	}
}

func metricValue(t *testing.T, m *Metrics, name string) float64 {
	t.Helper()
	fams, err := m.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if f.GetName() == name && len(f.GetMetric()) == 1 {
			if c := f.GetMetric()[0].GetCounter(); c != nil {
				return c.GetValue()
			}
			return f.GetMetric()[0].GetGauge().GetValue()
		}
	}
	t.Fatalf("no metric %s", name)
	return 0
}
