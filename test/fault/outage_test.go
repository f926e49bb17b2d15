package fault

import (
	"io"
	"net/http"
	"testing"
	"time"
)

// outageLength is how long PostgreSQL stays down in each trial.
const outageLength = 3 * time.Second

// TestAUD7_PostgresOutageRefusesWith503 stops the installation's PostgreSQL
// (pg_ctl stop -m immediate) under load, and starts it again. While it is
// down every refusal must be a 503 that gives a reason (never a 500), and
// /healthz must say 503; once it is back, serve carries on without a
// restart and nothing acknowledged is lost (AUD-7: an operation whose
// record cannot be written is refused).
func TestAUD7_PostgresOutageRefusesWith503(t *testing.T) {
	in := newInstallation(t, postgres, installOptions{})
	in.mustStart()
	for trial := 1; trial <= *trials; trial++ {
		before := in.snapshot()
		lost := in.outageTrial(trial)
		addFigures(t, in.since("postgres-stop", before, lost))
		if stopEarly(t) {
			return
		}
	}
	in.stop()
}

// outageTrial stops and restarts PostgreSQL under load and checks.
func (in *installation) outageTrial(trial int) (lost int) {
	t := in.t
	t.Helper()
	l := in.startLoad(trial, loadOptions{})
	time.Sleep(500 * time.Millisecond)
	refusedBefore := in.snapshot().refused

	if err := in.cluster.stop("immediate"); err != nil {
		l.halt()
		t.Fatal(err)
	}
	// The store is lost: /healthz must say so. A second of grace for the
	// service to notice, then every answer must be a 503 with a reason.
	down := time.Now()
	var ok200, ok503, other int
	for time.Since(down) < outageLength {
		code, body, err := in.getPublic("/healthz")
		switch {
		case err != nil:
			other++
		case code == http.StatusServiceUnavailable && refusalReason(body) != "":
			ok503++
		case code == http.StatusOK && time.Since(down) > time.Second:
			ok200++
		}
		time.Sleep(100 * time.Millisecond)
	}
	refusedDuring := in.snapshot().refused - refusedBefore
	if err := in.cluster.start(); err != nil {
		l.halt()
		t.Fatal(err)
	}
	in.recovered = time.Now()
	// Back: issuance must resume without restarting serve.
	acked := in.snapshot().issued
	deadline := time.Now().Add(30 * time.Second)
	for in.snapshot().issued == acked && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	resumed := in.snapshot().issued > acked
	time.Sleep(300 * time.Millisecond)
	l.halt()

	if ok503 == 0 || ok200 > 0 {
		t.Errorf("trial %d: with PostgreSQL down, /healthz answered 200 %d times and 503 with a reason %d times (%d without an answer): it must be 503 while the store is lost",
			trial, ok200, ok503, other)
	}
	if refusedDuring == 0 {
		t.Errorf("trial %d: no request was refused with a 503 and a reason while PostgreSQL was down", trial)
	}
	if !in.proc.running() {
		t.Errorf("trial %d: sceau serve exited during the PostgreSQL outage (%v):\n%s", trial, in.proc.err, tail(in.proc.log, 30))
		in.mustStart()
	} else if !resumed {
		t.Errorf("trial %d: no issuance succeeded within 30s of PostgreSQL's return", trial)
	}
	return in.verifyAll(trial)
}

// getPublic GETs a path of the public listener.
func (in *installation) getPublic(path string) (int, []byte, error) {
	resp, err := in.public.Get(in.base + path)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}
