package ca_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/sceau/sceau/internal/ca"
	"github.com/sceau/sceau/internal/keys"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/sceautest"
)

// TestCA2_BareWildcardAndIPAddressAreRefusedAsDNSNames (issue 11, defect
// 4): a dNSName of "*", "*" over one label, or one that reads as an IP
// address is refused with an Invalid error naming it; a wildcard over a
// registered domain and ordinary names still go through.
func TestCA2_BareWildcardAndIPAddressAreRefusedAsDNSNames(t *testing.T) {
	ctx := context.Background()
	db := sceautest.OpenSQLite(t)
	h := sceautest.NewHierarchy(t, db, sceautest.HierarchyOptions{})
	key := sceautest.NewKey(t, keys.ECDSAP256)
	for _, name := range []string{"*", "*.", "*.com", "127.0.0.1", "10.0.0.1", "127.1", "host.123", "a.*.example.org",
		"*foo.example.org", "::1"} {
		t.Run(name, func(t *testing.T) {
			before := countRows(t, db, "certificates")
			_, err := h.Authority.Prepare(ctx, operator, ca.Request{CA: "issuing", Profile: "server",
				CSR: sceautest.CSR(t, key, "x.example.org", "x.example.org", name)})
			if err == nil {
				t.Fatalf("a CSR with DNS:%s was accepted", name)
			}
			if sceau.KindOf(err) != sceau.Invalid {
				t.Errorf("kind %v, want Invalid (%v)", sceau.KindOf(err), err)
			}
			if want := `dNSName "` + name + `"`; !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not name %s", err, want)
			}
			if n := countRows(t, db, "certificates"); n != before {
				t.Errorf("the refusal left %d certificate rows", n-before)
			}
		})
	}
	for _, name := range []string{"*.example.org", "www.example.org", "a-b.example.org", "xn--bcher-kva.example"} {
		t.Run("accepted "+name, func(t *testing.T) {
			iss, err := h.Authority.IssueCSR(ctx, operator, ca.Request{CA: "issuing", Profile: "server",
				CSR: sceautest.CSR(t, key, "x.example.org", name)})
			if err != nil {
				t.Fatalf("DNS:%s refused: %v", name, err)
			}
			if got := iss.Cert.DNSNames; len(got) != 1 || got[0] != name {
				t.Errorf("dNSNames %v, want [%s]", got, name)
			}
		})
	}
	// An email address's domain is a host name too, never a wildcard.
	_, err := h.Authority.IssueWithKey(ctx, operator, ca.Request{CA: "issuing", Profile: "person", GenerateKey: keys.ECDSAP256,
		Emails: []string{"marie@*"}}, "a long enough password")
	if sceau.KindOf(err) != sceau.Invalid {
		t.Errorf("email marie@*: %v, want Invalid", err)
	}
}

// TestCA2_ValidityShorterThanTheMinimumIsRefused (issue 11, defect 4): a
// lifetime of 1ns gave a certificate whose notBefore equals its notAfter;
// below time.Hour the request is refused, naming the value.
func TestCA2_ValidityShorterThanTheMinimumIsRefused(t *testing.T) {
	ctx := context.Background()
	db := sceautest.OpenSQLite(t)
	h := sceautest.NewHierarchy(t, db, sceautest.HierarchyOptions{})
	key := sceautest.NewKey(t, keys.ECDSAP256)
	csr := sceautest.CSR(t, key, "x.example.org", "x.example.org")
	for _, v := range []time.Duration{time.Nanosecond, time.Second, 59 * time.Minute, -time.Hour} {
		t.Run(v.String(), func(t *testing.T) {
			_, err := h.Authority.Prepare(ctx, operator, ca.Request{CA: "issuing", Profile: "server", CSR: csr, Validity: v})
			if err == nil {
				t.Fatalf("validity %s accepted", v)
			}
			if sceau.KindOf(err) != sceau.Invalid || !strings.Contains(err.Error(), v.String()) || !strings.Contains(err.Error(), "minimum") {
				t.Errorf("error %v (kind %v), want Invalid naming %s and the minimum", err, sceau.KindOf(err), v)
			}
		})
	}
	iss, err := h.Authority.IssueCSR(ctx, operator, ca.Request{CA: "issuing", Profile: "server", CSR: csr, Validity: time.Hour})
	if err != nil {
		t.Fatalf("validity %s (the minimum) refused: %v", time.Hour, err)
	}
	// RFC 5280 §4.1.2.5 counts both ends: an hour is notBefore … notBefore + 1h − 1s.
	if d := iss.Cert.NotAfter.Sub(iss.Cert.NotBefore) + time.Second; d != time.Hour {
		t.Errorf("notAfter - notBefore + 1s = %s, want %s", d, time.Hour)
	}
}
