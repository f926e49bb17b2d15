package main

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"filippo.io/age"
	legoacme "github.com/go-acme/lego/v5/acme"
	"github.com/go-acme/lego/v5/certcrypto"
	"github.com/go-acme/lego/v5/certificate"
	"github.com/go-acme/lego/v5/challenge/http01"
	"github.com/go-acme/lego/v5/lego"
	legolog "github.com/go-acme/lego/v5/log"
	legoreg "github.com/go-acme/lego/v5/registration"
	"github.com/miekg/dns"

	"github.com/sceau/sceau/internal/access"
	"github.com/sceau/sceau/internal/node"
)

type acmeUser struct {
	reg *legoacme.ExtendedAccount
	key crypto.Signer
}

func (u *acmeUser) GetEmail() string                           { return "web@sceau-test.fr" }
func (u *acmeUser) GetRegistration() *legoacme.ExtendedAccount { return u.reg }
func (u *acmeUser) GetPrivateKey() crypto.Signer               { return u.key }

// loopbackDNS answers 127.0.0.1 for every name, on a UDP port of its own.
func loopbackDNS(t *testing.T) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(r)
		for _, q := range r.Question {
			if q.Qtype == dns.TypeA {
				m.Answer = append(m.Answer, &dns.A{Hdr: dns.RR_Header{Name: q.Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 1},
					A: net.IPv4(127, 0, 0, 1)})
			}
		}
		_ = w.WriteMsg(m)
	})}
	go func() { _ = srv.ActivateAndServe() }()
	t.Cleanup(func() { _ = srv.Shutdown() })
	return pc.LocalAddr().String()
}

// demoWithEnroll is demoPeople with the enrollment listener on enroll
// (the demo's default, 127.0.0.1:8444, may be taken by another run).
func demoWithEnroll(t *testing.T, enroll string, edit func(yaml string) string) (tmp, pub string, c cli, creds map[string]access.Credentials) {
	t.Helper()
	tmp = t.TempDir()
	dir := filepath.Join(tmp, "demo")
	pub = freeAddr(t)
	(cli{t: t}).ok("demo", "--exit", "--dir", dir, "--public", pub, "--admin", freeAddr(t), "--enroll", enroll)
	var list []access.Credentials
	b, err := os.ReadFile(filepath.Join(dir, "demo-credentials.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &list); err != nil {
		t.Fatal(err)
	}
	creds = map[string]access.Credentials{}
	for _, cr := range list {
		creds[cr.Account] = cr
	}
	c = cli{t: t, config: filepath.Join(dir, "sceau.yaml")}
	b, err = os.ReadFile(c.config)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(c.config, []byte(edit(string(b))), 0o600); err != nil {
		t.Fatal(err)
	}
	return tmp, pub, c, creds
}

var eabLine = regexp.MustCompile(`(?m)^\s+kid:\s+(\S+)\n\s+hmac key:\s+(\S+)`)

// TestCA4_ACMEFromTheCommandLine, on the demo: an officer enters a website
// dossier, a second validates it, the first makes its EAB key with
// 'sceau acme eab create'; lego registers with it on the enrollment
// listener of the running server, obtains a certificate by http-01, and
// after 'sceau acme eab revoke' orders nothing more.
func TestCA4_ACMEFromTheCommandLine(t *testing.T) {
	legolog.SetDefault(slog.New(slog.NewTextHandler(io.Discard, nil)))
	enroll, resolver := freeAddr(t), loopbackDNS(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	httpPort := l.Addr().(*net.TCPAddr).Port
	l.Close()
	id, _ := age.GenerateX25519Identity()
	tmp, pub, c, creds := demoWithEnroll(t, enroll, func(y string) string {
		y = strings.Replace(y, "  recipients: []\n", "  recipients: [\""+id.Recipient().String()+"\"]\n", 1)
		return strings.Replace(y, "  acme:\n", fmt.Sprintf("  acme:\n    resolver: %q\n    http01_port: %d\n", resolver, httpPort), 1)
	})
	startServe(t, c.config, pub)
	shares := node.LayoutOf(mustConfig(t, c.config)).SharesDir("issuing")
	args := []string{"ca", "activate", "issuing"}
	for _, h := range []string{"alice", "bob", "carol"} {
		pin, _ := node.DemoPIN("issuing", h)
		pinFile := filepath.Join(tmp, h+".pin")
		if err := os.WriteFile(pinFile, append(pin, '\n'), 0o600); err != nil {
			t.Fatal(err)
		}
		args = append(args, "--share", h+"="+filepath.Join(shares, h+".share"), "--pin-file", h+"="+pinFile)
	}
	c.ok(args...)
	ra1 := demoAt(t, c, tmp, creds, "registrar")
	ra2 := demoAt(t, c, tmp, creds, "registrar2")
	write := func(name, content string) string {
		p := filepath.Join(tmp, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	r := ra1.ok("dossier", "create", write("web.json", `{"kind":"device","ca":"issuing","profile":"server",
		"subject":{"dns_names":["www.sceau-test.fr","api.sceau-test.fr"]},"contact":{"name":"Web team","email":"web@sceau-test.fr"}}`))
	m := dossierNumber.FindStringSubmatch(r.stdout)
	if m == nil {
		t.Fatalf("create: %s", r.stdout)
	}
	dossier := m[1]
	ra1.ok("dossier", "evidence", "add", dossier, "--type", "domain_control", "--number", "WHOIS-2026-1", "--country", "FR",
		"--expires", "2035-01-01", "--method", "face_to_face", "--scan", write("whois.pdf", "%PDF-1.4\n%%EOF\n"))
	var cguID, cguSum string
	for _, line := range strings.Split(ra1.ok("publication", "list").stdout, "\n") {
		if f := strings.Fields(line); len(f) > 1 && strings.HasPrefix(f[0], "cgu/") && strings.HasSuffix(f[0], "/fr") {
			cguID, cguSum = f[0], f[len(f)-1]
		}
	}
	ra1.ok("dossier", "accept-cgu", dossier, "--document", cguID, "--sha256", cguSum, "--how", "handwritten",
		"--proof", write("cgu.pdf", "%PDF-1.4\n% CGU\n%%EOF\n"))
	ra1.ok("dossier", "submit", dossier)
	if r := ra1.run("acme", "eab", "create", "--dossier", dossier); r.code == 0 {
		t.Fatalf("an EAB key for a dossier not validated: %s", r.stdout)
	}
	ra2.ok("dossier", "validate", dossier, "--yes")
	r = ra1.ok("acme", "eab", "create", "--dossier", dossier, "--dns", "www.sceau-test.fr")
	km := eabLine.FindStringSubmatch(r.stdout)
	if km == nil {
		t.Fatalf("eab create: %s", r.stdout)
	}
	kid, hmacKey := km[1], km[2]
	if r := ra1.ok("acme", "eab", "list"); !strings.Contains(r.stdout, kid) || strings.Contains(r.stdout, hmacKey) {
		t.Fatalf("eab list: %s", r.stdout)
	}

	// lego on the enrollment listener, trusting the admin CA that issued its certificate.
	caPEM, err := os.ReadFile(filepath.Join(filepath.Dir(c.config), "admin", "admin-ca.pem"))
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(caPEM)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	u := &acmeUser{key: key}
	client := func() *lego.Client {
		cfg := lego.NewConfig(u)
		cfg.CADirURL = "https://" + enroll + "/acme/server/directory"
		cfg.HTTPClient.Transport.(*http.Transport).TLSClientConfig.RootCAs = roots
		cfg.HTTPClient.Timeout = 30 * time.Second
		lc, err := lego.NewClient(cfg)
		if err != nil {
			t.Fatal(err)
		}
		return lc
	}
	ctx := context.Background()
	if u.reg, err = client().Registration.RegisterWithExternalAccountBinding(ctx, legoreg.RegisterEABOptions{TermsOfServiceAgreed: true,
		Kid: kid, HmacEncoded: hmacKey}); err != nil {
		t.Fatalf("register: %v", err)
	}
	lc := client()
	if err := lc.Challenge.SetHTTP01Provider(http01.NewProviderServer("127.0.0.1", fmt.Sprint(httpPort))); err != nil {
		t.Fatal(err)
	}
	res, err := lc.Certificate.Obtain(ctx, certificate.ObtainRequest{Domains: []string{"www.sceau-test.fr"}, KeyType: certcrypto.EC256, Bundle: true})
	if err != nil {
		t.Fatalf("obtain: %v", err)
	}
	certs, err := certcrypto.ParsePEMBundle(res.Certificate)
	if err != nil || len(certs) < 2 || certs[0].DNSNames[0] != "www.sceau-test.fr" {
		t.Fatalf("certificate: %v", err)
	}
	if r := ra1.ok("cert", "show", fmt.Sprintf("%x", certs[0].SerialNumber)); !strings.Contains(r.stdout, "issued") {
		t.Errorf("cert show: %s", r.stdout)
	}
	// A name of the dossier that the EAB key does not allow.
	if _, err := lc.Certificate.Obtain(ctx, certificate.ObtainRequest{Domains: []string{"api.sceau-test.fr"}, KeyType: certcrypto.EC256}); err == nil ||
		!strings.Contains(err.Error(), "rejectedIdentifier") {
		t.Fatalf("a name outside the EAB key: %v", err)
	}
	ra1.ok("acme", "eab", "revoke", kid)
	if _, err := lc.Certificate.Obtain(ctx, certificate.ObtainRequest{Domains: []string{"www.sceau-test.fr"}, KeyType: certcrypto.EC256}); err == nil ||
		!strings.Contains(err.Error(), "unauthorized") {
		t.Fatalf("an order after the EAB key's revocation: %v", err)
	}
}
