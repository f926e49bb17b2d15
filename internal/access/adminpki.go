package access

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/sceau/sceau/internal/keys"
	"github.com/sceau/sceau/internal/safefile"
	"github.com/sceau/sceau/internal/sceau"
)

// KeyStore is what the admin PKI needs of package keys: its CA key and the
// listener's key stay in the keystore.
type KeyStore interface {
	Generate(label string, t keys.Type) (crypto.Signer, error)
	Signer(label string) (crypto.Signer, error)
}

// File names in the admin directory.
const (
	AdminCAFile     = "admin-ca.pem"
	ServerCertFile  = "server.pem"
	OperatorCert    = "operator.pem"
	OperatorKeyFile = "operator-key.pem"

	adminCAKey   = "admin-ca"
	serverTLSKey = "admin-tls"
)

// CreateAdminPKI makes the admin CA, the listener certificate for hosts and
// a first operator client certificate named operator (CN), in dir. The
// operator's key is written to dir as PEM, mode 0600: it is that person's
// credential. Existing files are never overwritten.
func CreateAdminPKI(dir string, ks KeyStore, hosts []string, operator string, clock sceau.Clock) error {
	const op = "access: create admin PKI"
	clock = sceau.ClockOr(clock)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return sceau.E(sceau.Unavailable, op, "cannot create "+dir, err)
	}
	if _, err := os.Stat(filepath.Join(dir, AdminCAFile)); err == nil {
		return sceau.Errorf(sceau.Conflict, op, "an admin PKI exists already in %s", dir)
	}
	now := clock.Now().UTC().Truncate(time.Second)
	caKey, err := ks.Generate(adminCAKey, keys.ECDSAP256)
	if err != nil {
		return err
	}
	caTmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: "Sceau administration CA", Organization: []string{"Sceau"}},
		NotBefore:             now.Add(-time.Minute),
		NotAfter:              now.AddDate(10, 0, 0),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, caKey.Public(), caKey)
	if err != nil {
		return sceau.E(sceau.Internal, op, "", err)
	}
	caCert, _ := x509.ParseCertificate(caDER)

	srvKey, err := ks.Generate(serverTLSKey, keys.ECDSAP256)
	if err != nil {
		return err
	}
	srvDER, err := listenerCert(caCert, caKey, srvKey.Public(), "Sceau administration listener", hosts, now)
	if err != nil {
		return sceau.E(sceau.Internal, op, "", err)
	}
	if err := writePEM(filepath.Join(dir, AdminCAFile), "CERTIFICATE", caDER, 0o644); err != nil {
		return sceau.E(sceau.Unavailable, op, "", err)
	}
	if err := writePEM(filepath.Join(dir, ServerCertFile), "CERTIFICATE", srvDER, 0o644); err != nil {
		return sceau.E(sceau.Unavailable, op, "", err)
	}
	return IssueOperatorCert(dir, ks, operator, clock)
}

// IssueOperatorCert issues a client certificate for the named operator with
// the admin CA and writes it with its key to dir (operator.pem and
// operator-key.pem for the first; name.pem and name-key.pem otherwise).
func IssueOperatorCert(dir string, ks KeyStore, name string, clock sceau.Clock) error {
	const op = "access: issue operator certificate"
	clock = sceau.ClockOr(clock)
	caCert, err := readCert(filepath.Join(dir, AdminCAFile))
	if err != nil {
		return sceau.E(sceau.NotFound, op, "no admin CA in "+dir, err)
	}
	caKey, err := ks.Signer(adminCAKey)
	if err != nil {
		return err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return sceau.E(sceau.Internal, op, "", err)
	}
	now := clock.Now().UTC().Truncate(time.Second)
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: name, OrganizationalUnit: []string{"operators"}},
		NotBefore:    now.Add(-time.Minute),
		NotAfter:     now.AddDate(1, 0, 0),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, key.Public(), caKey)
	if err != nil {
		return sceau.E(sceau.Unavailable, op, "the admin CA cannot sign", err)
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return sceau.E(sceau.Internal, op, "", err)
	}
	certFile, keyFile := OperatorCert, OperatorKeyFile
	if name != "operator" {
		certFile, keyFile = name+".pem", name+"-key.pem"
	}
	if err := writePEM(filepath.Join(dir, keyFile), "PRIVATE KEY", pkcs8, 0o600); err != nil {
		return sceau.E(sceau.Conflict, op, "", err)
	}
	if err := writePEM(filepath.Join(dir, certFile), "CERTIFICATE", der, 0o644); err != nil {
		return sceau.E(sceau.Conflict, op, "", err)
	}
	return nil
}

// ServerTLS is the admin listener's configuration: TLS 1.3 only, and a
// client certificate from the admin CA is required (SYS-2).
func ServerTLS(dir string, ks KeyStore) (*tls.Config, error) {
	const op = "access: admin TLS"
	caCert, err := readCert(filepath.Join(dir, AdminCAFile))
	if err != nil {
		return nil, sceau.E(sceau.NotFound, op, "no admin CA in "+dir+": run `sceau init`", err)
	}
	srv, err := readCert(filepath.Join(dir, ServerCertFile))
	if err != nil {
		return nil, sceau.E(sceau.NotFound, op, "no listener certificate in "+dir, err)
	}
	key, err := ks.Signer(serverTLSKey)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	pool.AddCert(caCert)
	return &tls.Config{
		MinVersion:   tls.VersionTLS13,
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    pool,
		Certificates: []tls.Certificate{{Certificate: [][]byte{srv.Raw, caCert.Raw}, PrivateKey: key, Leaf: srv}},
	}, nil
}

// ClientTLS is what the CLI presents to the admin listener: the client
// certificate certFile and its key keyFile (relative to dir unless
// absolute: the operator's, or a person's own, ROLE-4), trusting only the
// admin CA of dir.
func ClientTLS(dir, certFile, keyFile string) (*tls.Config, error) {
	const op = "access: client TLS"
	caCert, err := readCert(filepath.Join(dir, AdminCAFile))
	if err != nil {
		return nil, sceau.E(sceau.NotFound, op, "no admin CA in "+dir, err)
	}
	if !filepath.IsAbs(certFile) {
		certFile = filepath.Join(dir, certFile)
	}
	if !filepath.IsAbs(keyFile) {
		keyFile = filepath.Join(dir, keyFile)
	}
	pair, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, sceau.E(sceau.NotFound, op, "cannot read the client credentials "+certFile+" and "+keyFile, err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(caCert)
	return &tls.Config{MinVersion: tls.VersionTLS13, RootCAs: pool, Certificates: []tls.Certificate{pair}}, nil
}

// ActorFromTLS names the authenticated operator of a verified connection.
func ActorFromTLS(cs *tls.ConnectionState) (sceau.Actor, error) {
	if cs == nil || len(cs.VerifiedChains) == 0 || len(cs.VerifiedChains[0]) == 0 {
		return sceau.Actor{}, sceau.Errorf(sceau.Denied, "access", "a client certificate from the admin CA is required")
	}
	leaf := cs.VerifiedChains[0][0]
	return sceau.Actor{ID: "cert:" + leaf.Subject.CommonName, Role: "operator"}, nil
}

// listenerCert is a two-year TLS server certificate from the admin CA for
// hosts (DNS names or IP addresses).
func listenerCert(caCert *x509.Certificate, caKey crypto.Signer, pub crypto.PublicKey, cn string, hosts []string, now time.Time) ([]byte, error) {
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    now.Add(-time.Minute),
		NotAfter:     now.AddDate(2, 0, 0),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	return x509.CreateCertificate(rand.Reader, tmpl, caCert, pub, caKey)
}

func serial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 126))
	if err != nil {
		panic("access: crypto/rand failed")
	}
	return n.Add(n, big.NewInt(1))
}

func writePEM(path, typ string, der []byte, mode os.FileMode) error {
	return safefile.WriteNew(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), mode)
}

func readCert(path string) (*x509.Certificate, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != "CERTIFICATE" {
		return nil, fmt.Errorf("%s holds no PEM certificate", path)
	}
	return x509.ParseCertificate(blk.Bytes)
}

// AdminCA is the admin CA's certificate and key, to issue personal admin
// client certificates (ROLE-4). The key stays in the keystore: Key is its
// crypto.Signer.
type AdminCA struct {
	Cert *x509.Certificate
	Key  crypto.Signer
}

// LoadAdminCA returns the admin CA of dir, its key from ks.
func LoadAdminCA(dir string, ks KeyStore) (*AdminCA, error) {
	const op = "access: admin CA"
	caCert, err := readCert(filepath.Join(dir, AdminCAFile))
	if err != nil {
		return nil, sceau.E(sceau.NotFound, op, "no admin CA in "+dir, err)
	}
	key, err := ks.Signer(adminCAKey)
	if err != nil {
		return nil, err
	}
	return &AdminCA{Cert: caCert, Key: key}, nil
}

// issuePersonal signs a client certificate for account's public key: CN
// the account, OU "people", client authentication only.
func (a *AdminCA) issuePersonal(account string, pub crypto.PublicKey, notBefore, notAfter time.Time) (*x509.Certificate, error) {
	const op = "access: issue personal certificate"
	if notAfter.After(a.Cert.NotAfter) {
		notAfter = a.Cert.NotAfter // no certificate outlives its issuer
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: account, OrganizationalUnit: []string{"people"}},
		NotBefore:    notBefore.Add(-time.Minute),
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, a.Cert, pub, a.Key)
	if err != nil {
		return nil, sceau.E(sceau.Unavailable, op, "the admin CA cannot sign", err)
	}
	return x509.ParseCertificate(der)
}

// serialHex is how a certificate serial is written in the store and the
// CLI: lower-case hex.
func serialHex(c *x509.Certificate) string { return fmt.Sprintf("%x", c.SerialNumber) }
