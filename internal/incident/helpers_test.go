package incident_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"math/big"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	gosmtp "github.com/emersion/go-smtp"

	"github.com/sceau/sceau/internal/audit"
	"github.com/sceau/sceau/internal/incident"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/store"
)

var (
	so     = sceau.Actor{ID: "so1", Role: "security-officer"}
	anyone = context.Background()
)

// mail is one message the test relay accepted.
type mail struct {
	From string
	To   []string
	Data string
}

// relay is a real SMTP server (go-smtp) on 127.0.0.1: it keeps what it
// accepts, and refuses recipients while refuse is above zero.
type relay struct {
	Addr  string
	Roots *x509.CertPool // verify its certificate, when it offers STARTTLS

	mu       sync.Mutex
	received []mail
	refuse   int
	refused  int
}

func (r *relay) Received() []mail {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]mail(nil), r.received...)
}

func (r *relay) Refuse(n int) {
	r.mu.Lock()
	r.refuse = n
	r.mu.Unlock()
}

type relaySession struct {
	r    *relay
	from string
	to   []string
}

func (s *relaySession) Reset()        { s.from, s.to = "", nil }
func (s *relaySession) Logout() error { return nil }
func (s *relaySession) Mail(from string, _ *gosmtp.MailOptions) error {
	s.from = from
	return nil
}

func (s *relaySession) Rcpt(to string, _ *gosmtp.RcptOptions) error {
	s.r.mu.Lock()
	defer s.r.mu.Unlock()
	if s.r.refuse > 0 {
		s.r.refuse--
		s.r.refused++
		return &gosmtp.SMTPError{Code: 451, EnhancedCode: gosmtp.EnhancedCode{4, 3, 0}, Message: "mailbox temporarily unavailable"}
	}
	s.to = append(s.to, to)
	return nil
}

func (s *relaySession) Data(rd io.Reader) error {
	b, err := io.ReadAll(rd)
	if err != nil {
		return err
	}
	s.r.mu.Lock()
	s.r.received = append(s.r.received, mail{From: s.from, To: s.to, Data: string(b)})
	s.r.mu.Unlock()
	return nil
}

// startRelay starts the relay; withTLS: it offers STARTTLS with a
// certificate for 127.0.0.1 that Roots verifies.
func startRelay(t *testing.T, withTLS bool) *relay {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &relay{}
	r.Addr = ln.Addr().String()
	srv := gosmtp.NewServer(gosmtp.BackendFunc(func(*gosmtp.Conn) (gosmtp.Session, error) { return &relaySession{r: r}, nil }))
	srv.Domain = "relay.test"
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	if withTLS {
		cert, roots := selfSigned(t)
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}}
		r.Roots = roots
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return r
}

func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "relay.test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(c)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, pool
}

// mailer is an SMTP sender to r.
func mailer(t *testing.T, r *relay) *incident.SMTP {
	t.Helper()
	o := incident.SMTPOptions{Addr: r.Addr, From: "sceau@ca.example.org", TLS: incident.SMTPNone, Timeout: 5 * time.Second}
	if r.Roots != nil {
		o.TLS, o.TLSConfig = incident.SMTPStartTLS, &tls.Config{RootCAs: r.Roots}
	}
	s, err := incident.NewSMTP(o)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func officers(addrs ...string) []incident.Recipient {
	var out []incident.Recipient
	for _, a := range addrs {
		out = append(out, incident.Recipient{Channel: "smtp", To: a, Who: "security-officer"})
	}
	return out
}

func events(t *testing.T, db *store.DB, action string) []audit.Record {
	t.Helper()
	page, err := audit.Search(anyone, db, audit.Filter{Action: action, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	return page.Events
}

func expectEvent(t *testing.T, db *store.DB, action, want string) {
	t.Helper()
	for _, r := range events(t, db, action) {
		if strings.Contains(r.Details, want) || strings.Contains(r.Object, want) {
			return
		}
	}
	t.Errorf("no %s event with %s in the journal", action, want)
}

func journalLength(t *testing.T, db *store.DB) int {
	t.Helper()
	recs, err := audit.Read(anyone, db, 0, 100000)
	if err != nil {
		t.Fatal(err)
	}
	return len(recs)
}
