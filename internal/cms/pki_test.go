package cms

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// oidDocumentSigning is id-kp-documentSigning (RFC 9336).
var oidDocumentSigning = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 3, 36}

// keyTypes are the signer keys the tests cover.
var keyTypes = []string{"P-256", "P-384", "RSA-2048", "Ed25519"}

var (
	keysMu sync.Mutex
	keys   = map[string]crypto.Signer{}
)

// testKey returns a key of type kind, one per name and test binary (RSA
// keys are slow to make under -race).
func testKey(t testing.TB, kind, name string) crypto.Signer {
	t.Helper()
	keysMu.Lock()
	defer keysMu.Unlock()
	if k, ok := keys[kind+"/"+name]; ok {
		return k
	}
	var k crypto.Signer
	var err error
	switch kind {
	case "P-256":
		k, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case "P-384":
		k, err = ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	case "RSA-2048":
		k, err = rsa.GenerateKey(rand.Reader, 2048)
	case "Ed25519":
		_, k, err = ed25519.GenerateKey(rand.Reader)
	default:
		t.Fatalf("unknown key type %q", kind)
	}
	if err != nil {
		t.Fatal(err)
	}
	keys[kind+"/"+name] = k
	return k
}

// pki is a throwaway hierarchy: a root, an intermediate, and a document
// signing certificate with its key.
type pki struct {
	root, intermediate, cert *x509.Certificate
	key                      crypto.Signer
}

var serial int64

func issue(t testing.TB, tmpl, parent *x509.Certificate, pub crypto.PublicKey, parentKey crypto.Signer) *x509.Certificate {
	t.Helper()
	keysMu.Lock()
	serial++
	tmpl.SerialNumber = big.NewInt(1000 + serial)
	keysMu.Unlock()
	tmpl.NotBefore = time.Now().Add(-time.Hour)
	tmpl.NotAfter = time.Now().Add(24 * time.Hour)
	if parent == nil {
		parent = tmpl
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, parentKey)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// newPKI returns a root (P-384) → intermediate (P-256) → signer (kind)
// hierarchy; the signer's certificate carries id-kp-documentSigning.
func newPKI(t testing.TB, kind string) *pki {
	t.Helper()
	rootKey := testKey(t, "P-384", "root")
	interKey := testKey(t, "P-256", "intermediate")
	ca := func(cn string) *x509.Certificate {
		return &x509.Certificate{
			Subject:               pkix.Name{Country: []string{"FR"}, Organization: []string{"Sceau test"}, CommonName: cn},
			KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
			BasicConstraintsValid: true, IsCA: true,
		}
	}
	p := &pki{key: testKey(t, kind, "signer")}
	p.root = issue(t, ca("Sceau test root"), nil, rootKey.Public(), rootKey)
	p.intermediate = issue(t, ca("Sceau test publication CA"), p.root, interKey.Public(), rootKey)
	spki, err := x509.MarshalPKIXPublicKey(p.key.Public())
	if err != nil {
		t.Fatal(err)
	}
	keyID := sha256.Sum256(spki)
	p.cert = issue(t, &x509.Certificate{
		SubjectKeyId:       keyID[:20], // CreateCertificate makes one for CAs only; openssl -keyid needs it
		Subject:            pkix.Name{Country: []string{"FR"}, Organization: []string{"Sceau test"}, CommonName: "Sceau publication " + kind},
		KeyUsage:           x509.KeyUsageDigitalSignature,
		UnknownExtKeyUsage: []asn1.ObjectIdentifier{oidDocumentSigning},
	}, p.intermediate, p.key.Public(), interKey)
	return p
}

// sign is SignDetached with p's key and chain, failing the test on error.
func (p *pki) sign(t testing.TB, content []byte, at time.Time) []byte {
	t.Helper()
	der, err := SignDetached(content, p.key, p.cert, []*x509.Certificate{p.intermediate}, at)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// writeFiles writes root.pem, cert.pem, key.pem (PKCS#8) and chain.pem
// (the intermediate) into dir.
func (p *pki) writeFiles(t testing.TB, dir string) {
	t.Helper()
	pkcs8, err := x509.MarshalPKCS8PrivateKey(p.key)
	if err != nil {
		t.Fatal(err)
	}
	write := func(name, typ string, der []byte) {
		if err := os.WriteFile(filepath.Join(dir, name), pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("root.pem", "CERTIFICATE", p.root.Raw)
	write("cert.pem", "CERTIFICATE", p.cert.Raw)
	write("chain.pem", "CERTIFICATE", p.intermediate.Raw)
	write("key.pem", "PRIVATE KEY", pkcs8)
}
