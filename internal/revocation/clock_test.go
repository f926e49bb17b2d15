package revocation_test

import (
	"crypto"
	"crypto/x509"
	"errors"
	"log/slog"
	"math/big"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/sceau/sceau/internal/clockguard"
	"github.com/sceau/sceau/internal/revocation"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/sceautest"
	"github.com/sceau/sceau/internal/store"
)

// SYS-4: with the clock 5 s off a real NTP server, the revocation service
// signs no CRL (and reserves no number), no OCSP response on demand and
// refreshes none, with the guard's one precise error; the responses signed
// before are still served. A revocation is recorded all the same, and its
// serial answers tryLater, never its old "good". Back in range, the CRL
// takes the next number, and the refresher signs the revoked response.
func TestSYS4_UntrustedClockSignsNoCRLNorOCSP(t *testing.T) {
	sceautest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		ntp := sceautest.StartNTP(t, 0)
		g := clockguard.New(clockguard.Options{Servers: []string{ntp.Addr}, Timeout: time.Second})
		if st := g.Measure(ctx); st.State != clockguard.InSync {
			t.Fatalf("guard: %+v", st)
		}
		h := sceautest.NewHierarchy(t, db, sceautest.HierarchyOptions{ClockGuard: g.Err})
		f := &fixture{h: h, rs: h.Revocation.NewResponder(slog.New(slog.DiscardHandler))}
		c, err := h.Authority.CA("issuing")
		if err != nil {
			t.Fatal(err)
		}
		f.issuing = c.Cert
		a, b := f.issue(t), f.issue(t)
		before, err := h.Revocation.Latest(ctx, "issuing", revocation.FullCRL)
		if err != nil {
			t.Fatal(err)
		}

		ntp.SetOffset(5 * time.Second)
		if st := g.Measure(ctx); st.State != clockguard.Drifted {
			t.Fatalf("guard 5 s off: %+v", st)
		}
		refused := func(what string, err error) {
			t.Helper()
			if !errors.Is(err, clockguard.ErrClockDrift) || sceau.KindOf(err) != sceau.Unavailable {
				t.Errorf("%s: %v (kind %v), want the clock guard's refusal", what, err, sceau.KindOf(err))
			}
		}
		_, err = h.Revocation.IssueCRL(ctx, testActor, "issuing")
		refused("CRL", err)
		_, err = h.Revocation.Refresh(ctx, 100)
		refused("OCSP refresh", err)
		iss, _ := h.Revocation.Issuer("issuing")
		_, err = h.Revocation.SignOCSP(iss, a.Cert.SerialNumber, &revocation.Status{Issued: true}, crypto.SHA256)
		refused("OCSP signature", err)
		if _, st := f.ask(t, crypto.SHA256, a.Cert.SerialNumber, []byte("nonce-1234567890")); st != "trylater" {
			t.Errorf("on-demand response while drifted: %s, want trylater", st)
		}
		// Signed when the clock was right: still served.
		if resp, st := f.ask(t, crypto.SHA1, a.Cert.SerialNumber, nil); st != "good" || f.parse(t, resp).Status != ocsp.Good {
			t.Errorf("pre-signed response while drifted: %s", st)
		}
		if err := h.Revocation.Revoke(ctx, testActor, b.Serial, 1); err != nil {
			t.Fatalf("a revocation while drifted is recorded: %v", err)
		}
		if _, st := f.ask(t, crypto.SHA1, b.Cert.SerialNumber, nil); st != "trylater" {
			t.Errorf("revoked while drifted: %s, want trylater (never the old good)", st)
		}

		ntp.SetOffset(0)
		if st := g.Measure(ctx); st.State != clockguard.InSync {
			t.Fatalf("guard back: %+v", st)
		}
		crls, err := h.Revocation.IssueCRL(ctx, testActor, "issuing")
		if err != nil {
			t.Fatal(err)
		}
		if crls[0].Number != before.Number+1 {
			t.Errorf("CRL number %d after %d: the refusals reserved numbers", crls[0].Number, before.Number)
		}
		rl, err := x509.ParseRevocationList(crls[0].DER)
		if err != nil || len(rl.RevokedCertificateEntries) != 1 || rl.RevokedCertificateEntries[0].SerialNumber.Cmp(b.Cert.SerialNumber) != 0 {
			t.Errorf("the CRL after the drift: %v, %+v", err, rl)
		}
		if n, err := h.Revocation.Refresh(ctx, 100); err != nil || n != 1 {
			t.Errorf("refresh after the drift: %d, %v; want the revoked response signed", n, err)
		}
		resp, _ := f.ask(t, crypto.SHA1, b.Cert.SerialNumber, nil)
		if p := f.parse(t, resp); p.Status != ocsp.Revoked || p.SerialNumber.Cmp(new(big.Int).Set(b.Cert.SerialNumber)) != 0 {
			t.Errorf("revoked serial after the drift: status %d", p.Status)
		}
	})
}
