package acme_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-acme/lego/v5/acme"
	"github.com/go-acme/lego/v5/lego"
	"github.com/miekg/dns"

	"github.com/sceau/sceau/internal/access"
	sacme "github.com/sceau/sceau/internal/acme"
	"github.com/sceau/sceau/internal/audit"
	"github.com/sceau/sceau/internal/registration"
	"github.com/sceau/sceau/internal/revocation"
	"github.com/sceau/sceau/internal/sceautest"
	"github.com/sceau/sceau/internal/sceautest/ratest"
	"github.com/sceau/sceau/internal/store"
)

var (
	ra1 = access.Principal{Account: "ra1", Roles: []access.Role{access.RegistrationOfficer}}
	ra2 = access.Principal{Account: "ra2", Roles: []access.Role{access.RegistrationOfficer}}
)

// dnsServer is a test DNS server on 127.0.0.1: every name under
// sceau-test.fr has the address 127.0.0.1, and TXT records are set by
// the test.
type dnsServer struct {
	addr string
	mu   sync.Mutex
	txt  map[string][]string
	caa  map[string][]dns.RR
}

func newDNSServer(t *testing.T) *dnsServer {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	d := &dnsServer{addr: pc.LocalAddr().String(), txt: map[string][]string{}, caa: map[string][]dns.RR{}}
	srv := &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(d.serve)}
	go func() { _ = srv.ActivateAndServe() }()
	t.Cleanup(func() { _ = srv.Shutdown() })
	return d
}

func (d *dnsServer) serve(w dns.ResponseWriter, r *dns.Msg) {
	m := new(dns.Msg)
	m.SetReply(r)
	m.Authoritative = true
	for _, q := range r.Question {
		name := strings.ToLower(q.Name)
		if !strings.HasSuffix(name, "sceau-test.fr.") {
			m.Rcode = dns.RcodeNameError
			continue
		}
		hdr := dns.RR_Header{Name: q.Name, Rrtype: q.Qtype, Class: dns.ClassINET, Ttl: 1}
		switch q.Qtype {
		case dns.TypeA:
			if !strings.HasPrefix(name, "_acme-challenge.") {
				m.Answer = append(m.Answer, &dns.A{Hdr: hdr, A: net.IPv4(127, 0, 0, 1)})
			}
		case dns.TypeCAA:
			d.mu.Lock()
			m.Answer = append(m.Answer, d.caa[name]...)
			d.mu.Unlock()
		case dns.TypeTXT:
			d.mu.Lock()
			for _, v := range d.txt[name] {
				m.Answer = append(m.Answer, &dns.TXT{Hdr: hdr, Txt: []string{v}})
			}
			d.mu.Unlock()
		}
	}
	_ = w.WriteMsg(m)
}

// setCAA gives name the CAA records, in zone-file form ("0 issue \"x\"").
func (d *dnsServer) setCAA(t *testing.T, name string, records ...string) {
	t.Helper()
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, r := range records {
		rr, err := dns.NewRR(name + ". 1 IN CAA " + r)
		if err != nil {
			t.Fatal(err)
		}
		d.caa[name+"."] = append(d.caa[name+"."], rr)
	}
}

// Present and CleanUp make the test DNS server a lego dns-01 provider.
func (d *dnsServer) Present(_ context.Context, domain, _, keyAuth string) error {
	sum := sha256.Sum256([]byte(keyAuth))
	d.mu.Lock()
	defer d.mu.Unlock()
	n := "_acme-challenge." + strings.TrimSuffix(domain, ".") + "."
	d.txt[n] = append(d.txt[n], base64.RawURLEncoding.EncodeToString(sum[:]))
	return nil
}

func (d *dnsServer) CleanUp(_ context.Context, domain, _, _ string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.txt, "_acme-challenge."+strings.TrimSuffix(domain, ".")+".")
	return nil
}

type fixture struct {
	t       *testing.T
	db      *store.DB
	h       *sceautest.Hierarchy
	ra      *ratest.Registration
	svc     *sacme.Service
	srv     *httptest.Server
	dns     *dnsServer
	dossier *registration.Dossier
	opts    sacme.Options
	// ports of the challenge servers the clients start
	httpPort, alpnPort string
}

var dossierNames = []string{"app.sceau-test.fr", "www.sceau-test.fr", "other.sceau-test.fr"}

func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	_, port, _ := net.SplitHostPort(l.Addr().String())
	return port
}

func newFixture(t *testing.T, db *store.DB, tweak func(*sacme.Options)) *fixture {
	t.Helper()
	clock := sceautest.NewClock(time.Now().UTC().Truncate(time.Second))
	h := sceautest.NewHierarchy(t, db, sceautest.HierarchyOptions{Clock: clock})
	ra := ratest.NewRegistration(t, h, clock, registration.Options{})
	f := &fixture{t: t, db: db, h: h, ra: ra, dns: newDNSServer(t), httpPort: freePort(t), alpnPort: freePort(t)}
	f.dossier = f.validatedDossier(dossierNames...)
	var hp, ap int
	for _, c := range f.httpPort {
		hp = hp*10 + int(c-'0')
	}
	for _, c := range f.alpnPort {
		ap = ap*10 + int(c-'0')
	}
	f.opts = sacme.Options{Clock: clock, Directories: []sacme.Directory{{Name: "server", CA: "issuing", Profile: "server"},
		{Name: "open", CA: "issuing", Profile: "server", EABOptional: true}},
		HTTPPort: hp, TLSALPNPort: ap, Resolver: f.dns.addr, ValidationTimeout: 5 * time.Second}
	if tweak != nil {
		tweak(&f.opts)
	}
	f.svc = sacme.New(db, h.Journal, h.Authority, h.Revocation, ra.Service, f.opts)
	f.srv = httptest.NewTLSServer(f.svc)
	t.Cleanup(f.srv.Close)
	return f
}

// validatedDossier is a website dossier for names, entered by ra1 and
// validated by ra2 (CA-4).
func (f *fixture) validatedDossier(names ...string) *registration.Dossier {
	f.t.Helper()
	return f.ra.ValidatedDevice(f.t, ra1, ra2, names...)
}

func (f *fixture) dirURL(name string) string { return f.srv.URL + "/acme/" + name + "/directory" }

// user is a lego account.
type user struct {
	email string
	reg   *acme.ExtendedAccount
	key   crypto.Signer
}

func (u *user) GetEmail() string                       { return u.email }
func (u *user) GetRegistration() *acme.ExtendedAccount { return u.reg }
func (u *user) GetPrivateKey() crypto.Signer           { return u.key }

func newUser(t *testing.T) *user {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return &user{email: "web@sceau-test.fr", key: k}
}

// client is a lego client of the directory, trusting the test server.
func (f *fixture) client(u *user, dir string) *lego.Client {
	f.t.Helper()
	cfg := lego.NewConfig(u)
	cfg.CADirURL = f.dirURL(dir)
	cfg.HTTPClient = f.srv.Client()
	cfg.HTTPClient.Timeout = time.Minute
	cfg.Certificate.Timeout = 30 * time.Second
	c, err := lego.NewClient(cfg)
	if err != nil {
		f.t.Fatal(err)
	}
	return c
}

// events returns the journal's events of action.
func (f *fixture) events(action string) []audit.Record {
	f.t.Helper()
	recs, err := audit.Read(context.Background(), f.db, 0, 1000000)
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

func (f *fixture) count(table string) int {
	f.t.Helper()
	var n int
	if err := f.db.QueryRowContext(context.Background(), "SELECT COUNT(*) FROM "+table).Scan(&n); err != nil {
		f.t.Fatal(err)
	}
	return n
}

var _ http.Handler = (*sacme.Service)(nil)

// draft is a website dossier that is not validated.
func (f *fixture) draft() registration.NewDossier {
	return registration.NewDossier{Kind: registration.Device, CA: "issuing", Profile: "server",
		Subject: registration.Subject{DNSNames: []string{"draft.sceau-test.fr"}}, Contact: registration.Contact{Name: "Web", Email: "web@sceau-test.fr"}}
}

func certSerial(t *testing.T, der []byte) string {
	t.Helper()
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return revocation.SerialHex(c.SerialNumber)
}
