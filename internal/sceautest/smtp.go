package sceautest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"math/big"
	"net"
	"sync"
	"testing"
	"time"

	gosmtp "github.com/emersion/go-smtp"
)

// SMTPMail is one message the test relay accepted.
type SMTPMail struct {
	From string
	To   []string
	Data string
}

// SMTPRelay is a real SMTP server (go-smtp) on 127.0.0.1: it keeps what
// it accepts, and refuses recipients (451) while Refuse's count lasts.
type SMTPRelay struct {
	Addr  string
	Roots *x509.CertPool // verify its certificate, when it offers STARTTLS

	mu         sync.Mutex
	received   []SMTPMail
	refuse     int
	refused    int
	refuseData int
}

// Received is what the relay accepted, in order.
func (r *SMTPRelay) Received() []SMTPMail {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]SMTPMail(nil), r.received...)
}

// RefuseData makes the relay refuse the next n messages after their data
// (554, a permanent refusal).
func (r *SMTPRelay) RefuseData(n int) {
	r.mu.Lock()
	r.refuseData = n
	r.mu.Unlock()
}

// Refuse makes the relay refuse the next n recipients.
func (r *SMTPRelay) Refuse(n int) {
	r.mu.Lock()
	r.refuse = n
	r.mu.Unlock()
}

type relaySession struct {
	r    *SMTPRelay
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
	if s.r.refuseData > 0 {
		s.r.refuseData--
		s.r.mu.Unlock()
		return &gosmtp.SMTPError{Code: 554, EnhancedCode: gosmtp.EnhancedCode{5, 7, 1}, Message: "message refused by policy"}
	}
	s.r.received = append(s.r.received, SMTPMail{From: s.from, To: s.to, Data: string(b)})
	s.r.mu.Unlock()
	return nil
}

// StartSMTPRelay starts a relay, stopped when the test ends; withTLS: it
// offers STARTTLS with a certificate for 127.0.0.1 that Roots verifies.
func StartSMTPRelay(t testing.TB, withTLS bool) *SMTPRelay {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &SMTPRelay{}
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

func selfSigned(t testing.TB) (tls.Certificate, *x509.CertPool) {
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
