package server_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/sceau/sceau/internal/access"
	"github.com/sceau/sceau/internal/registration"
	"github.com/sceau/sceau/internal/sceautest"
)

// terminalKeyPair is a terminal's client certificate with its key, as a
// TLS client presents it.
func terminalKeyPair(t *testing.T, cn string) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{SerialNumber: serial, Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(der)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}
}

// officerTab is one person's browser: its own browser context (cookies)
// behind its own terminal's proxy.
type officerTab struct {
	t    *testing.T
	ctx  context.Context
	base string
}

func (o *officerTab) open(path string) {
	o.t.Helper()
	if err := chromedp.Do(o.ctx, chromedp.Navigate(o.base+path)); err != nil {
		o.t.Fatalf("open %s: %v", path, err)
	}
}

// html is the page's DOM, read over the DevTools protocol (no page script).
func (o *officerTab) html() string {
	o.t.Helper()
	h, err := chromedp.Run(o.ctx, chromedp.OuterHTML(chromedp.CSS("html")))
	if err != nil {
		o.t.Fatal(err)
	}
	return h
}

// shot keeps a screenshot of the page in the test's artifacts (go test
// -artifacts -outputdir DIR keeps them).
func (o *officerTab) shot(name string) {
	o.t.Helper()
	png, err := chromedp.Run(o.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		o.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(o.t.ArtifactDir(), name+".png"), png, 0o644); err != nil {
		o.t.Fatal(err)
	}
}

// submit clicks the button sel and waits for the page that answers to
// hold want.
func (o *officerTab) submit(sel, want string) {
	o.t.Helper()
	if err := chromedp.Do(o.ctx, chromedp.Click(chromedp.CSS(sel)), chromedp.WaitReady(chromedp.CSS(want))); err != nil {
		o.t.Fatalf("click %s, wait for %s: %v\n%s", sel, want, err, o.html())
	}
}

func (o *officerTab) fill(sel, value string) {
	o.t.Helper()
	if err := chromedp.Do(o.ctx, chromedp.SendKeys(chromedp.CSS(sel), value)); err != nil {
		o.t.Fatalf("type into %s: %v", sel, err)
	}
}

// TestCA4_OfficersConsoleInHeadlessChromium drives the console in headless
// Chromium with JavaScript disabled: officer A (walker) entered a dossier;
// officer B (ra) logs in with password and TOTP, opens it, views its
// evidence and validates it; the same action by A on the page is refused
// with the four-eyes message; an Auditor sees no validate button, and a
// validation posted with their session is refused 403 and journaled; B
// processes a revocation request from the list.
//
// Mutual TLS: headless Chromium cannot be made to present a client
// certificate without a platform certificate store and an auto-select
// policy, so each person's terminal is a TLS-terminating proxy in this
// test that holds that terminal's client certificate and forwards to the
// admin listener over mutual TLS. The admin server keeps its requirement
// intact (tls.RequireAndVerifyClientCert, console.go refuses a request
// without a verified certificate); only the browser-to-proxy hop is the
// test's own (HTTPS with the test certificate, --ignore-certificate-errors).
func TestCA4_OfficersConsoleInHeadlessChromium(t *testing.T) {
	chromium := sceautest.LookPath(t, "chromium", "apt-get install chromium")
	f := newAccessFixture(t, sceautest.OpenSQLite(t))

	terminals := map[string]tls.Certificate{}
	pool := x509.NewCertPool()
	for _, who := range []string{"desk-a", "desk-b", "desk-au"} {
		terminals[who] = terminalKeyPair(t, who)
		pool.AddCert(terminals[who].Leaf)
	}
	adminSrv := httptest.NewUnstartedServer(f.admin)
	adminSrv.TLS = &tls.Config{ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: pool, MinVersion: tls.VersionTLS13}
	adminSrv.StartTLS()
	t.Cleanup(adminSrv.Close)
	target, _ := url.Parse(adminSrv.URL)
	serverRoots := x509.NewCertPool()
	serverRoots.AddCert(adminSrv.Certificate())

	// The admin listener refuses a connection without a client certificate.
	if resp, err := (&http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: serverRoots}}}).Get(adminSrv.URL + "/console/login"); err == nil {
		resp.Body.Close()
		t.Fatalf("the admin listener answered %d without a client certificate", resp.StatusCode)
	}

	proxy := func(terminal string) string {
		rp := &httputil.ReverseProxy{
			Rewrite: func(pr *httputil.ProxyRequest) { pr.SetURL(target); pr.Out.Host = target.Host },
			Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: serverRoots,
				Certificates: []tls.Certificate{terminals[terminal]}, MinVersion: tls.VersionTLS13}},
		}
		ps := httptest.NewTLSServer(rp)
		t.Cleanup(ps.Close)
		return ps.URL
	}

	logs := &strings.Builder{}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium),
		// As root in a container: no sandbox, no GPU, no /dev/shm.
		chromedp.NoSandbox, chromedp.DisableGPU, chromedp.Flag("disable-dev-shm-usage", true),
		// The browser-to-proxy hop only (see above).
		chromedp.Flag("ignore-certificate-errors", true),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)
	browser, cancelBrowser := chromedp.NewContext(actx)
	t.Cleanup(cancelBrowser)
	if err := chromedp.Do(browser); err != nil {
		t.Fatalf("start %s: %v\n%s", chromium, err, logs)
	}
	tab := func(terminal string) *officerTab {
		// Each person's own cookie jar: the proxies all listen on 127.0.0.1.
		ctx, cancel := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
		t.Cleanup(cancel)
		noScript := chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := cdp.Call(ctx, tg, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true})
			return err
		})
		if err := chromedp.Do(ctx, noScript); err != nil {
			t.Fatalf("disable JavaScript: %v", err)
		}
		return &officerTab{t: t, ctx: ctx, base: proxy(terminal)}
	}
	login := func(o *officerTab, account string) {
		t.Helper()
		o.open("/console/")
		if !strings.Contains(o.html(), `id="login"`) {
			t.Fatalf("%s: not sent to the login page:\n%s", account, o.html())
		}
		f.clock.Advance(30 * time.Second) // a fresh TOTP step
		code, err := access.TOTPCode(f.creds[account].TOTP.Secret, f.clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		o.fill("#account", account)
		o.fill("#password", testPassword)
		o.fill("#totp", code)
		o.submit("#login-submit", "#who")
	}

	// Officer A (walker) entered the dossier, with its evidence and CGU.
	id := f.dossier(t, registration.Submitted)
	page := fmt.Sprintf("/console/dossiers/%d", id)

	a := tab("desk-a")
	login(a, "walker")
	a.open(page)
	if h := a.html(); !strings.Contains(h, "You entered this dossier") {
		t.Errorf("A's page does not warn of the four-eyes rule:\n%s", h)
	}
	a.submit("#validate-submit", "#error")
	a.shot("four-eyes-refused")
	if h := a.html(); !strings.Contains(h, fmt.Sprintf("walker entered dossier %d and cannot validate it", id)) {
		t.Fatalf("A's validation is not refused with the message:\n%s", h)
	}

	b := tab("desk-b")
	login(b, "ra")
	b.open("/console/dossiers?state=submitted")
	b.submit(fmt.Sprintf(`a[href="%s"]`, page), "#evidence")
	h := b.html()
	for _, want := range []string{"Marie Curie", "id_card", "123456789012", "face_to_face", "application/pdf",
		"You may not read the scan (ARC-3)", "cgu/", "dossier.evidence_added", "dossier.submitted", `id="validate"`} {
		if !strings.Contains(h, want) {
			t.Errorf("B's dossier page lacks %q", want)
		}
	}
	if strings.Contains(h, "<script") {
		t.Error("the page holds a script")
	}
	b.shot("dossier")
	b.submit("#validate-submit", "#notice")
	if h := b.html(); !strings.Contains(h, "Dossier validated.") || !strings.Contains(h, "dossier.validated") {
		t.Fatalf("B's validation:\n%s", h)
	}
	d, err := f.reg.Service.Dossier(context.Background(), f.principal(t, "ra"), id)
	if err != nil || d.State != registration.Validated || d.DecidedBy != "ra" {
		t.Fatalf("dossier after B's validation: %+v %v", d, err)
	}

	// The Auditor reads; no decision form, and the scan's note says they could take it.
	au := tab("desk-au")
	login(au, "au")
	sub := f.dossier(t, registration.Submitted)
	au.open(fmt.Sprintf("/console/dossiers/%d", sub))
	if h := au.html(); strings.Contains(h, `id="validate"`) || !strings.Contains(h, "reads this dossier") || !strings.Contains(h, "sceau archive get") {
		t.Errorf("the Auditor's page:\n%s", h)
	}

	// The Auditor's session, taken from their browser, posts the validation
	// the page does not offer, through their terminal: 403, journaled.
	cookies, err := chromedp.Run(au.ctx, chromedp.Action[network.GetCookiesResult](
		func(ctx context.Context, tg *chromedp.Target) (network.GetCookiesResult, error) {
			return cdp.Call(ctx, tg, network.GetCookies, network.GetCookiesParams{})
		}))
	if err != nil {
		t.Fatal(err)
	}
	tok := csrfField.FindStringSubmatch(au.html())
	if tok == nil {
		t.Fatal("the Auditor's page has no form token")
	}
	form := url.Values{"csrf": {tok[1]}}
	req, _ := http.NewRequest("POST", au.base+fmt.Sprintf("/console/dossiers/%d/validate", sub), strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for _, ck := range cookies.Cookies {
		req.AddCookie(&http.Cookie{Name: ck.Name, Value: ck.Value})
	}
	before := len(f.events(t, "access.denied"))
	resp, err := (&http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}).Do(req) // the test proxy's own certificate
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if denied := f.events(t, "access.denied"); resp.StatusCode != http.StatusForbidden || len(denied) != before+1 || denied[len(denied)-1].Actor != "au" {
		t.Fatalf("the Auditor's POST: %d, access.denied %d -> %d", resp.StatusCode, before, len(denied))
	}
	if d, _ := f.reg.Service.Dossier(context.Background(), f.principal(t, "ra"), sub); d.State != registration.Submitted {
		t.Fatalf("the Auditor's refused POST moved the dossier to %s", d.State)
	}

	// A revocation request processed from the page, in French.
	rq := f.revocationRequest(t)
	b.open("/console/revocation-requests?state=received&lang=fr")
	if h := b.html(); !strings.Contains(h, `<html lang="fr"`) || !strings.Contains(h, "Demandes de révocation") {
		t.Fatalf("the French switch:\n%s", h)
	}
	b.shot("requests-fr")
	b.submit(fmt.Sprintf("#process-%d", rq), "#notice")
	if h := b.html(); !strings.Contains(h, "Certificat révoqué.") {
		t.Fatalf("processing the request:\n%s", h)
	}
	r, err := f.reg.Service.Request(context.Background(), f.principal(t, "ra"), rq)
	if err != nil || r.State != "revoked" || r.CheckedBy != "ra" || r.DoneAt == nil {
		t.Fatalf("request after processing: %+v %v", r, err)
	}
}
