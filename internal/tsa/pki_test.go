package tsa

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
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

// testPolicy is the TSA policy of the tests.
var testPolicy = asn1.ObjectIdentifier{1, 2, 250, 1, 999, 1, 8}

// pki is a throwaway hierarchy: a root (P-384), an intermediate (P-256),
// a time-stamping unit's certificate (timeStamping, critical) and a
// document signing one with the same kind of key, which no unit may use.
type pki struct {
	root, intermediate *x509.Certificate
	unit, notTSA       *x509.Certificate
	unitKey, otherKey  crypto.Signer
}

var (
	pkiOnce sync.Once
	shared  *pki
	serial  int64
	serMu   sync.Mutex
)

func newKey(t testing.TB, c elliptic.Curve) crypto.Signer {
	t.Helper()
	k, err := ecdsa.GenerateKey(c, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func issue(t testing.TB, tmpl, parent *x509.Certificate, pub crypto.PublicKey, parentKey crypto.Signer, from, to time.Time) *x509.Certificate {
	t.Helper()
	serMu.Lock()
	serial++
	tmpl.SerialNumber = big.NewInt(5000 + serial)
	serMu.Unlock()
	tmpl.NotBefore, tmpl.NotAfter = from, to
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

// criticalEKU is the extended key usage extension RFC 3161 §2.3 asks:
// timeStamping alone, critical (x509.CreateCertificate writes it
// non-critical, so the tests give it as an extra extension).
func criticalEKU(t testing.TB, oids ...asn1.ObjectIdentifier) pkix.Extension {
	t.Helper()
	v, err := asn1.Marshal(oids)
	if err != nil {
		t.Fatal(err)
	}
	return pkix.Extension{Id: oidExtKeyUsage, Critical: true, Value: v}
}

var oidTimeStamping = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 3, 8}

// testPKI returns the hierarchy, one per test binary; certificates are
// valid from an hour ago for a day.
func testPKI(t testing.TB) *pki {
	t.Helper()
	pkiOnce.Do(func() { shared = makePKI(t, time.Now().Add(-time.Hour), time.Now().Add(24*time.Hour)) })
	return shared
}

func makePKI(t testing.TB, from, to time.Time) *pki {
	rootKey, interKey := newKey(t, elliptic.P384()), newKey(t, elliptic.P256())
	ca := func(cn string) *x509.Certificate {
		return &x509.Certificate{Subject: pkix.Name{Country: []string{"FR"}, Organization: []string{"Sceau test"}, CommonName: cn},
			KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign, BasicConstraintsValid: true, IsCA: true}
	}
	p := &pki{unitKey: newKey(t, elliptic.P256()), otherKey: newKey(t, elliptic.P256())}
	p.root = issue(t, ca("Sceau test root"), nil, rootKey.Public(), rootKey, from.Add(-time.Hour), to.Add(time.Hour))
	p.intermediate = issue(t, ca("Sceau test issuing CA"), p.root, interKey.Public(), rootKey, from.Add(-time.Hour), to.Add(time.Hour))
	p.unit = issue(t, &x509.Certificate{
		Subject:         pkix.Name{Country: []string{"FR"}, Organization: []string{"Sceau test"}, CommonName: "Sceau test time-stamping unit"},
		KeyUsage:        x509.KeyUsageDigitalSignature,
		ExtraExtensions: []pkix.Extension{criticalEKU(t, oidTimeStamping)},
	}, p.intermediate, p.unitKey.Public(), interKey, from, to)
	p.notTSA = issue(t, &x509.Certificate{
		Subject:     pkix.Name{Country: []string{"FR"}, Organization: []string{"Sceau test"}, CommonName: "Sceau test document signer"},
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageAny},
		ExtraExtensions: []pkix.Extension{criticalEKU(t,
			asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 3, 36})}, // documentSigning (RFC 9336)
	}, p.intermediate, p.otherKey.Public(), interKey, from, to)
	return p
}

func (p *pki) roots() *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AddCert(p.root)
	return pool
}

// newUnit is a unit of p with the options given, filled in.
func (p *pki) newUnit(t testing.TB, o UnitOptions) *Unit {
	t.Helper()
	if o.Signer == nil {
		o.Signer, o.Chain = p.unitKey, []*x509.Certificate{p.unit, p.intermediate}
	}
	if o.Policy == nil {
		o.Policy = testPolicy
	}
	u, err := NewUnit(o)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// writeFiles writes root.pem, chain.pem (the intermediate) and unit.pem.
func (p *pki) writeFiles(t testing.TB, dir string) {
	t.Helper()
	write := func(name string, certs ...*x509.Certificate) {
		var b []byte
		for _, c := range certs {
			b = append(b, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("root.pem", p.root)
	write("chain.pem", p.intermediate)
	write("unit.pem", p.unit, p.intermediate)
}
