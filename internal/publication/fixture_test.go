package publication_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"math/big"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/sceau/sceau/internal/access"
	"github.com/sceau/sceau/internal/audit"
	"github.com/sceau/sceau/internal/cms"
	"github.com/sceau/sceau/internal/publication"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/sceautest"
	"github.com/sceau/sceau/internal/store"
)

var (
	admin1 = access.Principal{Account: "admin1", Roles: []access.Role{access.ApplicationAdministrator}}
	admin2 = access.Principal{Account: "admin2", Roles: []access.Role{access.ApplicationAdministrator}}
	so1    = access.Principal{Account: "so1", Roles: []access.Role{access.SecurityOfficer}}
	reg1   = access.Principal{Account: "reg1", Roles: []access.Role{access.RegistrationOfficer}}
)

// fixture is a publication service, its site over a test hierarchy, and
// the dual control of an installation with two administrators, a Security
// Officer and a Registration Officer.
type fixture struct {
	t     testing.TB
	db    *store.DB
	clock *sceautest.Clock
	acc   *access.Service
	svc   *publication.Service
	site  *publication.Site
	src   *testSources
	pki   *testPKI
}

func newFixture(t testing.TB, db *store.DB) *fixture {
	t.Helper()
	ctx := context.Background()
	clock := sceautest.NewClock(time.Date(2027, 1, 4, 9, 0, 0, 0, time.UTC))
	journal := audit.NewJournal(clock)
	acc := access.New(db, journal, access.Options{Clock: clock, KDF: access.KDFParams{Memory: 1024, Time: 1, Threads: 1}})
	var people []access.Person
	for _, p := range []access.Principal{admin1, admin2, so1, reg1} {
		people = append(people, access.Person{Name: p.Account, FullName: "Person " + p.Account, Roles: p.Roles})
	}
	if _, err := acc.Bootstrap(ctx, sceau.System("test"), people); err != nil {
		t.Fatal(err)
	}
	svc := publication.NewService(db, journal, publication.Options{Clock: clock, MaxSize: 64 << 10})
	if err := acc.RegisterPublication(svc); err != nil {
		t.Fatal(err)
	}
	pki := newTestPKI(t, time.Now()) // openssl checks validity against the real time
	src := &testSources{pki: pki, crl: &publication.CRL{Number: 7, ThisUpdate: clock.Now().Add(-time.Hour),
		NextUpdate: clock.Now().Add(23 * time.Hour), Entries: 0, DER: []byte("a CRL stand-in")}}
	site := publication.NewSite(svc, src, pki, publication.SiteOptions{Publisher: "Sceau <Test> TSP", Clock: clock,
		About: map[string]string{"fr": "Un prestataire de test.", "en": "A test provider."}})
	f := &fixture{t: t, db: db, clock: clock, acc: acc, svc: svc, site: site, src: src, pki: pki}
	f.refresh()
	return f
}

func (f *fixture) refresh() {
	f.t.Helper()
	if err := f.site.Refresh(context.Background()); err != nil {
		f.t.Fatalf("Refresh: %v", err)
	}
}

// publish stores content and has the version published by admin1 with
// the approvals of so1 and admin2.
func (f *fixture) publish(m publication.Meta, content []byte) *access.Request {
	f.t.Helper()
	req := f.request(m, content)
	f.approve(req.ID, so1, admin2)
	return req
}

func (f *fixture) request(m publication.Meta, content []byte) *access.Request {
	f.t.Helper()
	ctx := context.Background()
	sum, err := f.svc.Store(ctx, admin1.Actor(access.ApplicationAdministrator), m.MediaType, content)
	if err != nil {
		f.t.Fatalf("Store: %v", err)
	}
	ch, err := publication.AddChange(m, sum)
	if err != nil {
		f.t.Fatalf("AddChange: %v", err)
	}
	req, err := f.acc.RequestPublicationChange(ctx, admin1, ch.Document, ch)
	if err != nil {
		f.t.Fatalf("request: %v", err)
	}
	return req
}

func (f *fixture) approve(id string, by ...access.Principal) *access.Request {
	f.t.Helper()
	var req *access.Request
	for _, p := range by {
		var err error
		if req, err = f.acc.Approvals().Approve(context.Background(), p, id); err != nil {
			f.t.Fatalf("%s approves %s: %v", p.Account, id, err)
		}
	}
	return req
}

// get serves one request from the site.
func (f *fixture) get(path string, header ...string) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	f.site.Handler().ServeHTTP(rec, req)
	return rec
}

// events returns the journal's actions, in order, with their details.
func (f *fixture) events() [][2]string {
	f.t.Helper()
	rows, err := f.db.QueryContext(context.Background(), `SELECT action, details FROM audit_events ORDER BY seq`)
	if err != nil {
		f.t.Fatal(err)
	}
	defer rows.Close()
	var out [][2]string
	for rows.Next() {
		var a, d string
		if err := rows.Scan(&a, &d); err != nil {
			f.t.Fatal(err)
		}
		out = append(out, [2]string{a, d})
	}
	return out
}

func cpMeta(version, lang string) publication.Meta {
	return publication.Meta{Kind: publication.CP, Ident: "1.2.250.1.999.1.1", Version: version, Lang: lang,
		Title: "Politique de certification", EffectiveAt: time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC), MediaType: "text/plain"}
}

// testSources is one root CA with a CRL whose dates the test sets.
type testSources struct {
	pki *testPKI
	crl *publication.CRL
}

func (s *testSources) PublishedCAs() []publication.CA {
	return []publication.CA{{ID: "root", Cert: s.pki.root, Status: "active", Policies: []string{"1.2.250.1.999.1.1"},
		OCSPURL: "http://127.0.0.1/ocsp", CRLURL: "http://127.0.0.1/crl/root.crl"}}
}

func (s *testSources) CurrentCRL(context.Context, string) (*publication.CRL, error) {
	return s.crl, nil
}

// testPKI is a root and a publication key certified by it, with
// documentSigning, signing manifests as the node does.
type testPKI struct {
	root    *x509.Certificate
	rootKey crypto.Signer
	cert    *x509.Certificate
	key     crypto.Signer
	now     time.Time
	fail    bool // SignManifest answers Unavailable
}

func newTestPKI(t testing.TB, now time.Time) *testPKI {
	t.Helper()
	rk, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	rt := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Test Root"}, NotBefore: now.Add(-time.Hour),
		NotAfter: now.Add(10 * 365 * 24 * time.Hour), IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}
	rder, err := x509.CreateCertificate(rand.Reader, rt, rt, rk.Public(), rk)
	if err != nil {
		t.Fatal(err)
	}
	root, _ := x509.ParseCertificate(rder)
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ext, _ := asn1.Marshal([]asn1.ObjectIdentifier{{1, 3, 6, 1, 5, 5, 7, 3, 36}})
	lt := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "Test publication"}, NotBefore: now.Add(-time.Hour),
		NotAfter: now.Add(365 * 24 * time.Hour), KeyUsage: x509.KeyUsageDigitalSignature,
		ExtraExtensions: []pkix.Extension{{Id: asn1.ObjectIdentifier{2, 5, 29, 37}, Value: ext}}}
	lder, err := x509.CreateCertificate(rand.Reader, lt, root, k.Public(), rk)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(lder)
	return &testPKI{root: root, rootKey: rk, cert: leaf, key: k, now: now}
}

func (p *testPKI) SignManifest(body []byte) ([]byte, error) {
	if p.fail {
		return nil, sceau.Errorf(sceau.Unavailable, "test", "the publication key is away")
	}
	return cms.SignDetached(body, p.key, p.cert, []*x509.Certificate{p.root}, p.now)
}

func (p *testPKI) roots() *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AddCert(p.root)
	return pool
}
