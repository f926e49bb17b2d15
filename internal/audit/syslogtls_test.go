package audit_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/sceau/sceau/internal/audit"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/sceautest"
)

// tlsCollector is an RFC 5425 collector on 127.0.0.1 with a certificate
// issued by a CA of its own; it returns the address, the CA, and the
// messages it receives.
func tlsCollector(t *testing.T) (string, *x509.Certificate, <-chan string) {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "collector test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, caKey.Public(), caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, _ := x509.ParseCertificate(caDER)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "collector"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, key.Public(), caKey)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}})
	if err != nil {
		t.Fatal(err)
	}
	return ln.Addr().String(), caCert, sceautest.CollectSyslog(t, ln).C()
}

// AUD-5: the journal goes to a collector over TLS (RFC 5425), which the
// forwarder authenticates with the configured CA; a collector whose
// certificate does not verify receives nothing, and the cursor stays.
func TestAUD5_SyslogOverTLSVerifiesTheCollector(t *testing.T) {
	ctx := t.Context()
	db := sceautest.OpenSQLite(t)
	j := audit.NewJournal(nil)
	addr, ca, msgs := tlsCollector(t)
	appendN(t, db, j, 3, testActor, audit.ActionCertificateIssued, "certificate:1")

	// Another CA: the handshake fails, nothing is sent.
	wrongRoots := x509.NewCertPool()
	wrongRoots.AddCert(ca)
	otherAddr, _, otherMsgs := tlsCollector(t)
	fw, err := audit.NewForwarder(db, audit.SyslogOptions{Network: "tls", Address: otherAddr, Hostname: "ca-node-1",
		TLS: &tls.Config{RootCAs: wrongRoots}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := fw.Forward(ctx); err == nil || n != 0 || sceau.KindOf(err) != sceau.Unavailable {
		t.Fatalf("Forward to a collector with an unknown certificate = %d, %v; want 0, unavailable", n, err)
	}
	select {
	case m := <-otherMsgs:
		t.Fatalf("the unverified collector received %q", m)
	case <-time.After(100 * time.Millisecond):
	}
	if _, err := audit.NewForwarder(db, audit.SyslogOptions{Network: "tls", Address: addr, TLS: &tls.Config{InsecureSkipVerify: true}}, nil); err == nil {
		t.Error("a forwarder without verification was accepted")
	}

	roots := x509.NewCertPool()
	roots.AddCert(ca)
	fw, err = audit.NewForwarder(db, audit.SyslogOptions{Network: "tls", Address: addr, Hostname: "ca-node-1",
		TLS: &tls.Config{RootCAs: roots}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer fw.Close()
	if n, err := fw.Forward(ctx); err != nil || n != 3 {
		t.Fatalf("Forward = %d, %v; want 3", n, err)
	}
	for i := 1; i <= 3; i++ {
		select {
		case m := <-msgs:
			g := rfc5424.FindStringSubmatch(m)
			if g == nil || g[7] != strconv.Itoa(i) || g[3] != "ca-node-1" {
				t.Errorf("message %d is not the RFC 5424 form of event %d: %q", i, i, m)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("message %d never arrived", i)
		}
	}
}
