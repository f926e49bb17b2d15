package ca_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/sceau/sceau/internal/audit"
	"github.com/sceau/sceau/internal/ca"
	"github.com/sceau/sceau/internal/keys"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/sceautest"
	"github.com/sceau/sceau/internal/store"
)

var operator = sceau.Actor{ID: "tester", Role: "operator"}

func countRows(t *testing.T, db *store.DB, table string) int {
	t.Helper()
	var n int
	if err := db.QueryRowContext(context.Background(), "SELECT COUNT(*) FROM "+table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestCA2_IssueFromCSRRecordsBeforeSigning(t *testing.T) {
	sceautest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		h := sceautest.NewHierarchy(t, db, sceautest.HierarchyOptions{})
		key := sceautest.NewKey(t, keys.ECDSAP256)
		p, err := h.Authority.Prepare(ctx, operator, ca.Request{CA: "issuing", Profile: "server",
			CSR: sceautest.CSR(t, key, "www.example.org", "www.example.org")})
		if err != nil {
			t.Fatal(err)
		}
		// Between Prepare and Issue the serial is recorded with its TBS.
		rec, err := h.Authority.Certificate(ctx, p.Serial())
		if err != nil {
			t.Fatal(err)
		}
		if rec.Status != "reserved" || rec.DER != nil {
			t.Fatalf("after Prepare: status %q, der %v; want reserved without certificate", rec.Status, rec.DER != nil)
		}
		iss, err := h.Authority.Issue(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := h.Authority.Issue(ctx, p); !errors.Is(err, sceau.ErrConflict) {
			t.Fatalf("second Issue of the same preparation: %v, want Conflict (sign at most once)", err)
		}
		rec, err = h.Authority.Certificate(ctx, p.Serial())
		if err != nil {
			t.Fatal(err)
		}
		if rec.Status != "issued" || !bytes.Equal(rec.DER, iss.DER) {
			t.Fatalf("after Issue: status %q; stored certificate matches: %v", rec.Status, bytes.Equal(rec.DER, iss.DER))
		}
		// The chain verifies with crypto/x509.
		roots, inter := x509.NewCertPool(), x509.NewCertPool()
		roots.AddCert(iss.Chain[len(iss.Chain)-1])
		inter.AddCert(iss.Chain[0])
		if _, err := iss.Cert.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, DNSName: "www.example.org",
			KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}); err != nil {
			t.Fatalf("chain does not verify: %v", err)
		}
		if got := iss.Cert.CRLDistributionPoints; len(got) != 1 || got[0] != h.URLs.CRL("issuing") {
			t.Errorf("CDP %v, want %s", got, h.URLs.CRL("issuing"))
		}
		// Events: prepared then issued, chain intact.
		recs, err := audit.Read(ctx, db, 0, 1000)
		if err != nil {
			t.Fatal(err)
		}
		var actions []string
		for _, r := range recs {
			if r.Object == "certificate:"+p.Serial() {
				actions = append(actions, r.Action)
				if r.Actor != "tester" || r.Role != "operator" {
					t.Errorf("event %s by %s (%s), want tester (operator)", r.Action, r.Actor, r.Role)
				}
			}
		}
		if strings.Join(actions, ",") != "certificate.prepared,certificate.issued" {
			t.Errorf("events %v", actions)
		}
		if res, err := audit.Verify(ctx, db); err != nil || res.BrokenAt != 0 {
			t.Fatalf("audit chain: %+v %v", res, err)
		}
	})
}

func TestCA2_SerialsAreRandomPositiveAndUnique(t *testing.T) {
	ctx := context.Background()
	h := sceautest.NewHierarchy(t, sceautest.OpenSQLite(t), sceautest.HierarchyOptions{})
	key := sceautest.NewKey(t, keys.ECDSAP256)
	seen := map[string]bool{}
	var or big.Int
	for i := 0; i < 40; i++ {
		iss, err := h.Authority.IssueCSR(ctx, operator, ca.Request{CA: "issuing", Profile: "server", CSR: sceautest.CSR(t, key, "a.example.org", "a.example.org")})
		if err != nil {
			t.Fatal(err)
		}
		sn := iss.Cert.SerialNumber
		if sn.Sign() <= 0 || sn.BitLen() < 64 || len(sn.Bytes()) > 20 {
			t.Fatalf("serial %x: want positive, at least 64 bits, at most 20 octets", sn)
		}
		if seen[iss.Serial] {
			t.Fatalf("serial %s issued twice", iss.Serial)
		}
		seen[iss.Serial] = true
		or.Or(&or, sn)
	}
	// Over 40 random serials every one of the low 64 bits is set somewhere.
	low := new(big.Int).And(&or, new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 64), big.NewInt(1)))
	if low.BitLen() != 64 || strings.Contains(low.Text(2), "0") {
		t.Errorf("low 64 bits of the serials never vary somewhere: %b", low)
	}
}

func TestCA2_BadRequestsAreRefusedWithoutRecord(t *testing.T) {
	ctx := context.Background()
	db := sceautest.OpenSQLite(t)
	h := sceautest.NewHierarchy(t, db, sceautest.HierarchyOptions{})
	p256 := sceautest.NewKey(t, keys.ECDSAP256)
	good := sceautest.CSR(t, p256, "ok.example.org", "ok.example.org")

	p521, _ := ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
	_, edKey, _ := ed25519.GenerateKey(rand.Reader)
	rsa4096 := sceautest.NewKey(t, keys.RSA3072) // allowed by server, not by person
	weakCSR := weakExponentCSR(t)
	tampered := bytes.Clone(good)
	tampered[len(tampered)-5] ^= 0xff
	longOU, _ := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{
		Subject:  pkix.Name{CommonName: "ou.example.org", OrganizationalUnit: []string{strings.Repeat("u", 100)}},
		DNSNames: []string{"ou.example.org"}}, p256)

	cases := []struct {
		name string
		req  ca.Request
		kind sceau.Kind
		msg  string
	}{
		{"unknown CA", ca.Request{CA: "nope", Profile: "server", CSR: good}, sceau.NotFound, `unknown CA "nope"`},
		{"unknown profile", ca.Request{CA: "issuing", Profile: "nope", CSR: good}, sceau.NotFound, `no profile "nope"`},
		{"no CSR", ca.Request{CA: "issuing", Profile: "server"}, sceau.Invalid, "CSR is required"},
		{"garbage", ca.Request{CA: "issuing", Profile: "server", CSR: []byte("hello")}, sceau.Invalid, "not a DER PKCS#10"},
		{"oversized", ca.Request{CA: "issuing", Profile: "server", CSR: make([]byte, ca.MaxCSRBytes+1)}, sceau.Invalid, "more than"},
		{"bad signature", ca.Request{CA: "issuing", Profile: "server", CSR: tampered}, sceau.Invalid, ""},
		{"P-521 key", ca.Request{CA: "issuing", Profile: "server", CSR: sceautest.CSR(t, p521, "x.example.org", "x.example.org")}, sceau.Invalid, "not supported"},
		{"Ed25519 key", ca.Request{CA: "issuing", Profile: "server", CSR: sceautest.CSR(t, edKey, "x.example.org", "x.example.org")}, sceau.Invalid, "not supported"},
		{"key type not in profile", ca.Request{CA: "issuing", Profile: "person", CSR: sceautest.CSR(t, rsa4096, "Marie")}, sceau.Invalid, "does not allow rsa-3072"},
		{"SAN required", ca.Request{CA: "issuing", Profile: "server", CSR: sceautest.CSR(t, p256, "nosan.example.org")}, sceau.Invalid, "requires a subject alternative name"},
		{"DNS name not allowed", ca.Request{CA: "issuing", Profile: "person", CSR: sceautest.CSR(t, p256, "Marie", "marie.example.org")}, sceau.Invalid, "does not allow DNS names"},
		{"bad DNS name", ca.Request{CA: "issuing", Profile: "server", CSR: sceautest.CSR(t, p256, "x", "bad_name..example")}, sceau.Invalid, "not a valid DNS name"},
		{"validity above profile", ca.Request{CA: "issuing", Profile: "server", CSR: good, Validity: 800 * 24 * time.Hour}, sceau.Invalid, "exceeds the profile's maximum"},
		{"lint error", ca.Request{CA: "issuing", Profile: "server", CSR: longOU}, sceau.Invalid, "e_subject_organizational_unit_name_max_length"},
	}
	if weakCSR != nil {
		cases = append(cases, struct {
			name string
			req  ca.Request
			kind sceau.Kind
			msg  string
		}{"RSA exponent 3", ca.Request{CA: "issuing", Profile: "server", CSR: weakCSR}, sceau.Invalid, "exponent 3"})
	}
	before := countRows(t, db, "certificates")
	events := countRows(t, db, "audit_events")
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := h.Authority.Prepare(ctx, operator, c.req)
			if err == nil {
				t.Fatal("accepted")
			}
			if sceau.KindOf(err) != c.kind {
				t.Errorf("kind %v, want %v (%v)", sceau.KindOf(err), c.kind, err)
			}
			if !strings.Contains(err.Error(), c.msg) {
				t.Errorf("error %q does not say %q", err, c.msg)
			}
		})
	}
	if n := countRows(t, db, "certificates"); n != before {
		t.Errorf("refused requests left %d certificate rows", n-before)
	}
	if n := countRows(t, db, "audit_events"); n != events {
		t.Errorf("refused requests left %d audit events", n-events)
	}
}

func TestKEY7_CAValidityAboveTenYearsRefused(t *testing.T) {
	specs := sceautest.Specs()
	specs[0].Validity = 11 * 365 * 24 * time.Hour
	db := sceautest.OpenSQLite(t)
	ks := keys.OpenSoftStore(t.TempDir())
	if err := ks.Init([]byte("test activation secret 0123456789")); err != nil {
		t.Fatal(err)
	}
	a := ca.New(db, audit.NewJournal(nil), ks, nil, ca.Options{URLs: ca.URLs{Base: "http://x"}})
	defer a.Close()
	err := a.Bootstrap(context.Background(), operator, specs)
	if err == nil || !strings.Contains(err.Error(), "KEY-7") {
		t.Fatalf("11-year root: %v, want a refusal citing KEY-7", err)
	}
	if n := countRows(t, db, "cas"); n != 0 {
		t.Errorf("%d CAs created", n)
	}
}

func TestKEY7_SubordinateNeverOutlivesItsParent(t *testing.T) {
	specs := sceautest.Specs()
	specs[0].Validity = 2 * 365 * 24 * time.Hour
	specs[1].Validity = 3 * 365 * 24 * time.Hour
	db := sceautest.OpenSQLite(t)
	ks := keys.OpenSoftStore(t.TempDir())
	if err := ks.Init([]byte("test activation secret 0123456789")); err != nil {
		t.Fatal(err)
	}
	a := ca.New(db, audit.NewJournal(nil), ks, nil, ca.Options{URLs: ca.URLs{Base: "http://x"}})
	defer a.Close()
	err := a.Bootstrap(context.Background(), operator, specs)
	if err == nil || !strings.Contains(err.Error(), "after its parent") {
		t.Fatalf("issuing CA outliving the root: %v", err)
	}
}

func TestKEY7_NoCertificateOutlivesItsIssuer(t *testing.T) {
	ctx := context.Background()
	clock := sceautest.NewClock(time.Now())
	h := sceautest.NewHierarchy(t, sceautest.OpenSQLite(t), sceautest.HierarchyOptions{Clock: clock})
	// 100 days before the issuing CA ends, a 397-day certificate is refused.
	c, _ := h.Authority.CA("issuing")
	clock.Advance(c.Cert.NotAfter.Sub(clock.Now()) - 100*24*time.Hour)
	key := sceautest.NewKey(t, keys.ECDSAP256)
	_, err := h.Authority.Prepare(ctx, operator, ca.Request{CA: "issuing", Profile: "server", CSR: sceautest.CSR(t, key, "late.example.org", "late.example.org")})
	if sceau.KindOf(err) != sceau.Invalid || !strings.Contains(err.Error(), "after its issuer") {
		t.Fatalf("certificate outliving its issuer: %v", err)
	}
	// A shorter one fits.
	if _, err := h.Authority.IssueCSR(ctx, operator, ca.Request{CA: "issuing", Profile: "server", Validity: 90 * 24 * time.Hour,
		CSR: sceautest.CSR(t, key, "late.example.org", "late.example.org")}); err != nil {
		t.Fatal(err)
	}
}

func TestCA2_GeneratedKeyDeliveredOnlyInPKCS12(t *testing.T) {
	ctx := context.Background()
	db := sceautest.OpenSQLite(t)
	h := sceautest.NewHierarchy(t, db, sceautest.HierarchyOptions{})
	req := ca.Request{CA: "issuing", Profile: "person", GenerateKey: keys.ECDSAP256,
		Subject: pkix.Name{CommonName: "Marie Curie", Country: []string{"FR"}}, Emails: []string{"marie@example.org"}}
	if _, err := h.Authority.IssueWithKey(ctx, operator, req, "short"); sceau.KindOf(err) != sceau.Invalid {
		t.Fatalf("short password: %v", err)
	}
	d, err := h.Authority.IssueWithKey(ctx, operator, req, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Password) < ca.MinPKCS12Password || len(d.PKCS12) == 0 {
		t.Fatalf("chosen password %d chars, pkcs12 %d bytes", len(d.Password), len(d.PKCS12))
	}
	// KEY-3: the private key is nowhere in the database.
	var n int
	if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM certificates WHERE serial = ? AND status = 'issued'`, d.Issued.Serial).Scan(&n); err != nil || n != 1 {
		t.Fatalf("issued row: %d %v", n, err)
	}
}

func TestKEY5_SigningRefusedAfterDeactivation(t *testing.T) {
	ctx := context.Background()
	h := sceautest.NewHierarchy(t, sceautest.OpenSQLite(t), sceautest.HierarchyOptions{})
	key := sceautest.NewKey(t, keys.ECDSAP256)
	p, err := h.Authority.Prepare(ctx, operator, ca.Request{CA: "issuing", Profile: "server", CSR: sceautest.CSR(t, key, "d.example.org", "d.example.org")})
	if err != nil {
		t.Fatal(err)
	}
	h.Keys.Deactivate()
	_, err = h.Authority.Issue(ctx, p)
	if !errors.Is(err, keys.ErrNotActivated) || !strings.Contains(err.Error(), `"issuing" is not activated`) {
		t.Fatalf("issue after deactivation: %v, want keys.ErrNotActivated naming the CA", err)
	}
	// The reservation stays: the serial is treated as issued.
	rec, err := h.Authority.Certificate(ctx, p.Serial())
	if err != nil || rec.Status != "reserved" {
		t.Fatalf("reservation after failed signature: %+v %v", rec, err)
	}
}

// weakExponentCSR makes a CSR whose RSA key has public exponent 3, or nil
// if crypto/rsa refuses to sign with such a key.
func weakExponentCSR(t *testing.T) []byte {
	one := big.NewInt(1)
	for i := 0; i < 50; i++ {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			t.Fatal(err)
		}
		phi := new(big.Int).Mul(new(big.Int).Sub(k.Primes[0], one), new(big.Int).Sub(k.Primes[1], one))
		d := new(big.Int).ModInverse(big.NewInt(3), phi)
		if d == nil {
			continue
		}
		weak := &rsa.PrivateKey{PublicKey: rsa.PublicKey{N: k.N, E: 3}, D: d, Primes: k.Primes}
		weak.Precompute()
		der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{
			Subject: pkix.Name{CommonName: "weak.example.org"}, DNSNames: []string{"weak.example.org"}}, weak)
		if err != nil {
			t.Logf("crypto/rsa will not sign with e=3 (%v): case skipped", err)
			return nil
		}
		return der
	}
	return nil
}

func TestCA3_OCSPResponderRenewedBeforeExpiry(t *testing.T) {
	ctx := context.Background()
	clock := sceautest.NewClock(time.Now())
	db := sceautest.OpenSQLite(t)
	h := sceautest.NewHierarchy(t, db, sceautest.HierarchyOptions{Clock: clock})
	c, _ := h.Authority.CA("issuing")
	old := c.OCSPCert
	clock.Advance(old.NotAfter.Sub(clock.Now()) - 10*24*time.Hour)
	if err := h.Authority.RenewOCSPResponders(ctx); err != nil {
		t.Fatal(err)
	}
	c, _ = h.Authority.CA("issuing")
	if c.OCSPCert.SerialNumber.Cmp(old.SerialNumber) == 0 || !c.OCSPCert.NotAfter.After(old.NotAfter) {
		t.Fatalf("responder not renewed: old ends %s, new ends %s", old.NotAfter, c.OCSPCert.NotAfter)
	}
	if err := c.OCSPCert.CheckSignatureFrom(c.Cert); err != nil {
		t.Fatal(err)
	}
	iss, _ := h.Revocation.Issuer("issuing")
	if iss.OCSPCert != c.OCSPCert {
		t.Error("revocation still signs with the old responder")
	}
	var n int
	if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM audit_events WHERE action = 'ca.ocsp_responder_renewed' AND object = 'ca:issuing'`).Scan(&n); err != nil || n != 1 {
		t.Errorf("renewal events: %d %v", n, err)
	}
}
