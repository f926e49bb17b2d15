package node_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/x509"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/sceau/sceau/internal/audit"
	"github.com/sceau/sceau/internal/ca"
	"github.com/sceau/sceau/internal/clockguard"
	"github.com/sceau/sceau/internal/config"
	"github.com/sceau/sceau/internal/keys"
	"github.com/sceau/sceau/internal/node"
	"github.com/sceau/sceau/internal/revocation"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/sceautest"
)

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// clockInstallation initialises an installation (the template of sceau
// init, keys in the service keystore) whose clock: section names servers,
// and returns its configuration path. Init itself signs (the CAs), so the
// servers must answer in range for it to succeed.
func clockInstallation(t *testing.T, servers ...*sceautest.NTPServer) (string, error) {
	t.Helper()
	pub, adm := freeAddr(t), freeAddr(t)
	var list []string
	for _, s := range servers {
		list = append(list, `"`+s.Addr+`"`)
	}
	text := strings.Replace(string(node.RenderConfig(node.ConfigValues{Org: "Clock Test", PublicListen: pub, AdminListen: adm, BaseURL: "http://" + pub})),
		"  servers: []\n", "  servers: ["+strings.Join(list, ", ")+"]\n", 1)
	text = strings.Replace(text, "  timeout: 2s\n", "  timeout: 500ms\n", 1)
	inst, err := node.Init(t.Context(), filepath.Join(t.TempDir(), "inst"), []byte(text), node.InitOptions{})
	if err != nil {
		return "", err
	}
	return inst.ConfigPath, nil
}

// serveClock serves the installation at path until the test ends.
func serveClock(t *testing.T, path string) (*config.Config, *node.Node) {
	t.Helper()
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ready, done := make(chan *node.Node, 1), make(chan error, 1)
	go func() {
		done <- node.Serve(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), func(n *node.Node) { ready <- n })
	}()
	var n *node.Node
	select {
	case n = <-ready:
	case err := <-done:
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); <-done })
	return cfg, n
}

func healthz(t *testing.T, cfg *config.Config) (int, string) {
	t.Helper()
	resp, err := http.Get(cfg.Public.BaseURL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// askOCSP posts a request for cert over the public listener and returns
// the response, or its error status (ocsp.ResponseError).
func askOCSP(t *testing.T, cfg *config.Config, cert, issuer *x509.Certificate, h crypto.Hash) (*ocsp.Response, error) {
	t.Helper()
	req, err := ocsp.CreateRequest(cert, issuer, &ocsp.RequestOptions{Hash: h})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(cfg.Public.BaseURL+"/ocsp", "application/ocsp-request", bytes.NewReader(req))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return ocsp.ParseResponseForCert(b, cert, issuer)
}

func gauge(t *testing.T, n *node.Node, name string) float64 {
	t.Helper()
	mfs, err := n.Metrics.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			return mf.GetMetric()[0].GetGauge().GetValue()
		}
	}
	t.Fatalf("no metric %s", name)
	return 0
}

func refusedByClock(t *testing.T, what string, err error, want string) {
	t.Helper()
	if !errors.Is(err, clockguard.ErrClockDrift) || sceau.KindOf(err) != sceau.Unavailable {
		t.Errorf("%s: %v (kind %v), want the clock guard's refusal", what, err, sceau.KindOf(err))
	} else if !strings.Contains(sceau.Message(err), want) {
		t.Errorf("%s: %q does not say %q", what, sceau.Message(err), want)
	}
}

// SYS-4, end to end: a served installation whose clock is checked against
// two real NTP servers signs while they agree with it; when both are 5 s
// off, issuance, CRLs and OCSP responses signed on demand are refused with
// the guard's one precise error, nothing is reserved, the responses signed
// before are still served, /healthz answers 503 with the reason, the
// metrics say so, and the drift is journaled and raises an alert. Back in
// range, a recovery event is journaled and signing resumes.
func TestSYS4_ClockDriftStopsSigningAndRecoveryResumesIt(t *testing.T) {
	ctx := t.Context()
	a, b := sceautest.StartNTP(t, 0), sceautest.StartNTP(t, 0)
	path, err := clockInstallation(t, a, b)
	if err != nil {
		t.Fatal(err)
	}
	cfg, n := serveClock(t, path)
	if code, body := healthz(t, cfg); code != http.StatusOK || !strings.Contains(body, "clock: in sync: offset") {
		t.Fatalf("/healthz in sync: %d %q", code, body)
	}
	if gauge(t, n, "sceau_clock_ok") != 1 || gauge(t, n, "sceau_clock_last_check_timestamp_seconds") < float64(time.Now().Add(-time.Minute).Unix()) {
		t.Error("metrics in sync")
	}
	issue := func() (*ca.Issued, error) {
		csr := sceautest.CSR(t, sceautest.NewKey(t, keys.ECDSAP256), "clock.test", "clock.test")
		return n.Authority.IssueCSR(ctx, sceau.System("test"), ca.Request{CA: "issuing", Profile: "internal-server", CSR: csr})
	}
	cert, err := issue()
	if err != nil {
		t.Fatal(err)
	}
	issuer := cert.Chain[0]
	// The rows of the test's profile: serve certifies its service keys
	// (publication, archive, time-stamping) under others meanwhile.
	rows := func() int {
		recs, err := n.Authority.Certificates(ctx, ca.ListFilter{Limit: 10000})
		if err != nil {
			t.Fatal(err)
		}
		k := 0
		for _, r := range recs {
			if r.Profile == "internal-server" {
				k++
			}
		}
		return k
	}
	before := rows()
	crl, err := n.Revocation.Latest(ctx, "issuing", revocation.FullCRL)
	if err != nil {
		t.Fatal(err)
	}

	a.SetOffset(5 * time.Second)
	b.SetOffset(5 * time.Second)
	if st := n.ClockGuard.Measure(ctx); st.State != clockguard.Drifted {
		t.Fatalf("5 s off: %+v", st)
	}
	_, err = issue()
	refusedByClock(t, "issuance", err, "behind the NTP servers")
	_, err = n.Revocation.IssueCRL(ctx, sceau.System("test"), "issuing")
	refusedByClock(t, "CRL", err, a.Addr)
	if rows() != before {
		t.Errorf("%d certificate rows after the refusals, %d before", rows(), before)
	}
	if _, err := askOCSP(t, cfg, cert.Cert, issuer, crypto.SHA256); !errors.Is(err, ocsp.ResponseError{Status: ocsp.TryLater}) {
		t.Errorf("OCSP signed on demand while drifted: %v, want tryLater", err)
	}
	if r, err := askOCSP(t, cfg, cert.Cert, issuer, crypto.SHA1); err != nil || r.Status != ocsp.Good {
		t.Errorf("the pre-signed response while drifted: %v", err)
	}
	code, body := healthz(t, cfg)
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "behind the NTP servers") || !strings.Contains(body, "clock: drifted: offset +5.") {
		t.Errorf("/healthz while drifted: %d %q", code, body)
	}
	if gauge(t, n, "sceau_clock_ok") != 0 || gauge(t, n, "sceau_clock_signing_refused") != 1 || gauge(t, n, "sceau_clock_offset_seconds") < 4.9 {
		t.Error("metrics while drifted")
	}
	waitAlert(t, n, audit.RuleClockDrift)

	a.SetOffset(0)
	b.SetOffset(0)
	if st := n.ClockGuard.Measure(ctx); st.State != clockguard.InSync {
		t.Fatalf("back: %+v", st)
	}
	if _, err := issue(); err != nil {
		t.Fatalf("issuance after the drift: %v", err)
	}
	crls, err := n.Revocation.IssueCRL(ctx, sceau.System("test"), "issuing")
	if err != nil {
		t.Fatalf("CRL after the drift: %v", err)
	}
	if crls[0].Number <= crl.Number {
		t.Errorf("CRL %d after %d", crls[0].Number, crl.Number)
	}
	if code, _ := healthz(t, cfg); code != http.StatusOK {
		t.Errorf("/healthz after the drift: %d", code)
	}
	// One event per change, the last naming the drift it ends.
	var got []string
	for _, r := range clockEvents(t, n) {
		got = append(got, r.Action)
	}
	want := []string{audit.ActionClockInSync, audit.ActionClockInSync, audit.ActionClockDrifted, audit.ActionClockInSync} // init, serve, drift, back
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("clock events %v, want %v", got, want)
	}
	if ev := clockEvents(t, n); !strings.Contains(ev[len(ev)-1].Details, `"previous":"drifted"`) {
		t.Errorf("recovery event %s", ev[len(ev)-1].Details)
	}
}

func clockEvents(t *testing.T, n *node.Node) []audit.Record {
	t.Helper()
	p, err := audit.Search(t.Context(), n.DB, audit.Filter{Action: "clock.", Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	return p.Events
}

// waitAlert waits for the journal's analysis (every audit.analysis.interval)
// to raise an alert of rule.
func waitAlert(t *testing.T, n *node.Node, rule string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		alerts, err := audit.Alerts(t.Context(), n.DB, time.Time{}, 100)
		if err != nil {
			t.Fatal(err)
		}
		for _, al := range alerts {
			if al.Rule == rule {
				return
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Errorf("no %s alert within 30s", rule)
}

// SYS-4: no answer is not "in sync". An installation whose servers do not
// answer is not even created (init signs its CAs); one created in sync and
// started while they are silent serves what was signed but signs nothing,
// says why on /healthz, journals clock.unreachable and raises an alert;
// the first answer in range lets it sign.
func TestSYS4_UnreachableServersRefuseFromTheStart(t *testing.T) {
	silent := sceautest.StartNTP(t, 0)
	silent.SetSilent(true)
	if _, err := clockInstallation(t, silent); !errors.Is(err, clockguard.ErrClockDrift) || !strings.Contains(err.Error(), "no NTP server answered") {
		t.Fatalf("init with no server answering: %v", err)
	}

	srv := sceautest.StartNTP(t, 0)
	path, err := clockInstallation(t, srv)
	if err != nil {
		t.Fatal(err)
	}
	srv.SetSilent(true)
	cfg, n := serveClock(t, path)
	csr := sceautest.CSR(t, sceautest.NewKey(t, keys.ECDSAP256), "clock.test", "clock.test")
	_, err = n.Authority.IssueCSR(t.Context(), sceau.System("test"), ca.Request{CA: "issuing", Profile: "internal-server", CSR: csr})
	refusedByClock(t, "issuance with no server answering", err, "no NTP server answered ("+srv.Addr+": ")
	if code, body := healthz(t, cfg); code != http.StatusServiceUnavailable || !strings.Contains(body, "clock: unreachable") {
		t.Errorf("/healthz: %d %q", code, body)
	}
	waitAlert(t, n, audit.RuleClockUnreachable)
	if ev := clockEvents(t, n); ev[len(ev)-1].Action != audit.ActionClockUnreachable || !strings.Contains(ev[len(ev)-1].Details, `"signing":false`) {
		t.Errorf("last clock event %+v", ev[len(ev)-1])
	}

	srv.SetSilent(false)
	n.ClockGuard.Measure(t.Context())
	if _, err := n.Authority.IssueCSR(t.Context(), sceau.System("test"), ca.Request{CA: "issuing", Profile: "internal-server", CSR: csr}); err != nil {
		t.Fatalf("after an answer in range: %v", err)
	}
}
