package access

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"time"

	"github.com/sceau/sceau/internal/keys"
	"github.com/sceau/sceau/internal/safefile"
	"github.com/sceau/sceau/internal/sceau"
)

// EnrollCertFile is the enrollment listener's certificate when Sceau
// issues it itself, in the admin directory.
const (
	EnrollCertFile = "enroll.pem"
	enrollTLSKey   = "enroll-tls"
)

// EnrollTLS is the enrollment listener's TLS configuration (SYS-2: it is
// neither the read-only public listener nor the admin one, and asks no
// client certificate of holders). With certFile and keyFile it serves that
// chain; otherwise the admin CA of dir issues a certificate for hosts,
// kept in dir and issued again when a host is missing from it or it ends
// within 30 days, its key in ks.
func EnrollTLS(dir string, ks KeyStore, hosts []string, certFile, keyFile string, clock sceau.Clock) (*tls.Config, error) {
	const op = "access: enrollment TLS"
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if certFile != "" {
		pair, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return nil, sceau.E(sceau.Invalid, op, "cannot load enroll.cert_file and enroll.key_file", err)
		}
		cfg.Certificates = []tls.Certificate{pair}
		return cfg, nil
	}
	ca, err := LoadAdminCA(dir, ks)
	if err != nil {
		return nil, err
	}
	key, err := ks.Signer(enrollTLSKey)
	if sceau.KindOf(err) == sceau.NotFound {
		key, err = ks.Generate(enrollTLSKey, keys.ECDSAP256)
	}
	if err != nil {
		return nil, err
	}
	now := sceau.ClockOr(clock).Now().UTC().Truncate(time.Second)
	path := filepath.Join(dir, EnrollCertFile)
	leaf, err := readCert(path)
	if err != nil || !covers(leaf, hosts) || leaf.NotAfter.Before(now.AddDate(0, 0, 30)) || !samePublicKey(leaf, key.Public()) {
		der, err := listenerCert(ca.Cert, ca.Key, key.Public(), "Sceau enrollment listener", hosts, now)
		if err != nil {
			return nil, sceau.E(sceau.Internal, op, "the admin CA cannot sign", err)
		}
		if err := writeOrReplacePEM(path, der); err != nil {
			return nil, sceau.E(sceau.Unavailable, op, "cannot keep "+path, err)
		}
		if leaf, err = x509.ParseCertificate(der); err != nil {
			return nil, sceau.E(sceau.Internal, op, "", err)
		}
	}
	cfg.Certificates = []tls.Certificate{{Certificate: [][]byte{leaf.Raw, ca.Cert.Raw}, PrivateKey: key, Leaf: leaf}}
	return cfg, nil
}

func covers(c *x509.Certificate, hosts []string) bool {
	for _, h := range hosts {
		if c.VerifyHostname(h) != nil {
			return false
		}
	}
	return true
}

// samePublicKey compares encodings: a keystore's signer may hold its
// public key in another Go type than crypto/x509 parses.
func samePublicKey(c *x509.Certificate, pub any) bool {
	der, err := x509.MarshalPKIXPublicKey(pub)
	return err == nil && bytes.Equal(der, c.RawSubjectPublicKeyInfo)
}

func writeOrReplacePEM(path string, der []byte) error {
	if _, err := os.Stat(path); err == nil {
		return safefile.Replace(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
	}
	return writePEM(path, "CERTIFICATE", der, 0o644)
}
