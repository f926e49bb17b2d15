package server_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	legoacme "github.com/go-acme/lego/v5/acme"
	"github.com/go-acme/lego/v5/certcrypto"
	"github.com/go-acme/lego/v5/certificate"
	"github.com/go-acme/lego/v5/challenge/http01"
	"github.com/go-acme/lego/v5/lego"
	legolog "github.com/go-acme/lego/v5/log"
	legoreg "github.com/go-acme/lego/v5/registration"
	"github.com/miekg/dns"

	"github.com/sceau/sceau/internal/access"
	"github.com/sceau/sceau/internal/acme"
	"github.com/sceau/sceau/internal/keys"
	"github.com/sceau/sceau/internal/registration"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/sceautest"
	"github.com/sceau/sceau/internal/sceautest/ratest"
	"github.com/sceau/sceau/internal/server"
)

type benchUser struct {
	reg *legoacme.ExtendedAccount
	key crypto.Signer
}

func (u *benchUser) GetEmail() string                           { return "web@sceau-test.fr" }
func (u *benchUser) GetRegistration() *legoacme.ExtendedAccount { return u.reg }
func (u *benchUser) GetPrivateKey() crypto.Signer               { return u.key }

// inProcess sends requests to a handler in process.
type inProcess struct{ h http.Handler }

func (p inProcess) RoundTrip(r *http.Request) (*http.Response, error) {
	w := httptest.NewRecorder()
	r = r.Clone(r.Context())
	r.RequestURI = r.URL.RequestURI()
	r.TLS = &tls.ConnectionState{HandshakeComplete: true}
	p.h.ServeHTTP(w, r)
	resp := w.Result()
	resp.Request = r
	return resp, nil
}

// localDNS answers 127.0.0.1 for every name.
func localDNS(b testing.TB) string {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(r)
		for _, q := range r.Question {
			if q.Qtype == dns.TypeA {
				m.Answer = append(m.Answer, &dns.A{Hdr: dns.RR_Header{Name: q.Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 1}, A: net.IPv4(127, 0, 0, 1)})
			}
		}
		_ = w.WriteMsg(m)
	})}
	go func() { _ = srv.ActivateAndServe() }()
	b.Cleanup(func() { _ = srv.Shutdown() })
	return pc.LocalAddr().String()
}

// BenchmarkCA4_ACMEFlow measures, in the same run, plain admin-API
// issuance (POST /api/v1/certificates) and the complete ACME flow driven
// by lego (new order, authorization, finalize, download) with a
// pre-validated authorization, 8 clients in flight each, and reports both
// rates and their ratio (issue 18: ACME must keep ≥ 50%).
func BenchmarkCA4_ACMEFlow(b *testing.B) {
	legolog.SetDefault(slog.New(slog.NewTextHandler(io.Discard, nil)))
	const clients = 8
	ctx := context.Background()
	clock := sceautest.NewClock(time.Now().UTC().Truncate(time.Second))
	db := sceautest.OpenSQLite(b)
	h := sceautest.NewHierarchy(b, db, sceautest.HierarchyOptions{Clock: clock})
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	acc := access.New(db, h.Journal, access.Options{Clock: clock, KDF: access.KDFParams{Memory: 1024, Time: 1, Threads: 1}})
	cert := clientCert(b, "ra")
	if _, err := acc.Bootstrap(ctx, sceau.System("test"), []access.Person{{Name: "ra", Roles: []access.Role{access.RegistrationOfficer},
		CertificateOnly: true, Certificate: cert}}); err != nil {
		b.Fatal(err)
	}
	reg := ratest.NewRegistration(b, h, clock, registration.Options{})
	adm := (&server.Admin{Authority: h.Authority, Revocation: h.Revocation, Metrics: server.NewMetrics(), Log: log, MaxBodyBytes: 64 << 10,
		Access: acc, Registration: reg.Service}).Handler()
	tlsState := verified(cert)

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	httpPort := l.Addr().(*net.TCPAddr).Port
	l.Close()
	svc := acme.New(db, h.Journal, h.Authority, h.Revocation, reg.Service, acme.Options{Clock: clock, Logger: log,
		Directories: []acme.Directory{{Name: "server", CA: "issuing", Profile: "server"}}, HTTPPort: httpPort,
		Resolver: localDNS(b), AuthorizationReuse: time.Hour,
		// The benchmark orders far beyond the rate limits: lift them.
		OrdersPerAccountPerHour: -1, CertificatesPerIdentifierPerWeek: -1})
	srv := struct{ URL string }{URL: "https://acme.sceau-test.fr"}

	// A validated website dossier; an account per client, each with its
	// authorization validated once (http-01), before the clock starts.
	f := &accessFixture{reg: reg, clock: clock}
	walkerDossier := func() int64 { return f.websiteDossier(b) }
	dossier := walkerDossier()
	legoClients := make([]*lego.Client, clients)
	keysFor := func() crypto.Signer {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			b.Fatal(err)
		}
		return k
	}
	newClient := func(u *benchUser) *lego.Client {
		cfg := lego.NewConfig(u)
		cfg.CADirURL = srv.URL + "/acme/server/directory"
		// In process, as the admin API is measured: the server's work and
		// the client's (JWS, CSR), no TLS handshakes between them.
		cfg.HTTPClient = &http.Client{Transport: inProcess{svc}}
		// lego spaces its authorization requests by 1s/limit (55 ms by
		// default): a client-side pause, not the server's time.
		cfg.Certificate.OverallRequestLimit = 1000
		c, err := lego.NewClient(cfg)
		if err != nil {
			b.Fatal(err)
		}
		return c
	}
	for i := range legoClients {
		k, err := svc.CreateEAB(ctx, walker, dossier, nil)
		if err != nil {
			b.Fatal(err)
		}
		u := &benchUser{key: keysFor()}
		c := newClient(u)
		if u.reg, err = c.Registration.RegisterWithExternalAccountBinding(ctx, legoreg.RegisterEABOptions{TermsOfServiceAgreed: true,
			Kid: k.KID, HmacEncoded: k.HMACKey}); err != nil {
			b.Fatal(err)
		}
		c = newClient(u)
		if err := c.Challenge.SetHTTP01Provider(http01.NewProviderServer("127.0.0.1", fmt.Sprint(httpPort))); err != nil {
			b.Fatal(err)
		}
		if _, err := c.Certificate.Obtain(ctx, certificate.ObtainRequest{Domains: []string{"www.sceau-test.fr"}, KeyType: certcrypto.EC256}); err != nil {
			b.Fatal(err)
		}
		legoClients[i] = c
	}

	n := b.N
	csrs := make([]string, n)
	certKeys := make([]crypto.Signer, n)
	for i := range csrs {
		certKeys[i] = sceautest.NewKey(b, keys.ECDSAP256)
		der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "www.sceau-test.fr"},
			DNSNames: []string{"www.sceau-test.fr"}}, certKeys[i])
		if err != nil {
			b.Fatal(err)
		}
		csrs[i] = csrPEM(der)
	}
	plainOne := func(_, i int) error {
		r := httptest.NewRequest("POST", "/api/v1/certificates", strings.NewReader(fmt.Sprintf(`{"ca":"issuing","profile":"server","csr":%q}`, csrs[i])))
		r.TLS = tlsState
		w := httptest.NewRecorder()
		adm.ServeHTTP(w, r)
		if w.Code != 201 {
			return fmt.Errorf("admin issuance: %d %s", w.Code, w.Body)
		}
		return nil
	}
	acmeOne := func(w, i int) error {
		_, err := legoClients[w].Certificate.Obtain(ctx, certificate.ObtainRequest{Domains: []string{"www.sceau-test.fr"},
			PrivateKey: certKeys[i], Bundle: true})
		return err
	}
	run := func(one func(w, i int) error) func(from, to int) time.Duration {
		return func(from, to int) time.Duration { return inFlight(b, clients, from, to, one) }
	}
	alternated(b, 4, "csr", run(plainOne), "acme", run(acmeOne))
}
