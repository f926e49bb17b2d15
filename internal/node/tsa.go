package node

import (
	"bytes"
	"context"
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"net/http"
	"os"
	"sync"

	"github.com/sceau/sceau/internal/audit"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/tsa"
)

// tsaSignerFile records which key of the service keystore is the
// time-stamping unit's and the chain the hierarchy gave it (ARC-5), next
// to the publication signer's record (signerFile), in the same form.
const tsaSignerFile = "tsa-signer.json"

// stamperCache holds the node's time-stamper, made once (TimeStamper).
type stamperCache struct {
	once sync.Once
	s    tsa.Stamper
	unit *lazyUnit // the installation's unit, nil with an external TSA
	err  error
}

// TimeStamper returns what stamps the archive's items and tree heads
// (ARC-5): the installation's time-stamping unit when timestamping.
// signer_ca is set, its key generated and certified the first time it is
// needed and the CA is activated (tokens wait until then, with an
// Unavailable error), and again in the last third of its certificate's
// life; or a client of the external TSA of timestamping.external_url. Each
// call returns the same one. An Unavailable error says that neither is
// configured, or that this node is public-only (it holds no key).
func (n *Node) TimeStamper() (tsa.Stamper, error) {
	c := &n.stamper
	c.once.Do(func() {
		cfg := n.Config.Timestamping
		switch {
		case cfg.ExternalURL != "":
			c.s, c.err = n.externalTSA()
		case cfg.SignerCA == "":
			c.err = sceau.Errorf(sceau.Unavailable, "tsa", "timestamping.signer_ca and timestamping.external_url are not set: nothing stamps the archive")
		case n.publicOnly:
			c.err = sceau.Errorf(sceau.Unavailable, "tsa", "this node is public-only: it holds no time-stamping key (docs/scaling.md)")
		default:
			c.unit = &lazyUnit{key: &lazyKey{n: n, job: n.tsaJob()}}
			c.s = c.unit
		}
	})
	return c.s, c.err
}

// tsaHandler is the unit's HTTP transport for the public listener, nil when
// the node has no unit of its own.
func (n *Node) tsaHandler() http.Handler {
	if _, err := n.TimeStamper(); err != nil || n.stamper.unit == nil {
		return nil
	}
	return tsa.NewHandler(n.stamper.unit.get, n.Log)
}

// externalTSA is the client of timestamping.external_url, verifying tokens
// against the certificates of timestamping.external_ca_file: the
// self-signed ones are the roots, the others intermediates.
func (n *Node) externalTSA() (*tsa.Client, error) {
	const op = "tsa: external"
	cfg := n.Config.Timestamping
	path := n.Config.Path(cfg.ExternalCAFile)
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, sceau.E(sceau.Unavailable, op, "cannot read timestamping.external_ca_file", err)
	}
	c := &tsa.Client{URL: cfg.ExternalURL, Roots: x509.NewCertPool()}
	roots := 0
	for block, rest := pem.Decode(b); block != nil; block, rest = pem.Decode(rest) {
		if block.Type != "CERTIFICATE" {
			continue
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, sceau.E(sceau.Invalid, op, path+" holds a certificate that cannot be parsed", err)
		}
		if bytes.Equal(cert.RawIssuer, cert.RawSubject) && cert.CheckSignatureFrom(cert) == nil {
			c.Roots.AddCert(cert)
			roots++
		} else {
			c.Intermediates = append(c.Intermediates, cert)
		}
	}
	if roots == 0 {
		return nil, sceau.Errorf(sceau.Invalid, op, "%s holds no root certificate (self-signed)", path)
	}
	if cfg.Policy != "" {
		if c.Policy, err = parseOID(cfg.Policy); err != nil {
			return nil, sceau.E(sceau.Invalid, op, "timestamping.policy", err)
		}
	}
	return c, nil
}

// tsaJob is the unit's key's job (servicekey.go).
func (n *Node) tsaJob() serviceKeyJob {
	cfg := n.Config.Timestamping
	return serviceKeyJob{Name: "tsa", File: tsaSignerFile, CA: cfg.SignerCA, Profile: cfg.Profile,
		CN: n.Config.Publication.Name + " time-stamping unit", Action: audit.ActionTSASignerCert, Setting: "timestamping.signer_ca"}
}

// lazyUnit is the installation's unit, its key certified when first
// needed and renewed in the last third of its certificate's life
// (lazyKey). Safe for concurrent use: the HTTP handler and the archive
// share it.
type lazyUnit struct {
	key *lazyKey

	mu      sync.Mutex
	current *tsa.Unit
	from    *certifiedKey // the key current was made of
}

func (l *lazyUnit) Stamp(ctx context.Context, digest []byte, hash crypto.Hash) ([]byte, error) {
	u, err := l.get(ctx)
	if err != nil {
		return nil, err
	}
	return u.Stamp(ctx, digest, hash)
}

// get returns the unit of the current certified key.
func (l *lazyUnit) get(ctx context.Context) (*tsa.Unit, error) {
	k, err := l.key.get("tsa: unit")
	if err != nil {
		return nil, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.current != nil && l.from == k {
		return l.current, nil
	}
	u, err := l.key.n.newUnit(k)
	if err != nil {
		return nil, err
	}
	l.current, l.from = u, k
	return u, nil
}

// newUnit makes the unit of a certified key and the settings of the
// timestamping section; it asks the clock guard before each token (SYS-4).
func (n *Node) newUnit(k *certifiedKey) (*tsa.Unit, error) {
	policy, err := parseOID(n.Config.Timestamping.Policy)
	if err != nil {
		return nil, sceau.E(sceau.Invalid, "tsa: unit", "timestamping.policy", err)
	}
	return tsa.NewUnit(tsa.UnitOptions{Signer: k.key, Chain: k.chain, Policy: policy, Accuracy: n.Config.Timestamping.Accuracy.Duration,
		Guard: n.ClockGuard.Err, Log: n.Log})
}
