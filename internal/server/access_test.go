package server_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/sceau/sceau/internal/access"
	"github.com/sceau/sceau/internal/acme"
	"github.com/sceau/sceau/internal/audit"
	"github.com/sceau/sceau/internal/ca"
	"github.com/sceau/sceau/internal/est"
	"github.com/sceau/sceau/internal/keys"
	"github.com/sceau/sceau/internal/registration"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/sceautest"
	"github.com/sceau/sceau/internal/sceautest/ratest"
	"github.com/sceau/sceau/internal/server"
	"github.com/sceau/sceau/internal/store"
)

// clientCert makes a client certificate as a verified handshake carries it.
func clientCert(t testing.TB, cn string) *x509.Certificate {
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
	c, _ := x509.ParseCertificate(der)
	return c
}

func verified(c *x509.Certificate) *tls.ConnectionState {
	return &tls.ConnectionState{Version: tls.VersionTLS13, HandshakeComplete: true,
		PeerCertificates: []*x509.Certificate{c}, VerifiedChains: [][]*x509.Certificate{{c}}}
}

const testPassword = "tulip-anchor-violet-42"

// accessFixture is a hierarchy with an admin handler whose people each
// hold one role and authenticate by a client certificate bound to them.
type accessFixture struct {
	*fixture
	db    *store.DB
	clock *sceautest.Clock
	acc   *access.Service
	certs map[string]*x509.Certificate // by account; "terminal" is bound to nobody
	creds map[string]access.Credentials
	seq   int
	reg   *ratest.Registration // CA-4 (registration_test.go)
	acme  *acme.Service        // CA-4 (acme_test.go)
	est   *est.Service         // CA-4 (est_test.go)
}

// The people of the fixture: one per role (the role is the account name),
// a person without role, and the officer who makes the requests voted on.
var matrixPeople = []struct {
	name  string
	roles []access.Role
}{
	{"so", []access.Role{"security-officer"}},
	{"sa", []access.Role{"system-administrator"}},
	{"sop", []access.Role{"system-operator"}},
	{"au", []access.Role{"system-auditor"}},
	{"aa", []access.Role{"application-administrator"}},
	{"ra", []access.Role{"registration-officer"}},
	{"ksh", []access.Role{"key-share-holder"}},
	{"none", nil},
	{"so0", []access.Role{"security-officer"}},
	{"ksh0", []access.Role{"key-share-holder"}},
}

func newAccessFixture(t *testing.T, db *store.DB) *accessFixture {
	t.Helper()
	clock := sceautest.NewClock(time.Now().UTC().Truncate(time.Second))
	h := sceautest.NewHierarchy(t, db, sceautest.HierarchyOptions{Clock: clock})
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	acc := access.New(db, h.Journal, access.Options{Clock: clock, KDF: access.KDFParams{Memory: 1024, Time: 1, Threads: 1},
		AdminCA: testAdminCA(t)})
	// INC-2's procedure spans the node's packages (internal/node and
	// cmd/sceau test it); here only its request is decided.
	if err := acc.RegisterCACompromise(access.CACompromise{
		Check: func(ctx context.Context, q store.Querier, caID string) error {
			return h.Authority.CheckTerminable(ctx, q, caID)
		},
		Execute: func(context.Context, *store.Tx, sceau.Actor, string, string, string) (string, error) {
			return "", sceau.Errorf(sceau.Unavailable, "test", "not carried out by this fixture")
		},
	}); err != nil {
		t.Fatal(err)
	}
	if err := acc.RegisterSelectionExecutor(h.Revocation); err != nil {
		t.Fatal(err)
	}
	if err := acc.RegisterCAExecutors(h.Revocation, h.Authority); err != nil {
		t.Fatal(err)
	}
	// The configuration of this fixture declares one CA more, "extra".
	if err := acc.RegisterCACreation(func(ctx context.Context, q store.Querier, caID string) error {
		if caID != "extra" {
			return sceau.Errorf(sceau.NotFound, "test", "CA %q is not declared", caID)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	f := &accessFixture{db: db, clock: clock, acc: acc, certs: map[string]*x509.Certificate{"terminal": clientCert(t, "terminal")},
		creds: map[string]access.Credentials{}}
	var people []access.Person
	for _, p := range matrixPeople {
		f.certs[p.name] = clientCert(t, p.name)
		people = append(people, access.Person{Name: p.name, Roles: p.roles, Password: testPassword, Certificate: f.certs[p.name]})
	}
	// A person who logs in with password and TOTP only.
	people = append(people, access.Person{Name: "walker", Roles: []access.Role{"registration-officer"}, Password: testPassword})
	creds, err := acc.Bootstrap(context.Background(), sceau.System("test"), people)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range creds {
		f.creds[c.Account] = c
	}
	f.reg = ratest.NewRegistration(t, h, clock, registration.Options{})
	f.acme = acme.New(db, h.Journal, h.Authority, h.Revocation, f.reg.Service, acme.Options{Clock: clock})
	f.est = est.New(db, h.Journal, h.Authority, f.reg.Service, est.Options{Clock: clock})
	adm := &server.Admin{Authority: h.Authority, Revocation: h.Revocation, Metrics: server.NewMetrics(), Log: log, MaxBodyBytes: 64 << 10,
		Access: acc, Registration: f.reg.Service, EnrollURL: "https://enroll.test", ACME: f.acme, EST: f.est}
	pub := &server.Public{Authority: h.Authority, Revocation: h.Revocation, Responder: h.Revocation.NewResponder(log), Log: log}
	f.fixture = &fixture{h: h, admin: adm.Handler(), public: pub.Handler()}
	return f
}

// as sends a request as account's certificate, with token when not empty.
func (f *accessFixture) as(t *testing.T, account, token, method, path, body string) *httptest.ResponseRecorder {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	r := httptest.NewRequest(method, path, rd)
	r.TLS = verified(f.certs[account])
	if token != "" {
		r.Header.Set("Authorization", "Bearer "+token)
	}
	w := httptest.NewRecorder()
	f.admin.ServeHTTP(w, r)
	return w
}

func (f *accessFixture) events(t *testing.T, actions ...string) []audit.Record {
	t.Helper()
	recs, err := audit.Read(context.Background(), f.db, 0, 1000000)
	if err != nil {
		t.Fatal(err)
	}
	var out []audit.Record
	for _, r := range recs {
		for _, a := range actions {
			if r.Action == a {
				out = append(out, r)
			}
		}
	}
	return out
}

// head is the journal's last sequence number.
func (f *accessFixture) head(t *testing.T) int64 {
	t.Helper()
	var seq int64
	if err := f.db.QueryRowContext(context.Background(), `SELECT COALESCE(MAX(seq), 0) FROM audit_events`).Scan(&seq); err != nil {
		t.Fatal(err)
	}
	return seq
}

// journaledAs says whether an event after seq names account with a role.
func (f *accessFixture) journaledAs(t *testing.T, seq int64, account string) bool {
	t.Helper()
	recs, err := audit.Read(context.Background(), f.db, seq, 1000)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if r.Actor == account && r.Role != "" {
			return true
		}
	}
	return false
}

// issueDirect issues a certificate without the API, for revocation tests.
func (f *accessFixture) issueDirect(t *testing.T) string {
	t.Helper()
	csr := sceautest.CSR(t, sceautest.NewKey(t, keys.ECDSAP256), "www.example.org", "www.example.org")
	p, err := f.h.Authority.Prepare(context.Background(), sceau.System("test"), ca.Request{CA: "issuing", Profile: "server", CSR: csr})
	if err != nil {
		t.Fatal(err)
	}
	iss, err := f.h.Authority.Issue(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	return iss.Serial
}

// testAdminCA is an admin CA with its key in memory.
func testAdminCA(t testing.TB) *access.AdminCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Test administration CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().AddDate(5, 0, 0), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	return &access.AdminCA{Cert: c, Key: key}
}

// principal is account's principal, authenticated by its certificate.
func (f *accessFixture) principal(t *testing.T, account string) access.Principal {
	t.Helper()
	p, err := f.acc.Authenticate(context.Background(), f.certs[account], "")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// freshAccount creates a new account without role, by so0.
func (f *accessFixture) freshAccount(t *testing.T) string {
	t.Helper()
	f.seq++
	name := fmt.Sprintf("fresh%d", f.seq)
	if _, err := f.acc.CreateAccount(context.Background(), f.principal(t, "so0"), name, "Fresh Person"); err != nil {
		t.Fatal(err)
	}
	return name
}

// personalCSR is a CSR of a new key, as 'sceau account cert issue' makes it.
func personalCSR(t testing.TB) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "x"}}, key)
	if err != nil {
		t.Fatal(err)
	}
	return csrPEM(der)
}

// personalCert issues a personal certificate for account through the
// service, by so0, and returns it parsed.
func (f *accessFixture) personalCert(t *testing.T, account string) *x509.Certificate {
	t.Helper()
	blk, _ := pem.Decode([]byte(personalCSR(t)))
	ic, err := f.acc.IssueCertificate(context.Background(), f.principal(t, "so0"), account, blk.Bytes, 0)
	if err != nil {
		t.Fatal(err)
	}
	cb, _ := pem.Decode([]byte(ic.Certificate))
	c, err := x509.ParseCertificate(cb.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// grantRequest makes a pending role grant requested by so0.
func (f *accessFixture) grantRequest(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	so0, err := f.acc.Authenticate(ctx, f.certs["so0"], "")
	if err != nil {
		t.Fatal(err)
	}
	f.seq++
	name := fmt.Sprintf("cand%d", f.seq)
	if _, err := f.acc.CreateAccount(ctx, so0, name, "Candidate"); err != nil {
		t.Fatal(err)
	}
	r, err := f.acc.RequestRoleGrant(ctx, so0, name, "key-share-holder")
	if err != nil {
		t.Fatal(err)
	}
	return r.ID
}

// endpoint is one admin API operation with a valid request, and who may
// call it according to the policy (written here, independently of the
// access package's table).
type endpoint struct {
	route  string // as registered: "METHOD /pattern"
	method string
	path   func(t *testing.T, f *accessFixture) string
	body   func(t *testing.T, f *accessFixture) string
	// allowed: role names, "person" (anyone authenticated as a person) or
	// "terminal" (a terminal alone).
	allowed []string
	// ok is the status of an allowed call. Key custody is not configured
	// in this fixture, so its allowed calls answer 503 past the decision;
	// logout and password change answer 400 to a person authenticated by
	// certificate rather than by a session.
	ok int
}

func fixed(s string) func(*testing.T, *accessFixture) string {
	return func(*testing.T, *accessFixture) string { return s }
}

var (
	operatorRoles = []string{"so", "sa", "sop", "au", "aa", "ra"}
	everyRole     = []string{"so", "sa", "sop", "au", "aa", "ra", "ksh"}
	everyone      = []string{"terminal", "person"}
)

func matrixEndpoints() []endpoint {
	csrBody := func(t *testing.T, f *accessFixture) string {
		csr := csrPEM(sceautest.CSR(t, sceautest.NewKey(t, keys.ECDSAP256), "www.example.org", "www.example.org"))
		return jsonBody(t, server.IssueRequest{CA: "issuing", Profile: "server", CSR: csr})
	}
	seq := 0
	return append([]endpoint{
		{route: "GET /api/v1/cas", method: "GET", path: fixed("/api/v1/cas"), allowed: operatorRoles, ok: 200},
		{route: "GET /api/v1/cas/{id}", method: "GET", path: fixed("/api/v1/cas/issuing"), allowed: operatorRoles, ok: 200},
		{route: "POST /api/v1/cas/{id}/crl", method: "POST", path: fixed("/api/v1/cas/issuing/crl"), body: fixed("{}"),
			allowed: []string{"sop", "ra"}, ok: 201},
		{route: "GET /api/v1/cas/{id}/activation", method: "GET", path: fixed("/api/v1/cas/issuing/activation"), allowed: everyRole, ok: 503},
		{route: "POST /api/v1/cas/{id}/activations", method: "POST", path: fixed("/api/v1/cas/issuing/activations"), body: fixed("{}"),
			allowed: everyone, ok: 503},
		{route: "POST /api/v1/cas/{id}/activations/{aid}/shares", method: "POST", path: fixed("/api/v1/cas/issuing/activations/a1/shares"),
			body: fixed(`{"holder":"ksh","share_file":{},"pin":"123456"}`), allowed: everyone, ok: 503},
		{route: "POST /api/v1/cas/{id}/deactivate", method: "POST", path: fixed("/api/v1/cas/issuing/deactivate"), body: fixed("{}"),
			allowed: []string{"so", "sa", "sop", "aa", "ra", "ksh"}, ok: 503},
		// KEY-4, KEY-6 (keybackup.go): the fixture has no backup service, so allowed callers get 503.
		{route: "GET /api/v1/cas/{id}/backups", method: "GET", path: fixed("/api/v1/cas/issuing/backups"), allowed: everyRole, ok: 503},
		{route: "POST /api/v1/cas/{id}/backups", method: "POST", path: fixed("/api/v1/cas/issuing/backups"),
			body: fixed(`{"holders":["ksh0","so0"],"threshold":2}`), allowed: []string{"sa", "sop"}, ok: 503},
		{route: "POST /api/v1/cas/{id}/backups/{aid}", method: "POST", path: fixed("/api/v1/cas/issuing/backups/a1"),
			body: fixed(`{"pins":{}}`), allowed: []string{"sa", "sop"}, ok: 503},
		{route: "POST /api/v1/cas/{id}/imports", method: "POST", path: fixed("/api/v1/cas/issuing/imports"),
			body: fixed(`{"backup":"backup-issuing-1"}`), allowed: []string{"sa"}, ok: 503},
		{route: "POST /api/v1/cas/{id}/imports/{aid}", method: "POST", path: fixed("/api/v1/cas/issuing/imports/a1"),
			body: fixed(`{"shares":[]}`), allowed: []string{"sa"}, ok: 503},
		{route: "POST /api/v1/cas/{id}/key-destruction", method: "POST", path: fixed("/api/v1/cas/issuing/key-destruction"),
			body: fixed("{}"), allowed: []string{"so"}, ok: 503},
		{route: "POST /api/v1/certificates", method: "POST", path: fixed("/api/v1/certificates"), body: csrBody, allowed: []string{"ra"}, ok: 201},
		{route: "POST /api/v1/certificates/pkcs12", method: "POST", path: fixed("/api/v1/certificates/pkcs12"),
			body:    fixed(`{"ca":"issuing","profile":"person","key_type":"ecdsa-p256","subject":{"common_name":"Marie Curie"},"emails":["m@example.org"]}`),
			allowed: []string{"ra"}, ok: 201},
		{route: "GET /api/v1/certificates", method: "GET", path: fixed("/api/v1/certificates"), allowed: []string{"ra", "au", "so"}, ok: 200},
		{route: "GET /api/v1/certificates/{serial}", method: "GET",
			path:    func(t *testing.T, f *accessFixture) string { return "/api/v1/certificates/" + f.issueDirect(t) },
			allowed: []string{"ra", "au", "so"}, ok: 200},
		{route: "POST /api/v1/certificates/{serial}/revoke", method: "POST",
			path: func(t *testing.T, f *accessFixture) string {
				return "/api/v1/certificates/" + f.issueDirect(t) + "/revoke"
			},
			body: fixed(`{"reason":"superseded"}`), allowed: []string{"ra"}, ok: 200},
		{route: "GET /metrics", method: "GET", path: fixed("/metrics"), allowed: []string{"so", "sa", "sop", "au"}, ok: 200},

		{route: "POST /api/v1/login", method: "POST", path: fixed("/api/v1/login"),
			body: func(t *testing.T, f *accessFixture) string {
				f.clock.Advance(30 * time.Second) // a new TOTP step: no replay
				code, _ := access.TOTPCode(f.creds["walker"].TOTP.Secret, f.clock.Now())
				return jsonBody(t, server.LoginRequest{Account: "walker", Password: testPassword, TOTP: code})
			}, allowed: everyone, ok: 201},
		{route: "POST /api/v1/logout", method: "POST", path: fixed("/api/v1/logout"), body: fixed("{}"), allowed: []string{"person"}, ok: 400},
		{route: "GET /api/v1/whoami", method: "GET", path: fixed("/api/v1/whoami"), allowed: everyone, ok: 200},
		{route: "POST /api/v1/password", method: "POST", path: fixed("/api/v1/password"),
			body: fixed(`{"current":"` + testPassword + `","new":"another-fine-passphrase-9"}`), allowed: []string{"person"}, ok: 400},
		{route: "GET /api/v1/accounts", method: "GET", path: fixed("/api/v1/accounts"), allowed: []string{"so", "au"}, ok: 200},
		{route: "POST /api/v1/accounts", method: "POST", path: fixed("/api/v1/accounts"),
			body: func(t *testing.T, f *accessFixture) string {
				seq++
				return fmt.Sprintf(`{"name":"new%d","full_name":"New Person %d"}`, seq, seq)
			}, allowed: []string{"so"}, ok: 201},
		{route: "GET /api/v1/accounts/{name}", method: "GET", path: fixed("/api/v1/accounts/so0"), allowed: []string{"so", "au"}, ok: 200},
		{route: "POST /api/v1/accounts/{name}/roles", method: "POST", path: fixed("/api/v1/accounts/none/roles"),
			body: fixed(`{"role":"key-share-holder"}`), allowed: []string{"so"}, ok: 202},
		{route: "DELETE /api/v1/accounts/{name}/roles/{role}", method: "DELETE", path: fixed("/api/v1/accounts/ksh0/roles/key-share-holder"),
			allowed: []string{"so"}, ok: 202},
		{route: "GET /api/v1/approvals", method: "GET", path: fixed("/api/v1/approvals"), allowed: everyRole, ok: 200},
		{route: "GET /api/v1/approvals/{id}", method: "GET",
			path: func(t *testing.T, f *accessFixture) string { return "/api/v1/approvals/" + f.grantRequest(t) }, allowed: everyRole, ok: 200},
		// Votes on a role grant requested by so0: Security Officers and Auditors.
		{route: "POST /api/v1/approvals/{id}/approve", method: "POST",
			path: func(t *testing.T, f *accessFixture) string {
				return "/api/v1/approvals/" + f.grantRequest(t) + "/approve"
			},
			body:    fixed("{}"),
			allowed: []string{"so", "au"}, ok: 200},
		{route: "POST /api/v1/approvals/{id}/reject", method: "POST",
			path: func(t *testing.T, f *accessFixture) string {
				return "/api/v1/approvals/" + f.grantRequest(t) + "/reject"
			},
			body:    fixed(`{"reason":"not now"}`),
			allowed: []string{"so", "au"}, ok: 200},
		{route: "GET /api/v1/people", method: "GET", path: fixed("/api/v1/people"), allowed: []string{"so", "au"}, ok: 200},
		{route: "GET /api/v1/people/{name}", method: "GET", path: fixed("/api/v1/people/so0"), allowed: []string{"so", "au"}, ok: 200},
		{route: "POST /api/v1/people/{name}/attestations", method: "POST", path: fixed("/api/v1/people/so0/attestations"),
			body: fixed(`{"kind":"training","date":"2026-01-15","attested_by":"Sceau trainer"}`), allowed: []string{"so"}, ok: 201},

		// ROLE-4: a Security Officer's single-person actions on accounts.
		{route: "PATCH /api/v1/accounts/{name}", method: "PATCH", path: fixed("/api/v1/accounts/none"),
			body: func(t *testing.T, f *accessFixture) string {
				seq++
				return fmt.Sprintf(`{"full_name":"Renamed Person %d"}`, seq)
			}, allowed: []string{"so"}, ok: 200},
		{route: "DELETE /api/v1/accounts/{name}", method: "DELETE",
			path: func(t *testing.T, f *accessFixture) string { return "/api/v1/accounts/" + f.freshAccount(t) },
			body: fixed(`{"reason":"left the company"}`), allowed: []string{"so"}, ok: 200},
		{route: "POST /api/v1/accounts/{name}/suspend", method: "POST",
			path: func(t *testing.T, f *accessFixture) string {
				return "/api/v1/accounts/" + f.freshAccount(t) + "/suspend"
			},
			body: fixed(`{"reason":"laptop stolen"}`), allowed: []string{"so"}, ok: 200},
		{route: "POST /api/v1/accounts/{name}/resume", method: "POST",
			path: func(t *testing.T, f *accessFixture) string {
				name := f.freshAccount(t)
				if _, err := f.acc.Suspend(context.Background(), f.principal(t, "so0"), name, "holiday"); err != nil {
					t.Fatal(err)
				}
				return "/api/v1/accounts/" + name + "/resume"
			},
			body: fixed(`{"reason":"back"}`), allowed: []string{"so"}, ok: 200},
		{route: "POST /api/v1/accounts/{name}/certificates", method: "POST", path: fixed("/api/v1/accounts/none/certificates"),
			body: func(t *testing.T, f *accessFixture) string {
				return jsonBody(t, server.PersonalCertRequest{CSR: personalCSR(t)})
			}, allowed: []string{"so"}, ok: 201},
		{route: "GET /api/v1/accounts/{name}/certificates", method: "GET", path: fixed("/api/v1/accounts/so0/certificates"),
			allowed: []string{"so", "au"}, ok: 200},
		{route: "POST /api/v1/accounts/{name}/certificates/{serial}/revoke", method: "POST",
			path: func(t *testing.T, f *accessFixture) string {
				return fmt.Sprintf("/api/v1/accounts/none/certificates/%x/revoke", f.personalCert(t, "none").SerialNumber)
			},
			body: fixed(`{"reason":"key lost"}`), allowed: []string{"so"}, ok: 200},

		// ROLE-3: CA actions under dual control make approval requests.
		{route: "POST /api/v1/cas/{id}/terminate", method: "POST", path: fixed("/api/v1/cas/issuing/terminate"),
			body: fixed(`{"reason":"end of service"}`), allowed: []string{"so", "aa"}, ok: 202},
		{route: "POST /api/v1/cas/{id}/compromise", method: "POST", path: fixed("/api/v1/cas/issuing/compromise"),
			body: fixed(`{"reason":"key stolen"}`), allowed: []string{"so"}, ok: 202},
		{route: "POST /api/v1/cas/{id}/revocations", method: "POST", path: fixed("/api/v1/cas/issuing/revocations"),
			body: fixed(`{"reason":"cessationOfOperation"}`), allowed: []string{"so", "ra"}, ok: 202},
		// INC-3: the selective revocation's dry run and request.
		{route: "GET /api/v1/revocations/selections/preview", method: "GET", path: fixed("/api/v1/revocations/selections/preview?key_type=rsa"),
			allowed: []string{"so", "au", "ra"}, ok: 200},
		{route: "POST /api/v1/revocations/selections", method: "POST", path: fixed("/api/v1/revocations/selections"),
			body: fixed(`{"selector":{"key_type":"ecdsa"},"reason":"superseded"}`), allowed: []string{"so", "ra"}, ok: 202},
		{route: "POST /api/v1/cas/{id}/creation", method: "POST", path: fixed("/api/v1/cas/extra/creation"),
			body: fixed(`{"reason":"new issuing CA"}`), allowed: []string{"aa"}, ok: 202},
		// AUD-3: the journal is not served by this fixture (Admin.Audit
		// is nil), so allowed calls answer 503 past the decision; audit_test.go
		// serves it.
		{route: "GET /api/v1/audit/events", method: "GET", path: fixed("/api/v1/audit/events"), allowed: []string{"so", "au"}, ok: 503},
		{route: "GET /api/v1/audit/events/{seq}", method: "GET", path: fixed("/api/v1/audit/events/1"), allowed: []string{"so", "au"}, ok: 503},
		{route: "GET /api/v1/audit/alerts", method: "GET", path: fixed("/api/v1/audit/alerts"), allowed: []string{"so", "au"}, ok: 503},
		{route: "GET /api/v1/audit/status", method: "GET", path: fixed("/api/v1/audit/status"), allowed: []string{"so", "au"}, ok: 503},
		{route: "GET /api/v1/audit/verify", method: "GET", path: fixed("/api/v1/audit/verify"), allowed: []string{"so", "au"}, ok: 503},
		{route: "GET /api/v1/audit/export", method: "GET", path: fixed("/api/v1/audit/export"), allowed: []string{"so", "au"}, ok: 503},
		{route: "POST /api/v1/audit/records", method: "POST", path: fixed("/api/v1/audit/records"),
			body: fixed(`{"kind":"maintenance","fields":{"who":"x","system":"y","description":"z"}}`), allowed: []string{"so", "sa", "sop"}, ok: 503},
		// PUB-4: the publication is not served by this fixture either
		// (Admin.Publication is nil); internal/publication tests the flow.
		{route: "POST /api/v1/publication/files", method: "POST", path: fixed("/api/v1/publication/files"),
			body: fixed("CGU\n"), allowed: []string{"aa"}, ok: 503},
		{route: "POST /api/v1/publication/requests", method: "POST", path: fixed("/api/v1/publication/requests"),
			body: fixed(`{"op":"withdraw","document":"cgu/a/1/fr","reason":"typo"}`), allowed: []string{"aa"}, ok: 503},
		{route: "GET /api/v1/publication/documents", method: "GET", path: fixed("/api/v1/publication/documents"), allowed: everyRole, ok: 503},
		// ARC-1..ARC-6: nor the archive (Admin.Archive is nil);
		// internal/archive and cmd/sceau test the flow.
		{route: "POST /api/v1/archive/items", method: "POST", path: fixed("/api/v1/archive/items?kind=audit-report&source=x"),
			body: fixed("report\n"), allowed: []string{"aa", "so", "au", "ra"}, ok: 503},
		{route: "GET /api/v1/archive/items", method: "GET", path: fixed("/api/v1/archive/items"), allowed: everyRole, ok: 503},
		{route: "GET /api/v1/archive/items/{leaf}", method: "GET", path: fixed("/api/v1/archive/items/0"), allowed: everyRole, ok: 503},
		{route: "GET /api/v1/archive/status", method: "GET", path: fixed("/api/v1/archive/status"), allowed: everyRole, ok: 503},
		{route: "GET /api/v1/archive/verify", method: "GET", path: fixed("/api/v1/archive/verify"), allowed: everyRole, ok: 503},
		// COMP-1: nor the self-audit (Admin.SelfAudit is nil); internal/node tests it.
		{route: "POST /api/v1/compliance/reports", method: "POST", path: fixed("/api/v1/compliance/reports"), allowed: []string{"so", "au"}, ok: 503},
		{route: "POST /api/v1/archive/heads", method: "POST", path: fixed("/api/v1/archive/heads"), allowed: []string{"aa", "so", "au", "ra"}, ok: 503},
		{route: "POST /api/v1/archive/purge", method: "POST", path: fixed("/api/v1/archive/purge"), body: fixed(`{"dry_run":true}`),
			allowed: []string{"so"}, ok: 503},
		// INC-1, INC-4: nor the incident register (Admin.Incidents is nil);
		// internal/incident and cmd/sceau test the flow.
		{route: "POST /api/v1/incidents", method: "POST", path: fixed("/api/v1/incidents"),
			body: fixed(`{"kind":"outage","severity":"minor","title":"OCSP down"}`), allowed: operatorRoles, ok: 503},
		{route: "GET /api/v1/incidents", method: "GET", path: fixed("/api/v1/incidents"), allowed: operatorRoles, ok: 503},
		{route: "GET /api/v1/incidents/status", method: "GET", path: fixed("/api/v1/incidents/status"), allowed: operatorRoles, ok: 503},
		{route: "GET /api/v1/incidents/{id}", method: "GET", path: fixed("/api/v1/incidents/1"), allowed: operatorRoles, ok: 503},
		{route: "POST /api/v1/incidents/{id}/notes", method: "POST", path: fixed("/api/v1/incidents/1/notes"),
			body: fixed(`{"text":"seen"}`), allowed: operatorRoles, ok: 503},
		{route: "POST /api/v1/incidents/{id}/severity", method: "POST", path: fixed("/api/v1/incidents/1/severity"),
			body: fixed(`{"severity":"major","reason":"worse"}`), allowed: operatorRoles, ok: 503},
		{route: "POST /api/v1/incidents/{id}/close", method: "POST", path: fixed("/api/v1/incidents/1/close"),
			body: fixed(`{"closure":"done"}`), allowed: []string{"so"}, ok: 503},
		{route: "POST /api/v1/incidents/{id}/obligations/{kind}/done", method: "POST",
			path: fixed("/api/v1/incidents/1/obligations/supervisory-authority/done"), body: fixed(`{"reference":"AR-1"}`),
			allowed: []string{"so"}, ok: 503},
	}, slices.Concat(registrationEndpoints(), acmeEndpoints(), estEndpoints())...)
}

func (e endpoint) allows(who string) bool {
	for _, a := range e.allowed {
		if a == who || (a == "person" && who != "terminal") || a == "terminal" {
			return true
		}
	}
	return false
}

// TestSYS1_EveryRoleOnEveryAdminEndpoint walks every admin route with a
// terminal alone, a person without role and a person of each role, and
// checks that exactly the policy's combinations get through; each refusal
// is a 403 with an audit event.
// It also checks ROLE-5 on every allowed state-changing call: an event
// names the caller's account and the role it acted under.
func TestSYS1_EveryRoleOnEveryAdminEndpoint(t *testing.T) {
	sceautest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		f := newAccessFixture(t, db)
		eps := matrixEndpoints()
		covered := map[string]bool{}
		for _, e := range eps {
			covered[e.route] = true
		}
		for route := range server.RouteActions() {
			if !covered[route] {
				t.Errorf("route %s is not in the test's matrix", route)
			}
		}
		callers := []string{"terminal", "none", "so", "sa", "sop", "au", "aa", "ra", "ksh"}
		for _, e := range eps {
			for _, who := range callers {
				t.Run(e.route+" as "+who, func(t *testing.T) {
					body := ""
					if e.body != nil {
						body = e.body(t, f)
					}
					path := e.path(t, f)
					before := len(f.events(t, "access.denied", "approval.refused"))
					head := f.head(t)
					w := f.as(t, who, "", e.method, path, body)
					if e.allows(who) {
						if w.Code != e.ok {
							t.Fatalf("%s %s as %s: %d, want %d: %s", e.method, path, who, w.Code, e.ok, w.Body)
						}
						// ROLE-5: a state-changing call is journaled under the
						// caller's account and the role it acted under.
						// A login is journaled under the person who logs in,
						// whichever terminal they use.
						actor := who
						if e.route == "POST /api/v1/login" {
							actor = "walker"
						}
						// CA-4: a holder's request is journaled under the holder,
						// who proves themself with the revocation secret.
						if e.method != http.MethodGet && e.ok < 300 && !strings.HasSuffix(e.route, "/holder") && !f.journaledAs(t, head, actor) {
							t.Errorf("%s %s as %s changed state without an event naming %s and a role", e.method, path, who, actor)
						}
						return
					}
					if w.Code != http.StatusForbidden {
						t.Fatalf("%s %s as %s: %d, want 403: %s", e.method, path, who, w.Code, w.Body)
					}
					if eb := errorOf(t, w); eb.Kind != "denied" || eb.Error == "" {
						t.Errorf("refusal %+v", eb)
					}
					if after := len(f.events(t, "access.denied", "approval.refused")); after != before+1 {
						t.Errorf("%d refusal events before, %d after: want one more", before, after)
					}
				})
			}
		}
	})
}

func TestSYS1_AuditorCannotIssueAndRAOfficerCannotGrantRoles(t *testing.T) {
	sceautest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		f := newAccessFixture(t, db)
		csr := csrPEM(sceautest.CSR(t, sceautest.NewKey(t, keys.ECDSAP256), "www.example.org", "www.example.org"))
		before := countCertificates(t, db)
		w := f.as(t, "au", "", "POST", "/api/v1/certificates", jsonBody(t, server.IssueRequest{CA: "issuing", Profile: "server", CSR: csr}))
		if w.Code != 403 || !strings.Contains(errorOf(t, w).Error, "Registration & Revocation Officer") {
			t.Fatalf("Auditor issuing: %d %s", w.Code, w.Body)
		}
		if countCertificates(t, db) != before {
			t.Error("a certificate row was written for a refused request")
		}
		w = f.as(t, "ra", "", "POST", "/api/v1/accounts/none/roles", `{"role":"system-auditor"}`)
		if w.Code != 403 || !strings.Contains(errorOf(t, w).Error, "Security Officer") {
			t.Fatalf("RA officer granting a role: %d %s", w.Code, w.Body)
		}
		denied := f.events(t, "access.denied")
		if len(denied) != 2 {
			t.Fatalf("%d access.denied events, want 2", len(denied))
		}
		for i, want := range []struct{ actor, action, object string }{
			{"au", "cert.issue", "certificate"}, {"ra", "role.grant", "account:none"},
		} {
			var d map[string]any
			json.Unmarshal([]byte(denied[i].Details), &d)
			if denied[i].Actor != want.actor || d["action"] != want.action || denied[i].Object != want.object || d["reason"] == "" {
				t.Errorf("event %d: actor %s object %s details %v; want %+v", i, denied[i].Actor, denied[i].Object, d, want)
			}
		}
	})
}

func TestROLE4_LoginSessionThroughTheAPI(t *testing.T) {
	sceautest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		f := newAccessFixture(t, db)
		code := func() string {
			c, _ := access.TOTPCode(f.creds["walker"].TOTP.Secret, f.clock.Now())
			return c
		}
		// From the bare terminal: nothing but login and whoami.
		if w := f.as(t, "terminal", "", "GET", "/api/v1/cas", ""); w.Code != 403 || !strings.Contains(errorOf(t, w).Error, "sceau login") {
			t.Fatalf("terminal alone: %d %s", w.Code, w.Body)
		}
		// Wrong password: refused, journaled.
		w := f.as(t, "terminal", "", "POST", "/api/v1/login", jsonBody(t, server.LoginRequest{Account: "walker", Password: "wrong-password-123", TOTP: code()}))
		if w.Code != 403 || len(f.events(t, "login.failed")) != 1 {
			t.Fatalf("wrong password: %d %s", w.Code, w.Body)
		}
		w = f.as(t, "terminal", "", "POST", "/api/v1/login", jsonBody(t, server.LoginRequest{Account: "walker", Password: testPassword, TOTP: code()}))
		if w.Code != 201 {
			t.Fatalf("login: %d %s", w.Code, w.Body)
		}
		var s access.Session
		json.Unmarshal(w.Body.Bytes(), &s)
		w = f.as(t, "terminal", s.Token, "GET", "/api/v1/whoami", "")
		var who access.Whoami
		json.Unmarshal(w.Body.Bytes(), &who)
		if who.Account != "walker" || who.Method != "password+totp" || len(who.Roles) != 1 || who.Terminal != "terminal" {
			t.Fatalf("whoami %+v", who)
		}
		if w := f.as(t, "terminal", s.Token, "GET", "/api/v1/certificates", ""); w.Code != 200 {
			t.Fatalf("session call: %d %s", w.Code, w.Body)
		}
		// The session belongs to its terminal.
		if w := f.as(t, "au", s.Token, "GET", "/api/v1/certificates", ""); w.Code != 403 || !strings.Contains(errorOf(t, w).Error, "another terminal") {
			t.Fatalf("token on another terminal: %d %s", w.Code, w.Body)
		}
		// Idle 15 minutes: expired, with a clear reason and an event.
		f.clock.Advance(16 * time.Minute)
		w = f.as(t, "terminal", s.Token, "GET", "/api/v1/certificates", "")
		if w.Code != 403 || !strings.Contains(errorOf(t, w).Error, "idle") || !strings.Contains(errorOf(t, w).Error, "sceau login") {
			t.Fatalf("expired session: %d %s", w.Code, w.Body)
		}
		if len(f.events(t, "session.refused")) != 2 {
			t.Errorf("session.refused events: %d", len(f.events(t, "session.refused")))
		}
		// Log in again, then out.
		f.clock.Advance(30 * time.Second)
		w = f.as(t, "terminal", "", "POST", "/api/v1/login", jsonBody(t, server.LoginRequest{Account: "walker", Password: testPassword, TOTP: code()}))
		json.Unmarshal(w.Body.Bytes(), &s)
		if w := f.as(t, "terminal", s.Token, "POST", "/api/v1/logout", "{}"); w.Code != 200 {
			t.Fatalf("logout: %d %s", w.Code, w.Body)
		}
		if w := f.as(t, "terminal", s.Token, "GET", "/api/v1/whoami", ""); w.Code != 403 {
			t.Fatalf("after logout: %d %s", w.Code, w.Body)
		}
		for _, ev := range []string{"login.succeeded", "logout"} {
			if n := len(f.events(t, ev)); n == 0 {
				t.Errorf("no %s event", ev)
			}
		}
	})
}

func TestROLE4_RemovedRoleRefusedOnTheNextAPIRequest(t *testing.T) {
	sceautest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		f := newAccessFixture(t, db)
		if w := f.as(t, "ra", "", "GET", "/api/v1/certificates", ""); w.Code != 200 {
			t.Fatalf("before: %d", w.Code)
		}
		w := f.as(t, "so", "", "DELETE", "/api/v1/accounts/ra/roles/registration-officer", "")
		if w.Code != 202 {
			t.Fatalf("removal request: %d %s", w.Code, w.Body)
		}
		var rq access.Request
		json.Unmarshal(w.Body.Bytes(), &rq)
		for _, who := range []string{"so0", "au"} {
			if w := f.as(t, who, "", "POST", "/api/v1/approvals/"+rq.ID+"/approve", "{}"); w.Code != 200 {
				t.Fatalf("approval by %s: %d %s", who, w.Code, w.Body)
			}
		}
		w = f.as(t, "ra", "", "GET", "/api/v1/certificates", "")
		if w.Code != 403 || !strings.Contains(errorOf(t, w).Error, "ra holds no role") {
			t.Fatalf("after removal: %d %s", w.Code, w.Body)
		}
		// Self-approval through the API is refused too.
		w = f.as(t, "so", "", "POST", "/api/v1/accounts/none/roles", `{"role":"system-auditor"}`)
		json.Unmarshal(w.Body.Bytes(), &rq)
		if w := f.as(t, "so", "", "POST", "/api/v1/approvals/"+rq.ID+"/approve", "{}"); w.Code != 403 || !strings.Contains(errorOf(t, w).Error, "cannot approve") {
			t.Fatalf("self-approval: %d %s", w.Code, w.Body)
		}
	})
}

func TestSYS2_AdminRefusesPathTricks(t *testing.T) {
	f := newAccessFixture(t, sceautest.OpenSQLite(t))
	for _, p := range []string{
		"/api/v1/people/../accounts", "/api/v1//accounts", "/api/v1/./accounts", "/api/v1/accounts/",
		"/api/v1/accounts/%2e%2e", "/api/v1/accounts/so%2F..%2Fx", "/api/v1/people/so0%00", "/api/v1/accounts/so\\..",
		"/api/v1/cas/../../metrics", "/api/v1/%61ccounts",
	} {
		for _, m := range []string{"GET", "POST", "DELETE"} {
			r := httptest.NewRequest(m, "/", strings.NewReader("{}"))
			r.URL.RawPath = ""
			r.URL.Path = p
			if strings.Contains(p, "%") {
				r.URL.RawPath = p
				r.URL.Path = strings.NewReplacer("%2e", ".", "%2F", "/", "%00", "\x00", "%61", "a").Replace(p)
			}
			r.TLS = verified(f.certs["so"])
			w := httptest.NewRecorder()
			f.admin.ServeHTTP(w, r)
			if w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), "not canonical") {
				t.Errorf("%s %s: %d %s, want 400 not canonical", m, p, w.Code, w.Body)
			}
		}
	}
}

// TestSYS2_PublicHandlerAnswersNoAdminRoute: every admin route, with every
// method, is 404 or 405 on the public listener.
func TestSYS2_PublicHandlerAnswersNoAdminRoute(t *testing.T) {
	f := newFixture(t, sceautest.OpenSQLite(t))
	var routes []string
	for r := range server.RouteActions() {
		routes = append(routes, r)
	}
	sort.Strings(routes)
	fill := strings.NewReplacer("{id}", "issuing", "{aid}", "a1", "{serial}", "1f", "{name}", "so", "{role}", "security-officer")
	for _, route := range routes {
		_, p, _ := strings.Cut(route, " ")
		p = fill.Replace(p)
		for _, m := range []string{"GET", "POST", "PUT", "DELETE", "PATCH"} {
			w := httptest.NewRecorder()
			f.public.ServeHTTP(w, httptest.NewRequest(m, p, strings.NewReader(`{"account":"so","password":"x"}`)))
			if w.Code != http.StatusNotFound && w.Code != http.StatusMethodNotAllowed {
				t.Errorf("%s %s on the public handler: %d", m, p, w.Code)
			}
		}
	}
}
