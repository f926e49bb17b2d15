// Package demo is what `sceau demo` does once the demo installation serves:
// it activates the CA keys with the demo share holders and makes the sample
// certificates, through the admin API as real holders and subscribers
// would, so that the demo shows the same paths production takes.
package demo

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strings"

	"github.com/sceau/sceau/internal/adminapi"
	"github.com/sceau/sceau/internal/config"
	"github.com/sceau/sceau/internal/node"
	"github.com/sceau/sceau/internal/quorum"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/server"
)

const op = "demo"

// Activation says which demo holders activated a CA's key, and their PINs
// (demo PINs, printed so that the visitor can do it again).
type Activation struct {
	CA            string
	Holders, PINs []string
}

// Activate activates every CA with an m-of-n policy with its first m demo
// holders (KEY-2), presenting their share files and demo PINs through the
// admin API. A CA already active is listed and left as it is.
func Activate(ctx context.Context, cfg *config.Config, c *adminapi.Client) ([]Activation, error) {
	var out []Activation
	for _, spec := range cfg.CAs {
		if spec.Activation == nil {
			continue
		}
		st, err := c.ActivationStatus(ctx, spec.ID)
		if err != nil {
			return nil, err
		}
		a := Activation{CA: spec.ID}
		holders := spec.Activation.Holders[:spec.Activation.Threshold]
		for _, h := range holders {
			pin, _ := node.DemoPIN(spec.ID, h)
			a.Holders, a.PINs = append(a.Holders, h), append(a.PINs, string(pin))
		}
		out = append(out, a)
		if st.Activated {
			continue
		}
		p, err := c.BeginActivation(ctx, spec.ID)
		if err != nil {
			return nil, err
		}
		session := c.Activation(spec.ID, p.ID)
		for _, h := range holders {
			share, err := os.ReadFile(filepath.Join(node.LayoutOf(cfg).SharesDir(spec.ID), h+".share"))
			if err != nil {
				return nil, sceau.E(sceau.NotFound, op, "the demo share of "+h, err)
			}
			pin, _ := node.DemoPIN(spec.ID, h)
			if p, err = quorum.PresentShare(ctx, session, sceau.CAKeyLabel(spec.ID), quorum.HolderShare{Holder: h, File: share}, pin); err != nil {
				return nil, err
			}
		}
		if !p.Activated {
			return nil, sceau.Errorf(sceau.Internal, op, "CA %s was not activated by %d shares", spec.ID, len(holders))
		}
	}
	return out, nil
}

// Samples are the files of the sample certificates in a directory.
type Samples struct {
	Dir    string
	Serial string // of the sample server certificate
}

// Path is the path of a sample file: localhost.pem, root-ca.pem, …
func (s *Samples) Path(name string) string { return filepath.Join(s.Dir, name) }

// MakeSamples writes, once, into dir: the CA certificates and their chain,
// a server certificate for localhost whose key the demo makes as the
// subscriber would (never the CA), and a PKCS#12 for a person whose key the
// CA makes. Run again, it reads what is there.
func MakeSamples(ctx context.Context, c *adminapi.Client, dir string) (*Samples, error) {
	s := &Samples{Dir: dir}
	if b, err := os.ReadFile(s.Path("localhost.serial")); err == nil {
		s.Serial = strings.TrimSpace(string(b))
		return s, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, sceau.E(sceau.Unavailable, op, "cannot read the samples", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, sceau.E(sceau.Unavailable, op, "cannot create "+dir, err)
	}
	cas, err := c.CAs(ctx)
	if err != nil {
		return nil, err
	}
	var chain strings.Builder
	files := map[string][]byte{}
	for i := len(cas) - 1; i >= 0; i-- {
		info, err := c.CA(ctx, cas[i].ID)
		if err != nil {
			return nil, err
		}
		files[info.ID+"-ca.pem"] = []byte(info.PEM)
		chain.WriteString(info.PEM)
	}
	files["ca-chain.pem"] = []byte(chain.String())

	localKey, localCSR, err := subscriberCSR(pkix.Name{CommonName: "localhost", Organization: []string{"Sceau Demo"}, Country: []string{"FR"}}, "localhost")
	if err != nil {
		return nil, err
	}
	// localhost is an internal name: the public TLS profile "server" refuses it.
	resp, err := c.Issue(ctx, server.IssueRequest{CA: "issuing", Profile: "internal-server", CSR: localCSR})
	if err != nil {
		return nil, err
	}
	files["localhost-key.pem"] = localKey
	files["localhost.pem"] = []byte(resp.Certificate)
	// A qualified website certificate (EN 319 412-4), its key made by the
	// subscriber as for localhost: a public name, an OV subject.
	webKey, webCSR, err := subscriberCSR(pkix.Name{CommonName: "qwac.example.org", Organization: []string{"Sceau Demo"},
		Locality: []string{"Paris"}, Country: []string{"FR"}}, "qwac.example.org")
	if err != nil {
		return nil, err
	}
	web, err := c.Issue(ctx, server.IssueRequest{CA: "issuing", Profile: "qualified-website", CSR: webCSR})
	if err != nil {
		return nil, err
	}
	files["qualified-website-key.pem"], files["qualified-website.pem"] = webKey, []byte(web.Certificate)

	p12, err := c.IssuePKCS12(ctx, server.PKCS12Request{CA: "issuing", Profile: "person", KeyType: "ecdsa-p256",
		Subject: server.Subject{CommonName: "Marie Demo", GivenName: "Marie", Surname: "Demo", Country: "FR"}, Emails: []string{"marie@example.org"}})
	if err != nil {
		return nil, err
	}
	pfx, err := base64.StdEncoding.DecodeString(p12.PKCS12)
	if err != nil {
		return nil, sceau.E(sceau.Internal, op, "the PKCS#12 in the answer is not base64", err)
	}
	files["marie.p12"] = pfx
	files["marie.p12.pass"] = []byte(p12.Password + "\n")
	// One certificate of each eIDAS profile (EN 319 412-2, -3, -5), the
	// keys made by the CA and delivered in PKCS#12 files.
	for _, q := range []struct {
		name string
		req  server.PKCS12Request
	}{
		{"qualified-person", server.PKCS12Request{CA: "issuing", Profile: "qualified-person", KeyType: "ecdsa-p256",
			Subject: server.Subject{CommonName: "Marie Demo", GivenName: "Marie", Surname: "Demo", SerialNumber: "IDCFR-DEMO00001", Country: "FR"}}},
		{"qualified-seal", server.PKCS12Request{CA: "issuing", Profile: "qualified-seal", KeyType: "ecdsa-p256",
			Subject: server.Subject{CommonName: "Sceau Demo e-seal", Organization: "Sceau Demo", OrganizationIdentifier: "NTRFR-999999998", Country: "FR"}}},
	} {
		r, err := c.IssuePKCS12(ctx, q.req)
		if err != nil {
			return nil, err
		}
		pfx, err := base64.StdEncoding.DecodeString(r.PKCS12)
		if err != nil {
			return nil, sceau.E(sceau.Internal, op, "the PKCS#12 in the answer is not base64", err)
		}
		files[q.name+".pem"] = []byte(r.Certificate)
		files[q.name+".p12"] = pfx
		files[q.name+".p12.pass"] = []byte(r.Password + "\n")
	}
	for name, b := range files {
		mode := os.FileMode(0o644)
		if strings.HasSuffix(name, "-key.pem") || strings.HasSuffix(name, ".p12") || strings.HasSuffix(name, ".pass") {
			mode = 0o600
		}
		if err := os.WriteFile(s.Path(name), b, mode); err != nil {
			return nil, sceau.E(sceau.Unavailable, op, "cannot write "+s.Path(name), err)
		}
	}
	// The serial last: its file says the samples are complete.
	if err := os.WriteFile(s.Path("localhost.serial"), []byte(resp.Serial+"\n"), 0o644); err != nil {
		return nil, sceau.E(sceau.Unavailable, op, "cannot write the serial", err)
	}
	s.Serial = resp.Serial
	return s, nil
}

// subscriberCSR makes a P-256 key and a CSR for subject and dnsName, as a
// subscriber would: the key in PKCS#8 PEM, the CSR in PEM.
func subscriberCSR(subject pkix.Name, dnsName string) (keyPEM []byte, csrPEM string, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, "", sceau.E(sceau.Internal, op, "", err)
	}
	csr, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: subject, DNSNames: []string{dnsName}}, key)
	if err != nil {
		return nil, "", sceau.E(sceau.Internal, op, "", err)
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, "", sceau.E(sceau.Internal, op, "", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8}),
		string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: csr})), nil
}
