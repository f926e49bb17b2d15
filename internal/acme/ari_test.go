package acme_test

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/go-acme/lego/v5/acme/api"
	"github.com/go-acme/lego/v5/certcrypto"
	"github.com/go-acme/lego/v5/certificate"
	"github.com/go-acme/lego/v5/challenge/http01"

	sacme "github.com/sceau/sceau/internal/acme"
	"github.com/sceau/sceau/internal/audit"
	"github.com/sceau/sceau/internal/revocation"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/sceautest"
	"github.com/sceau/sceau/internal/store"
)

func (f *fixture) clock() *sceautest.Clock { return f.opts.Clock.(*sceautest.Clock) }

func leafOf(t *testing.T, res *certificate.Resource) *x509.Certificate {
	t.Helper()
	certs, err := certcrypto.ParsePEMBundle(res.Certificate)
	if err != nil {
		t.Fatal(err)
	}
	return certs[0]
}

// orderEvents returns the details of the acme.order_created events.
func (f *fixture) orderEvents() []map[string]any {
	f.t.Helper()
	var out []map[string]any
	for _, e := range f.events(audit.ActionACMEOrderCreated) {
		m := map[string]any{}
		if err := json.Unmarshal([]byte(e.Details), &m); err != nil {
			f.t.Fatal(err)
		}
		out = append(out, m)
	}
	return out
}

// TestCA4_ARILegoFetchesRenewalInfoAndRenewsWithReplaces: the directory
// advertises renewalInfo; lego reads a certificate's window (two thirds
// to five sixths of its validity, Retry-After 6 hours), renews with
// "replaces" (journaled on the order); replacing the same certificate
// again is refused with alreadyReplaced (lego then orders without it);
// once revoked, the certificate's window is now (RFC 9773).
func TestCA4_ARILegoFetchesRenewalInfoAndRenewsWithReplaces(t *testing.T) {
	sceautest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, func(o *sacme.Options) { o.RenewalExplanationURL = "https://pki.example.fr/incident/17" })
		ctx := context.Background()
		_, c := f.register("app.sceau-test.fr")
		if err := c.Challenge.SetHTTP01Provider(http01.NewProviderServer("127.0.0.1", f.httpPort)); err != nil {
			t.Fatal(err)
		}
		res, err := c.Certificate.Obtain(ctx, certificate.ObtainRequest{Domains: []string{"app.sceau-test.fr"}, Bundle: true, KeyType: certcrypto.EC256})
		if err != nil {
			t.Fatalf("obtain: %v", err)
		}
		leaf := leafOf(t, res)
		info, err := c.Certificate.GetRenewalInfo(ctx, leaf)
		if err != nil {
			t.Fatalf("renewal info: %v", err)
		}
		life := leaf.NotAfter.Sub(leaf.NotBefore)
		wantStart, wantEnd := leaf.NotBefore.Add(life*2/3).Truncate(time.Second), leaf.NotBefore.Add(life*5/6).Truncate(time.Second)
		if w := info.SuggestedWindow; !w.Start.Equal(wantStart) || !w.End.Equal(wantEnd) {
			t.Fatalf("window %v – %v, want %v – %v", w.Start, w.End, wantStart, wantEnd)
		}
		if info.RetryAfter != 6*time.Hour || info.ExplanationURL != "" {
			t.Fatalf("retry after %v, explanation %q", info.RetryAfter, info.ExplanationURL)
		}
		if at := info.ShouldRenewAt(f.clock().Now(), time.Hour); at != nil {
			t.Fatalf("a fresh certificate is due at %v", at)
		}

		renewed, err := c.Certificate.Renew(ctx, *res, &certificate.RenewOptions{UseARICertID: true, Bundle: true})
		if err != nil {
			t.Fatalf("renew with replaces: %v", err)
		}
		serial := revocation.SerialHex(leaf.SerialNumber)
		f.journaledIssue(revocation.SerialHex(leafOf(t, renewed).SerialNumber))
		evs := f.orderEvents()
		if len(evs) != 2 || evs[0]["replaces"] != nil || evs[1]["replaces"] != serial {
			t.Fatalf("orders journaled: %v, want the second replacing %s", evs, serial)
		}

		// The same certificate again: 409 alreadyReplaced; lego orders
		// anew without replaces.
		if _, err := c.Certificate.Renew(ctx, *res, &certificate.RenewOptions{UseARICertID: true, Bundle: true}); err != nil {
			t.Fatalf("second renewal: %v", err)
		}
		if evs := f.orderEvents(); len(evs) != 3 || evs[2]["replaces"] != nil {
			t.Fatalf("orders journaled: %v, want a third without replaces", evs)
		}

		// RFC 9773 §4.2: once revoked, the window is in the past, so
		// clients renew at once.
		if err := c.Certificate.Revoke(ctx, res.Certificate); err != nil {
			t.Fatal(err)
		}
		now := f.clock().Now()
		info, err = c.Certificate.GetRenewalInfo(ctx, leaf)
		if err != nil {
			t.Fatalf("renewal info of a revoked certificate: %v", err)
		}
		if w := info.SuggestedWindow; w.End.After(now) || !w.Start.Before(w.End) {
			t.Fatalf("revoked certificate's window %v – %v, now %v", w.Start, w.End, now)
		}
		if info.ExplanationURL != "https://pki.example.fr/incident/17" {
			t.Fatalf("explanation %q", info.ExplanationURL)
		}
		if at := info.ShouldRenewAt(now, 0); at == nil || at.After(now) {
			t.Fatalf("a revoked certificate is due at %v, want now", at)
		}
	})
}

// get sends an unauthenticated GET (renewalInfo).
func (r *raw) get(url string) answer {
	r.f.t.Helper()
	resp, err := r.f.srv.Client().Get(url)
	if err != nil {
		r.f.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	a := answer{status: resp.StatusCode, header: resp.Header, raw: b, body: map[string]any{}}
	_ = json.Unmarshal(b, &a.body)
	return a
}

// obtain orders, validates with http-01 (served by the test) and
// finalizes a certificate for names; it returns the certificate.
func (r *raw) obtain(names ...string) *x509.Certificate {
	r.f.t.Helper()
	return r.obtainReplacing("", names...)
}

func (r *raw) obtainReplacing(certID string, names ...string) *x509.Certificate {
	r.f.t.Helper()
	o := r.orderReplacing(certID, names...)
	if o.status != http.StatusCreated {
		r.f.t.Fatalf("order: %d %s", o.status, o.raw)
	}
	return r.finish(o)
}

func (r *raw) orderReplacing(certID string, names ...string) answer {
	r.f.t.Helper()
	var ids []map[string]string
	for _, n := range names {
		ids = append(ids, map[string]string{"type": "dns", "value": n})
	}
	payload := map[string]any{"identifiers": ids}
	if certID != "" {
		payload["replaces"] = certID
	}
	return r.post(r.url("newOrder"), payload)
}

// finish validates a new order's authorizations and finalizes it.
func (r *raw) finish(o answer) *x509.Certificate {
	r.f.t.Helper()
	r.finishAuthorizations(o)
	a := r.finalize(o)
	if a.body["status"] != "valid" {
		r.f.t.Fatalf("finalize: %d %s", a.status, a.raw)
	}
	cert := r.post(a.body["certificate"].(string), nil)
	der := pemBlocks(r.f.t, cert.raw)[0]
	c, err := x509.ParseCertificate(der)
	if err != nil {
		r.f.t.Fatal(err)
	}
	return c
}

func (r *raw) finalize(o answer) answer {
	r.f.t.Helper()
	var names []string
	for _, id := range o.body["identifiers"].([]any) {
		names = append(names, id.(map[string]any)["value"].(string))
	}
	return r.post(o.body["finalize"].(string), map[string]string{"csr": base64.RawURLEncoding.EncodeToString(csrFor(r.f.t, names...))})
}

func pemBlocks(t *testing.T, b []byte) [][]byte {
	t.Helper()
	certs, err := certcrypto.ParsePEMBundle(b)
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	for _, c := range certs {
		out = append(out, c.Raw)
	}
	return out
}

func certID(t *testing.T, c *x509.Certificate) string {
	t.Helper()
	id, err := api.MakeARICertID(c)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// TestCA4_ARIRefusals: a certID that does not parse answers 400
// malformed, one of no certificate of this CA 404; "replaces" naming
// another account's certificate, no certificate, or one sharing no
// identifier is refused (malformed), an already replaced one 409
// alreadyReplaced; nothing is ordered then.
func TestCA4_ARIRefusals(t *testing.T) {
	f := newFixture(t, sceautest.OpenSQLite(t), nil)
	r := f.raw("server")
	if _, ok := r.dir["renewalInfo"].(string); !ok {
		t.Fatalf("directory without renewalInfo: %v", r.dir)
	}
	r.register("app.sceau-test.fr", "www.sceau-test.fr")
	f.serveHTTP01(func(token string) string { return token + "." + r.thumbprint() })
	leaf := r.obtain("app.sceau-test.fr")
	id := certID(t, leaf)
	aki, serial, _ := strings.Cut(id, ".")
	info := r.url("renewalInfo") + "/"

	if a := r.get(info + id); a.status != http.StatusOK || a.header.Get("Retry-After") != "21600" {
		t.Fatalf("renewal info: %d %v %s", a.status, a.header, a.raw)
	}
	for name, c := range map[string]struct {
		id      string
		status  int
		problem string
	}{
		"no dot":        {aki + serial, http.StatusBadRequest, "malformed"},
		"padding":       {aki + "=." + serial, http.StatusBadRequest, "malformed"},
		"not base64url": {aki + ".+/", http.StatusBadRequest, "malformed"},
		"empty serial":  {aki + ".", http.StatusBadRequest, "malformed"},
		"negative":      {aki + "." + base64.RawURLEncoding.EncodeToString([]byte{0x80, 1}), http.StatusBadRequest, "malformed"},
		"unknown":       {aki + "." + base64.RawURLEncoding.EncodeToString([]byte{0x7f, 1, 2, 3, 4, 5, 6, 7}), http.StatusNotFound, "malformed"},
		"other AKI":     {base64.RawURLEncoding.EncodeToString([]byte("another issuer key")) + "." + serial, http.StatusNotFound, "malformed"},
	} {
		if a := r.get(info + c.id); a.status != c.status || a.problem() != c.problem {
			t.Errorf("%s: %d %s, want %d %s", name, a.status, a.raw, c.status, c.problem)
		}
	}

	orders := f.count("acme_orders")
	other := f.raw("server")
	other.register("app.sceau-test.fr")
	for name, c := range map[string]struct {
		r       *raw
		id      string
		names   []string
		status  int
		problem string
	}{
		"another account's certificate": {other, id, []string{"app.sceau-test.fr"}, http.StatusBadRequest, "malformed"},
		"no such certificate":           {r, aki + "." + base64.RawURLEncoding.EncodeToString([]byte{1, 2, 3}), []string{"app.sceau-test.fr"}, http.StatusBadRequest, "malformed"},
		"garbage":                       {r, "garbage", []string{"app.sceau-test.fr"}, http.StatusBadRequest, "malformed"},
		"no shared identifier":          {r, id, []string{"www.sceau-test.fr"}, http.StatusBadRequest, "malformed"},
	} {
		if a := c.r.orderReplacing(c.id, c.names...); a.status != c.status || a.problem() != c.problem {
			t.Errorf("%s: %d %s, want %d %s", name, a.status, a.raw, c.status, c.problem)
		}
	}
	if n := f.count("acme_orders"); n != orders {
		t.Fatalf("%d orders after refusals, %d before", n, orders)
	}
	// A pending replacement holds the certificate; a second one is refused.
	first := r.orderReplacing(id, "app.sceau-test.fr", "www.sceau-test.fr")
	if first.status != http.StatusCreated || first.body["replaces"] != id {
		t.Fatalf("replacement (the order says what it replaces, RFC 9773 §5): %d %s", first.status, first.raw)
	}
	if again := r.post(first.header.Get("Location"), nil); again.body["replaces"] != id {
		t.Fatalf("the order read again: %s, want replaces %s", again.raw, id)
	}
	if a := r.orderReplacing(id, "app.sceau-test.fr"); a.status != http.StatusConflict || a.problem() != "alreadyReplaced" {
		t.Fatalf("second replacement: %d %s", a.status, a.raw)
	}
	r.finish(first)
	if a := r.orderReplacing(id, "app.sceau-test.fr"); a.problem() != "alreadyReplaced" {
		t.Fatalf("replacement of a replaced certificate: %d %s", a.status, a.raw)
	}
	// A replacement order that expired unfinished no longer holds its
	// certificate.
	leaf2 := r.obtain("www.sceau-test.fr")
	if a := r.orderReplacing(certID(t, leaf2), "www.sceau-test.fr"); a.status != http.StatusCreated {
		t.Fatalf("replacement: %d %s", a.status, a.raw)
	}
	f.clock().Advance(8 * 24 * time.Hour)
	if a := r.orderReplacing(certID(t, leaf2), "www.sceau-test.fr"); a.status != http.StatusCreated {
		t.Fatalf("replacement after the first expired: %d %s", a.status, a.raw)
	}
}

// TestCA4_ARIRevokedCertificateIsDueNow: a revoked certificate's window
// ends at the time of the request and starts before it, so that clients
// renew at once (RFC 9773 §4.2, a mass revocation after an incident).
func TestCA4_ARIRevokedCertificateIsDueNow(t *testing.T) {
	f := newFixture(t, sceautest.OpenSQLite(t), nil)
	r := f.raw("server")
	r.register("app.sceau-test.fr")
	f.serveHTTP01(func(token string) string { return token + "." + r.thumbprint() })
	leaf := r.obtain("app.sceau-test.fr")
	info := r.url("renewalInfo") + "/" + certID(t, leaf)
	window := func() (time.Time, time.Time) {
		t.Helper()
		a := r.get(info)
		w, _ := a.body["suggestedWindow"].(map[string]any)
		start, err1 := time.Parse(time.RFC3339, w["start"].(string))
		end, err2 := time.Parse(time.RFC3339, w["end"].(string))
		if a.status != http.StatusOK || err1 != nil || err2 != nil {
			t.Fatalf("renewal info: %d %s", a.status, a.raw)
		}
		return start, end
	}
	now := f.clock().Now()
	if start, _ := window(); !start.After(now) {
		t.Fatalf("a fresh certificate's window starts at %v, now %v", start, now)
	}
	if err := f.h.Revocation.Revoke(t.Context(), sceau.Actor{ID: "ro1"}, revocation.SerialHex(leaf.SerialNumber), 1); err != nil {
		t.Fatal(err)
	}
	f.clock().Advance(time.Minute)
	now = f.clock().Now()
	start, end := window()
	if !end.Equal(now) || !start.Before(end) {
		t.Fatalf("revoked: window %v – %v, want it to end now (%v)", start, end, now)
	}
}
