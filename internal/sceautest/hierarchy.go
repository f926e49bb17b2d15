package sceautest

import (
	"context"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/sceau/sceau/internal/audit"
	"github.com/sceau/sceau/internal/ca"
	"github.com/sceau/sceau/internal/keys"
	"github.com/sceau/sceau/internal/revocation"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/store"
)

// Clock is a settable clock for tests.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a clock stopped at t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now implements sceau.Clock.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// Hierarchy is a throwaway installation: a P-384 root and a P-256 issuing
// CA with a "server" and a "person" profile, on db.
type Hierarchy struct {
	DB         *store.DB
	Keys       *keys.SoftStore
	Journal    *audit.Journal
	Revocation *revocation.Service
	Authority  *ca.Authority
	URLs       ca.URLs
	Specs      []ca.Spec
}

// TestPolicyOID is the CP OID of the test profiles.
var TestPolicyOID = asn1.ObjectIdentifier{1, 2, 250, 1, 999, 1, 1}

// Specs returns the root + issuing declaration used by NewHierarchy.
func Specs() []ca.Spec {
	policies := []ca.Policy{{OID: TestPolicyOID, CPSURI: "http://127.0.0.1:8080/cps"}}
	return []ca.Spec{
		{ID: "root", Subject: pkix.Name{CommonName: "Test Root CA", Organization: []string{"Sceau Test"}, Country: []string{"FR"}},
			KeyType: keys.ECDSAP384, Validity: 10 * 365 * 24 * time.Hour, PathLen: -1,
			CRL: revocation.CRLSchedule{Validity: 7 * 24 * time.Hour, Refresh: 24 * time.Hour}},
		{ID: "issuing", Parent: "root", Subject: pkix.Name{CommonName: "Test Issuing CA", Organization: []string{"Sceau Test"}, Country: []string{"FR"}},
			KeyType: keys.ECDSAP256, Validity: 5 * 365 * 24 * time.Hour, PathLen: 0, Policies: policies,
			CRL: revocation.CRLSchedule{Validity: 24 * time.Hour, Refresh: 12 * time.Hour},
			Profiles: []ca.Profile{
				{Name: "server", KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
					Policies: policies, KeyTypes: []keys.Type{keys.ECDSAP256, keys.ECDSAP384, keys.RSA2048, keys.RSA3072},
					Validity: 397 * 24 * time.Hour, MaxValidity: 397 * 24 * time.Hour, AllowDNS: true, AllowIP: true, RequireSAN: true,
					Lints: []string{"rfc5280", "etsi"}},
				{Name: "person", KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
					ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth, x509.ExtKeyUsageEmailProtection},
					Policies:    policies, KeyTypes: []keys.Type{keys.ECDSAP256, keys.RSA2048},
					Validity: 3 * 365 * 24 * time.Hour, MaxValidity: 3 * 365 * 24 * time.Hour, AllowEmail: true,
					Lints: []string{"rfc5280", "etsi"}},
			}},
	}
}

// HierarchyOptions tune NewHierarchy; the zero value is fine.
type HierarchyOptions struct {
	Clock     sceau.Clock
	Specs     []ca.Spec // default Specs()
	BaseURL   string    // default http://127.0.0.1:8080
	AfterSign func(serial string)
	// ClockGuard goes to ca.Options and revocation.Options (SYS-4).
	ClockGuard func() error
}

// NewHierarchy creates the CAs on db with a keystore in a temp directory
// and issues their first CRLs. Everything closes with the test.
func NewHierarchy(t testing.TB, db *store.DB, o HierarchyOptions) *Hierarchy {
	t.Helper()
	ctx := context.Background()
	if o.Specs == nil {
		o.Specs = Specs()
	}
	if o.BaseURL == "" {
		o.BaseURL = "http://127.0.0.1:8080"
	}
	h := &Hierarchy{DB: db, Journal: audit.NewJournal(o.Clock), URLs: ca.URLs{Base: o.BaseURL}, Specs: o.Specs}
	h.Keys = keys.OpenSoftStore(filepath.Join(t.TempDir(), "keys"))
	if err := h.Keys.Init([]byte("test activation secret, not for production")); err != nil {
		t.Fatal(err)
	}
	h.Revocation = revocation.New(db, h.Journal, revocation.Options{Clock: o.Clock, ClockGuard: o.ClockGuard})
	h.Authority = ca.New(db, h.Journal, h.Keys, h.Revocation, ca.Options{Clock: o.Clock, URLs: h.URLs, AfterSign: o.AfterSign, ClockGuard: o.ClockGuard})
	t.Cleanup(h.Authority.Close)
	if err := h.Authority.Bootstrap(ctx, sceau.System("test"), o.Specs); err != nil {
		t.Fatalf("bootstrap: %v", err)
	}
	for _, s := range o.Specs {
		if _, err := h.Revocation.IssueCRL(ctx, sceau.System("test"), s.ID); err != nil {
			t.Fatalf("first CRL of %s: %v", s.ID, err)
		}
	}
	return h
}
