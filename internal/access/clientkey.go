package access

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"

	"github.com/sceau/sceau/internal/safefile"
	"github.com/sceau/sceau/internal/sceau"
)

// PersonalKey is the key of a personal admin client certificate, made on
// the person's machine (ROLE-4): only its certificate request crosses the
// API; the key is written once, mode 0600, next to the certificate.
type PersonalKey struct {
	Name string
	key  *ecdsa.PrivateKey
	// CSR is the PEM certificate request to send to the admin CA.
	CSR string
}

// NewPersonalKey makes a P-256 key and its certificate request for the
// account name.
func NewPersonalKey(name string) (*PersonalKey, error) {
	const op = "access: personal key"
	if err := CheckAccountName(name); err != nil {
		return nil, err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, sceau.E(sceau.Internal, op, "", err)
	}
	csr, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: name}}, key)
	if err != nil {
		return nil, sceau.E(sceau.Internal, op, "", err)
	}
	return &PersonalKey{Name: name, key: key, CSR: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: csr}))}, nil
}

// PersonalFiles are where a personal certificate and its key go in a
// directory: NAME.pem, NAME-key.pem, and the admin CA that issued it.
func PersonalFiles(dir, name string) (cert, key, ca string) {
	return filepath.Join(dir, name+".pem"), filepath.Join(dir, name+"-key.pem"), filepath.Join(dir, AdminCAFile)
}

// CheckPersonalFiles refuses a directory that holds the files already:
// they are never overwritten.
func CheckPersonalFiles(dir, name string) error {
	cert, key, _ := PersonalFiles(dir, name)
	for _, p := range []string{cert, key} {
		if _, err := os.Stat(p); err == nil {
			return sceau.Errorf(sceau.Conflict, "access: personal key", "%s exists already: it is never overwritten", p)
		}
	}
	return nil
}

// Write writes the key (0600), the issued certificate and, if the
// directory has none yet, the admin CA certificate; none is overwritten.
func (k *PersonalKey) Write(dir string, ic *IssuedCertificate) error {
	const op = "access: personal key"
	certPath, keyPath, caPath := PersonalFiles(dir, k.Name)
	pkcs8, err := x509.MarshalPKCS8PrivateKey(k.key)
	if err != nil {
		return sceau.E(sceau.Internal, op, "", err)
	}
	defer clear(pkcs8)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return sceau.E(sceau.Unavailable, op, "cannot create "+dir, err)
	}
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8})
	defer clear(keyPEM)
	if err := writeNew(keyPath, keyPEM, 0o600); err != nil {
		return err
	}
	if err := writeNew(certPath, []byte(ic.Certificate), 0o644); err != nil {
		return err
	}
	if _, err := os.Stat(caPath); errors.Is(err, os.ErrNotExist) {
		return writeNew(caPath, []byte(ic.AdminCA), 0o644)
	}
	return nil
}

func writeNew(path string, b []byte, mode os.FileMode) error {
	err := safefile.WriteNew(path, b, mode)
	if errors.Is(err, safefile.ErrExists) {
		return sceau.E(sceau.Conflict, "access: personal key", "cannot create "+path+" (it must not exist)", err)
	}
	if err != nil {
		return sceau.E(sceau.Unavailable, "access: personal key", "cannot write "+path, err)
	}
	return nil
}
