package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"software.sslmate.com/src/go-pkcs12"

	"github.com/sceau/sceau/internal/registration"
	"github.com/sceau/sceau/internal/sceautest"
	"github.com/sceau/sceau/internal/server"
)

// enrollFixture serves the enrollment listener's handler over real TLS
// beside the access fixture's admin API.
func enrollFixture(t *testing.T) (*accessFixture, *httptest.Server) {
	t.Helper()
	f := newAccessFixture(t, sceautest.OpenSQLite(t))
	e := &server.Enroll{Registration: f.reg.Service, Log: slog.New(slog.DiscardHandler)}
	srv := httptest.NewTLSServer(e.Handler())
	t.Cleanup(srv.Close)
	return f, srv
}

func fetch(t *testing.T, srv *httptest.Server, method, path, contentType, body string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

// TestCA4_HolderDownloadsAndAsksRevocationThroughTheEnrollmentListener:
// the issuance's one-time link points at the enrollment listener, which
// hands the PKCS#12 over once; the holder's revocation request through the
// form is refused with a wrong secret (journaled) and received with the
// right one, then revoked by another officer.
func TestCA4_HolderDownloadsAndAsksRevocationThroughTheEnrollmentListener(t *testing.T) {
	f, srv := enrollFixture(t)
	ctx := context.Background()
	id := f.dossier(t, registration.Validated)
	w := f.as(t, "ra", "", "POST", fmt.Sprintf("/api/v1/dossiers/%d/issue", id), jsonBody(t, server.DossierIssueRequest{KeyType: "ecdsa-p256", Link: true}))
	if w.Code != 201 {
		t.Fatalf("issue: %d %s", w.Code, w.Body)
	}
	var iss server.DossierIssueResponse
	if err := json.Unmarshal(w.Body.Bytes(), &iss); err != nil {
		t.Fatal(err)
	}
	token, ok := strings.CutPrefix(iss.DownloadURL, "https://enroll.test/pkcs12/")
	if !ok || token != iss.Link || iss.PKCS12 != "" {
		t.Fatalf("download URL %q, token %q, PKCS#12 in the answer: %v", iss.DownloadURL, iss.Link, iss.PKCS12 != "")
	}

	resp, body := fetch(t, srv, "GET", "/pkcs12/"+token, "", "")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/x-pkcs12" || resp.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("download: %d %v", resp.StatusCode, resp.Header)
	}
	_, cert, _, err := pkcs12.DecodeChain([]byte(body), iss.Password)
	if err != nil || fmt.Sprintf("%x", cert.SerialNumber) != strings.TrimLeft(iss.Serial, "0") {
		t.Fatalf("PKCS#12: %v, serial %x want %s", err, cert.SerialNumber, iss.Serial)
	}
	if evs := f.events(t, "dossier.pkcs12_downloaded"); len(evs) != 1 {
		t.Fatalf("%d download events", len(evs))
	}
	resp, body = fetch(t, srv, "GET", "/pkcs12/"+token, "", "")
	if resp.StatusCode != http.StatusConflict || !strings.Contains(body, "used already") {
		t.Fatalf("second download: %d %s", resp.StatusCode, body)
	}
	if resp, _ = fetch(t, srv, "GET", "/pkcs12/not-a-token", "", ""); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("unknown token: %d", resp.StatusCode)
	}

	// The form, in French, then a wrong secret and the right one.
	resp, body = fetch(t, srv, "GET", "/revoke?lang=fr", "", "")
	if resp.StatusCode != 200 || !strings.Contains(body, "Révoquer mon certificat") || !strings.Contains(body, `name="secret"`) ||
		!strings.Contains(resp.Header.Get("Content-Security-Policy"), "form-action 'self'") {
		t.Fatalf("form: %d %s", resp.StatusCode, body)
	}
	form := func(secret string) url.Values {
		return url.Values{"serial": {strings.ToUpper(iss.Serial)}, "secret": {secret}, "reason": {"keyCompromise"}, "note": {"laptop stolen"}}
	}
	holder := fmt.Sprintf("holder:dossier-%d", id)
	resp, body = fetch(t, srv, "POST", "/revoke?lang=en", "application/x-www-form-urlencoded", form("WRONG").Encode())
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "the revocation secret is wrong") || strings.Contains(body, "WRONG") {
		t.Fatalf("wrong secret: %d %s", resp.StatusCode, body)
	}
	if evs := f.events(t, "revocation_request.secret_refused"); len(evs) != 1 || evs[0].Actor != holder {
		t.Fatalf("refusal events: %+v", evs)
	}
	resp, body = fetch(t, srv, "POST", "/revoke?lang=en", "application/x-www-form-urlencoded", form(iss.RevocationSecret).Encode())
	if resp.StatusCode != http.StatusCreated || !strings.Contains(body, `id="request-id"`) || strings.Contains(body, iss.RevocationSecret) {
		t.Fatalf("request: %d %s", resp.StatusCode, body)
	}
	list, err := f.reg.Service.Requests(ctx, walker, "received", 10)
	if err != nil || len(list) != 1 || list[0].Source != registration.FromHolder || list[0].Reason != "keyCompromise" || list[0].DueAt.IsZero() {
		t.Fatalf("requests: %+v, %v", list, err)
	}
	if !strings.Contains(body, fmt.Sprintf(">%d<", list[0].ID)) {
		t.Fatalf("the page does not give the request's number %d: %s", list[0].ID, body)
	}
	if evs := f.events(t, "revocation_request.received"); len(evs) != 1 || evs[0].Actor != holder {
		t.Fatalf("received events: %+v", evs)
	}
	rq, err := f.reg.Service.Process(ctx, walker, list[0].ID, true, "", "checked by phone")
	if err != nil || rq.State != "revoked" {
		t.Fatalf("process: %+v, %v", rq, err)
	}
	if w := f.as(t, "ra", "", "GET", "/api/v1/certificates/"+iss.Serial, ""); !strings.Contains(w.Body.String(), `"revoked"`) {
		t.Fatalf("certificate: %s", w.Body)
	}
}

// TestCA4_EnrollmentListenerRefusesMalformedHolderRequests: the API call
// and the form refuse what is not a request, and the listener serves
// nothing it does not route.
func TestCA4_EnrollmentListenerRefusesMalformedHolderRequests(t *testing.T) {
	f, srv := enrollFixture(t)
	iss := f.issued(t)
	before := len(f.events(t))
	for _, c := range []struct {
		name, method, path, ctype, body string
		want                            int
		says                            string
	}{
		{"unknown field", "POST", "/api/v1/revocation-requests", "application/json", `{"serial":"01","secret":"x","subject":"eve"}`, 400, "not a revocation request"},
		{"two values", "POST", "/api/v1/revocation-requests", "application/json", `{"serial":"01","secret":"x"}{}`, 400, "more than one"},
		{"unknown serial", "POST", "/api/v1/revocation-requests", "application/json", `{"serial":"0badc0ffee","secret":"x"}`, 404, "no dossier issued certificate"},
		{"suspension", "POST", "/api/v1/revocation-requests", "application/json",
			jsonBody(t, server.HolderRequest{Serial: iss.Issued.Serial, Secret: iss.RevocationSecret, Reason: "certificateHold"}), 400, "does not suspend"},
		{"oversized form", "POST", "/revoke", "application/x-www-form-urlencoded", "note=" + strings.Repeat("a", 20<<10), 413, "too large"},
		{"PUT", "PUT", "/revoke", "", "", 405, ""},
		{"unknown path", "GET", "/admin", "", "", 404, ""},
	} {
		resp, body := fetch(t, srv, c.method, c.path, c.ctype, c.body)
		if resp.StatusCode != c.want || !strings.Contains(body, c.says) {
			t.Errorf("%s: %d %s, want %d saying %q", c.name, resp.StatusCode, body, c.want, c.says)
		}
	}
	if after := len(f.events(t)); after != before {
		t.Fatalf("refused requests left %d journal events", after-before)
	}
	if list, _ := f.reg.Service.Requests(context.Background(), walker, "", 10); len(list) != 0 {
		t.Fatalf("requests recorded: %+v", list)
	}
	// The right secret through the API call is received.
	resp, body := fetch(t, srv, "POST", "/api/v1/revocation-requests", "application/json",
		jsonBody(t, server.HolderRequest{Serial: iss.Issued.Serial, Secret: iss.RevocationSecret}))
	if resp.StatusCode != 201 || !strings.Contains(body, `"state": "received"`) {
		t.Fatalf("API request: %d %s", resp.StatusCode, body)
	}
}
