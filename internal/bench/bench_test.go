package bench

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/sceau/sceau/internal/sceau"
)

func TestIssue(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a real installation")
	}
	var progressOut bytes.Buffer
	res, err := Issue(context.Background(), Options{Clients: 2, Duration: time.Second, Progress: &progressOut})
	if err != nil {
		t.Fatal(err)
	}
	if res.Requests == 0 || res.Errors != 0 {
		t.Fatalf("requests %d, errors %d (first: %q); want some and none", res.Requests, res.Errors, res.FirstError)
	}
	if res.Rate <= 0 || res.P99ms <= 0 || res.P50ms > res.P99ms || res.P99ms > res.MaxMs {
		t.Errorf("rate %v, p50 %v, p99 %v, max %v: want a positive rate and p50 <= p99 <= max", res.Rate, res.P50ms, res.P99ms, res.MaxMs)
	}
	if res.Target.Rate != IssueTarget.Rate || res.Target.P99ms != 20 {
		t.Errorf("target %+v, want the issue target", res.Target)
	}
	if !strings.Contains(progressOut.String(), "creating a temporary installation") {
		t.Errorf("progress %q does not show the steps", progressOut.String())
	}
	var w bytes.Buffer
	if err := res.Report(&w); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"sceau bench issue: POST https://127.0.0.1:", "errors 0", "rate ", "/s", "p99 ", "target p99 < 20 ms", "VmHWM"} {
		if !strings.Contains(w.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, w.String())
		}
	}
}

func TestOCSP(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a real installation")
	}
	res, err := OCSP(context.Background(), Options{Clients: 2, Count: 200, Certs: 4})
	if err != nil {
		t.Fatal(err)
	}
	if res.Requests != 200 || res.Errors != 0 {
		t.Fatalf("requests %d, errors %d (first: %q); want 200 and none", res.Requests, res.Errors, res.FirstError)
	}
	if !strings.Contains(res.Endpoint, "/ocsp (4 certificates)") {
		t.Errorf("endpoint %q", res.Endpoint)
	}
}

func TestOptionsAreChecked(t *testing.T) {
	for name, o := range map[string]Options{
		"no client":      {Duration: time.Second},
		"negative count": {Clients: 1, Count: -1},
		"no duration":    {Clients: 1},
		"no certificate": {Clients: 1, Count: 1},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := OCSP(context.Background(), o)
			if !errors.Is(err, sceau.ErrInvalid) {
				t.Fatalf("err %v, want invalid", err)
			}
		})
	}
}

func TestNewResult(t *testing.T) {
	r := &run{elapsed: 2 * time.Second, requests: 101, errors: 1, firstError: "boom"}
	for i := 1; i <= 100; i++ {
		r.latencies = append(r.latencies, time.Duration(i)*time.Millisecond)
	}
	res := newResult("issue", "POST x", Options{Clients: 3}, r, Target{Rate: 40, P99: 50 * time.Millisecond})
	if res.Rate != 50 || res.P50ms != 51 || res.P99ms != 100 || res.MaxMs != 100 {
		t.Errorf("rate %v p50 %v p99 %v max %v, want 50 51 100 100", res.Rate, res.P50ms, res.P99ms, res.MaxMs)
	}
	want := TargetCheck{Rate: 40, RateRatio: 1.25, RatePass: false, P99ms: 50, P99Ratio: 2, P99Pass: false}
	if res.Target != want {
		t.Errorf("target %+v, want %+v (an error fails the rate)", res.Target, want)
	}
	var w bytes.Buffer
	if err := res.Report(&w); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"first error: boom", "rate      50/s", "1.25 of target  BELOW", "p99 100.00 ms", "2.00 of limit  BELOW"} {
		if !strings.Contains(w.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, w.String())
		}
	}
}

func TestCheckOCSPStatus(t *testing.T) {
	for name, tc := range map[string]struct {
		der  []byte
		want string
	}{
		"successful":   {der: []byte{0x30, 0x03, 0x0a, 0x01, 0x00}},
		"tryLater":     {der: []byte{0x30, 0x03, 0x0a, 0x01, 0x03}, want: "status 3"},
		"not DER":      {der: []byte("<html>"), want: "not an OCSP response"},
		"empty":        {der: nil, want: "not an OCSP response"},
		"no enumerate": {der: []byte{0x30, 0x03, 0x02, 0x01, 0x00}, want: "not an OCSP response"},
	} {
		t.Run(name, func(t *testing.T) {
			err := checkOCSPStatus(tc.der)
			if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
				t.Errorf("err %v, want %q", err, tc.want)
			}
		})
	}
}

// TestRawClientRedials: a server that closes the connection after each
// answer, or drops a kept-alive connection, costs a new dial, not an error.
func TestRawClientRedials(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/close" {
			w.Header().Set("Connection", "close")
		}
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, r.URL.Path)
	}))
	defer srv.Close()
	host := srv.Listener.Addr().String()
	dials := 0
	c := &rawClient{dial: func() (net.Conn, error) { dials++; return net.Dial("tcp", host) }}
	defer c.Close()
	for _, path := range []string{"/close", "/close", "/keep", "/keep"} {
		body, err := issueOnce(c, postRequest(host, path, "text/plain", nil))
		if err != nil || string(body) != path {
			t.Fatalf("%s: %q, %v", path, body, err)
		}
	}
	if dials != 3 {
		t.Errorf("%d dials, want 3 (one per closed connection, one kept alive)", dials)
	}
	srv.CloseClientConnections()
	if _, err := issueOnce(c, postRequest(host, "/keep", "text/plain", nil)); err != nil {
		t.Fatalf("after the server dropped the connection: %v", err)
	}
	if dials != 4 {
		t.Errorf("%d dials, want 4", dials)
	}
}

func TestSiteVsOCSP(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a real installation")
	}
	c, err := SiteVsOCSP(context.Background(), Options{Clients: 2, Count: 300, Certs: 4})
	if err != nil {
		t.Fatal(err)
	}
	for _, res := range []*Result{c.OCSP, c.Site} {
		if res.Requests != 300 || res.Errors != 0 || res.Rate <= 0 || res.P99ms <= 0 {
			t.Fatalf("%s: requests %d, errors %d (first: %q), rate %v, p99 %v; want 300, none, positive figures",
				res.Bench, res.Requests, res.Errors, res.FirstError, res.Rate, res.P99ms)
		}
	}
	if c.OCSP.Bench != "ocsp" || c.Site.Bench != "site" {
		t.Errorf("benches %q and %q, want ocsp then site", c.OCSP.Bench, c.Site.Bench)
	}
	for _, want := range []string{"/fr/", "/en/ca/issuing", "/crl/root.crl", "/ca/issuing.der", "/manifest.json"} {
		if !strings.Contains(c.Site.Endpoint, want) {
			t.Errorf("site endpoint %q lacks %s", c.Site.Endpoint, want)
		}
	}
	if c.RateRatio != c.Site.Rate/c.OCSP.Rate || c.P99Ratio != c.Site.P99ms/c.OCSP.P99ms || c.Target != SiteTarget {
		t.Errorf("comparison %+v does not hold the site's figures over OCSP's", c)
	}
	var w bytes.Buffer
	if err := c.Report(&w); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"sceau bench ocsp: POST", "sceau bench site: GET", "site / ocsp", "target >= 1.00", "target <= 1.00", "VmHWM"} {
		if !strings.Contains(w.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, w.String())
		}
	}
	t.Logf("\n%s", w.String())
}

func TestCompare(t *testing.T) {
	ref := &Result{Rate: 1000, P99ms: 2, VmHWMKiB: 100}
	for name, tc := range map[string]struct {
		res            Result
		rateOK, p99OK  bool
		rate, p99, hwm float64
	}{
		"faster":        {Result{Rate: 1500, P99ms: 1, VmHWMKiB: 50}, true, true, 1.5, 0.5, 0.5},
		"equal":         {Result{Rate: 1000, P99ms: 2, VmHWMKiB: 100}, true, true, 1, 1, 1},
		"slower":        {Result{Rate: 900, P99ms: 3, VmHWMKiB: 200}, false, false, 0.9, 1.5, 2},
		"fast, errored": {Result{Rate: 2000, P99ms: 1, Errors: 1}, false, true, 2, 0.5, 0},
	} {
		t.Run(name, func(t *testing.T) {
			c := compare(ref, &tc.res, SiteTarget)
			if c.RatePass != tc.rateOK || c.P99Pass != tc.p99OK || c.RateRatio != tc.rate || c.P99Ratio != tc.p99 || c.VmHWMRatio != tc.hwm {
				t.Errorf("%+v", c)
			}
		})
	}
}
