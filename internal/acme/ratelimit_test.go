package acme_test

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-acme/lego/v5/acme"
	"github.com/go-acme/lego/v5/certcrypto"
	"github.com/go-acme/lego/v5/certificate"
	"github.com/go-acme/lego/v5/challenge/http01"
	"github.com/go-acme/lego/v5/lego"

	sacme "github.com/sceau/sceau/internal/acme"
	"github.com/sceau/sceau/internal/audit"
	"github.com/sceau/sceau/internal/sceautest"
	"github.com/sceau/sceau/internal/store"
)

// observed counts what the server reports through Options.Observe.
type observed struct {
	mu sync.Mutex
	n  map[string]int
}

func (o *observed) observe(kind, outcome string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.n[kind+"/"+outcome]++
}

func (o *observed) get(key string) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.n[key]
}

func limitFixture(t *testing.T, db *store.DB, perAccount, perIdentifier int) (*fixture, *observed) {
	obs := &observed{n: map[string]int{}}
	f := newFixture(t, db, func(o *sacme.Options) {
		o.OrdersPerAccountPerHour, o.CertificatesPerIdentifierPerWeek, o.Observe = perAccount, perIdentifier, obs.observe
	})
	return f, obs
}

func (f *fixture) lego(names ...string) *lego.Client {
	f.t.Helper()
	_, c := f.register(names...)
	if err := c.Challenge.SetHTTP01Provider(http01.NewProviderServer("127.0.0.1", f.httpPort)); err != nil {
		f.t.Fatal(err)
	}
	return c
}

func obtain(c *lego.Client, names ...string) (*certificate.Resource, error) {
	return c.Certificate.Obtain(context.Background(), certificate.ObtainRequest{Domains: names, Bundle: true, KeyType: certcrypto.EC256})
}

// rateLimited checks that err is lego's rateLimited error with a
// Retry-After within (0, max].
func rateLimited(t *testing.T, err error, max time.Duration) {
	t.Helper()
	var rl *acme.RateLimitedError
	if !errors.As(err, &rl) {
		t.Fatalf("got %v, want rateLimited", err)
	}
	if rl.RetryAfter <= 0 || rl.RetryAfter > max {
		t.Fatalf("Retry-After %v, want in (0, %v]", rl.RetryAfter, max)
	}
}

// TestCA4_RateLimitOrdersPerAccountPerHour: with 2 orders an hour, lego's
// third order is refused with 429 rateLimited and a Retry-After of at most
// an hour; nothing is ordered or issued; the refusal is journaled and
// counted; an hour later the account orders again. The count is the
// database's, so it holds on both engines.
func TestCA4_RateLimitOrdersPerAccountPerHour(t *testing.T) {
	sceautest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		f, obs := limitFixture(t, db, 2, 0)
		c := f.lego("app.sceau-test.fr", "www.sceau-test.fr")
		for _, n := range []string{"app.sceau-test.fr", "www.sceau-test.fr"} {
			if _, err := obtain(c, n); err != nil {
				t.Fatalf("obtain %s: %v", n, err)
			}
		}
		orders, certs := f.count("acme_orders"), f.count("certificates")
		_, err := obtain(c, "app.sceau-test.fr")
		rateLimited(t, err, time.Hour)
		if n, m := f.count("acme_orders"), f.count("certificates"); n != orders || m != certs {
			t.Fatalf("%d orders and %d certificates after the refusal, %d and %d before", n, m, orders, certs)
		}
		evs := f.events(audit.ActionACMERateLimited)
		if len(evs) != 1 || !strings.Contains(evs[0].Details, `"limit":"orders_per_account_per_hour"`) || !strings.Contains(evs[0].Details, `"max":2`) ||
			!strings.HasPrefix(evs[0].Actor, "acme:account-") {
			t.Fatalf("journal: %+v", evs)
		}
		if n := obs.get("problem/rateLimited"); n != 1 {
			t.Fatalf("rateLimited counted %d times", n)
		}
		// Another account is not held to this one's orders.
		if _, err := obtain(f.lego("app.sceau-test.fr"), "app.sceau-test.fr"); err != nil {
			t.Fatalf("another account: %v", err)
		}
		f.clock().Advance(time.Hour + time.Second)
		if _, err := obtain(c, "app.sceau-test.fr"); err != nil {
			t.Fatalf("an hour later: %v", err)
		}
	})
}

// TestCA4_RateLimitCertificatesPerIdentifierPerWeek: with one certificate
// per identifier a week, whatever the account, a second order for the name
// is refused (rateLimited, Retry-After at most 7 days) and so is the
// finalization of an order made before the first certificate; another
// name is free; a renewal replacing (RFC 9773) a revoked certificate is
// not held to the limit; nothing is issued by the refusals.
func TestCA4_RateLimitCertificatesPerIdentifierPerWeek(t *testing.T) {
	f, obs := limitFixture(t, sceautest.OpenSQLite(t), 0, 1)
	r := f.raw("server")
	r.register("app.sceau-test.fr", "www.sceau-test.fr")
	f.serveHTTP01(func(token string) string { return token + "." + r.thumbprint() })
	early := r.orderReplacing("", "app.sceau-test.fr")
	leaf := r.obtain("app.sceau-test.fr")
	certs := f.count("certificates")

	a := r.orderReplacing("", "app.sceau-test.fr", "www.sceau-test.fr")
	if a.status != http.StatusTooManyRequests || a.problem() != "rateLimited" {
		t.Fatalf("second order for the name: %d %s", a.status, a.raw)
	}
	if s, err := strconv.Atoi(a.header.Get("Retry-After")); err != nil || s <= 0 || s > 7*24*3600 {
		t.Fatalf("Retry-After %q", a.header.Get("Retry-After"))
	}
	if !strings.Contains(a.body["detail"].(string), "app.sceau-test.fr") {
		t.Errorf("detail %q", a.body["detail"])
	}
	// The order made before the first certificate: refused at finalize.
	r.finishAuthorizations(early)
	if a := r.finalize(early); a.status != http.StatusTooManyRequests || a.problem() != "rateLimited" {
		t.Fatalf("finalize of an earlier order: %d %s", a.status, a.raw)
	}
	if n := f.count("certificates"); n != certs {
		t.Fatalf("%d certificates after the refusals, %d before", n, certs)
	}
	// lego, on another account: refused too.
	_, err := obtain(f.lego("app.sceau-test.fr"), "app.sceau-test.fr")
	rateLimited(t, err, 7*24*time.Hour)
	if n := len(f.events(audit.ActionACMERateLimited)); n != 3 || obs.get("problem/rateLimited") != 3 {
		t.Fatalf("%d refusals journaled, %d counted, want 3", n, obs.get("problem/rateLimited"))
	}
	// Another name is free.
	r.obtain("www.sceau-test.fr")
	// A revoked certificate is due for renewal at once: its replacement
	// is not held to the limit.
	if rv := r.post(r.url("revokeCert"), map[string]any{"certificate": base64.RawURLEncoding.EncodeToString(leaf.Raw), "reason": 1}); rv.status != http.StatusOK {
		t.Fatalf("revoke: %d %s", rv.status, rv.raw)
	}
	r.obtainReplacing(certID(t, leaf), "app.sceau-test.fr")
	// A week later the name is free again.
	f.clock().Advance(7*24*time.Hour + time.Second)
	r.obtain("app.sceau-test.fr")
}

// TestCA4_RateLimitFailedValidationsPerAccountPerHour: with one failed
// validation an hour, after a wrong http-01 answer the account's next
// order is refused (rateLimited, journaled with the limit); an hour later
// it orders again.
func TestCA4_RateLimitFailedValidationsPerAccountPerHour(t *testing.T) {
	f := newFixture(t, sceautest.OpenSQLite(t), func(o *sacme.Options) { o.FailedValidationsPerAccountPerHour = 1 })
	r := f.raw("server")
	r.register("app.sceau-test.fr")
	f.serveHTTP01(func(token string) string { return token + ".wrong" })
	o, _ := r.order("app.sceau-test.fr")
	ch, _ := r.http01(o)
	if a := r.post(ch, map[string]any{}); a.body["status"] != "invalid" {
		t.Fatalf("challenge: %s", a.raw)
	}
	orders := f.count("acme_orders")
	a, _ := r.order("app.sceau-test.fr")
	if a.status != http.StatusTooManyRequests || a.problem() != "rateLimited" || a.header.Get("Retry-After") == "" {
		t.Fatalf("order after a failed validation: %d %v %s", a.status, a.header, a.raw)
	}
	if n := f.count("acme_orders"); n != orders {
		t.Fatalf("%d orders, want %d", n, orders)
	}
	evs := f.events(audit.ActionACMERateLimited)
	if len(evs) != 1 || !strings.Contains(evs[0].Details, `"limit":"failed_validations_per_account_per_hour"`) {
		t.Fatalf("journal: %+v", evs)
	}
	f.clock().Advance(time.Hour + time.Second)
	if a, _ := r.order("app.sceau-test.fr"); a.status != http.StatusCreated {
		t.Fatalf("an hour later: %d %s", a.status, a.raw)
	}
}

// finishAuthorizations validates the order's pending authorizations.
func (r *raw) finishAuthorizations(o answer) {
	r.f.t.Helper()
	for _, az := range o.body["authorizations"].([]any) {
		a := r.post(az.(string), nil)
		for _, ch := range a.body["challenges"].([]any) {
			if m := ch.(map[string]any); m["type"] == "http-01" && a.body["status"] == "pending" {
				if c := r.post(m["url"].(string), map[string]any{}); c.body["status"] != "valid" {
					r.f.t.Fatalf("challenge: %s", c.raw)
				}
			}
		}
	}
}
