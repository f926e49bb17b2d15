package access_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"testing"
	"time"

	"github.com/sceau/sceau/internal/access"
	"github.com/sceau/sceau/internal/audit"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/sceautest"
	"github.com/sceau/sceau/internal/store"
)

// cheapKDF keeps tests fast; it is still Argon2id.
var cheapKDF = access.KDFParams{Memory: 1024, Time: 1, Threads: 1}

// people of the fixture, with their roles (a valid set for ROLE-2).
var fixturePeople = []access.Person{
	{Name: "so1", FullName: "Solène Officer", Roles: []access.Role{access.SecurityOfficer}},
	{Name: "so2", FullName: "Simon Officer", Roles: []access.Role{access.SecurityOfficer}},
	{Name: "au1", FullName: "Aude Auditor", Roles: []access.Role{access.SystemAuditor}},
	{Name: "ra1", FullName: "Raoul Registrar", Roles: []access.Role{access.RegistrationOfficer}},
	{Name: "sys1", FullName: "Sylvie Engineer", Roles: []access.Role{access.SystemAdministrator, access.SystemOperator}},
	{Name: "app1", FullName: "Apolline Admin", Roles: []access.Role{access.ApplicationAdministrator}},
	{Name: "ksh1", FullName: "Kevin Holder", Roles: []access.Role{access.KeyShareHolder}},
	{Name: "nobody", FullName: "Noé Newcomer"},
}

const fixturePassword = "tulip-anchor-violet-42"

type fixture struct {
	t     *testing.T
	db    *store.DB
	clock *sceautest.Clock
	svc   *access.Service
	term  *x509.Certificate // the terminal everyone uses unless told
	creds map[string]access.Credentials
}

func newFixture(t *testing.T, db *store.DB, o access.Options) *fixture {
	t.Helper()
	clock := sceautest.NewClock(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	o.Clock, o.KDF = clock, cheapKDF
	svc := access.New(db, audit.NewJournal(clock), o)
	var people []access.Person
	for _, p := range fixturePeople {
		p.Password = fixturePassword
		people = append(people, p)
	}
	creds, err := svc.Bootstrap(context.Background(), sceau.System("test"), people)
	if err != nil {
		t.Fatalf("bootstrap: %v", err)
	}
	f := &fixture{t: t, db: db, clock: clock, svc: svc, term: terminalCert(t, "terminal-1"), creds: map[string]access.Credentials{}}
	for _, c := range creds {
		f.creds[c.Account] = c
	}
	return f
}

// terminalCert is a client certificate as the TLS handshake would verify it.
func terminalCert(t testing.TB, cn string) *x509.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{SerialNumber: serial, Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// code is the TOTP code of account now.
func (f *fixture) code(account string) string {
	f.t.Helper()
	c, err := access.TOTPCode(f.creds[account].TOTP.Secret, f.clock.Now())
	if err != nil {
		f.t.Fatal(err)
	}
	return c
}

// login opens a session of account and returns its principal. Each login
// moves the clock to the next TOTP time step so codes are never replayed.
func (f *fixture) login(account string) (access.Principal, string) {
	f.t.Helper()
	f.clock.Advance(30 * time.Second)
	s, err := f.svc.Login(context.Background(), f.term, account, fixturePassword, f.code(account))
	if err != nil {
		f.t.Fatalf("login %s: %v", account, err)
	}
	p, err := f.svc.Authenticate(context.Background(), f.term, s.Token)
	if err != nil {
		f.t.Fatalf("authenticate %s: %v", account, err)
	}
	return p, s.Token
}

// principal returns account's principal as a session would give it, read
// from the store now, without logging in.
func (f *fixture) principal(account string) access.Principal {
	f.t.Helper()
	roles := []access.Role{}
	a, err := f.svc.ShowAccount(context.Background(), access.Principal{Account: account}, account)
	if err != nil {
		f.t.Fatalf("show %s: %v", account, err)
	}
	roles = append(roles, a.Roles...)
	return access.Principal{Account: account, Roles: roles, Method: access.MethodPassword, Session: "s-" + account, Terminal: "terminal-1"}
}

// events returns the journal's events with action, in order.
func (f *fixture) events(action string) []audit.Record {
	f.t.Helper()
	recs, err := audit.Read(context.Background(), f.db, 0, 100000)
	if err != nil {
		f.t.Fatal(err)
	}
	var out []audit.Record
	for _, r := range recs {
		if r.Action == action {
			out = append(out, r)
		}
	}
	return out
}
