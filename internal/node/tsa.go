package node

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/sceau/sceau/internal/audit"
	"github.com/sceau/sceau/internal/ca"
	"github.com/sceau/sceau/internal/keys"
	"github.com/sceau/sceau/internal/safefile"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/store"
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
			c.unit = &lazyUnit{n: n}
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

// lazyUnit is the installation's unit, its key certified when first
// needed (like the publication signer, lazySigner). Safe for concurrent
// use: the HTTP handler and the archive share it.
type lazyUnit struct {
	n       *Node
	mu      sync.Mutex
	current *tsa.Unit
	tried   time.Time
}

func (l *lazyUnit) Stamp(ctx context.Context, digest []byte, hash crypto.Hash) ([]byte, error) {
	u, err := l.get(ctx)
	if err != nil {
		return nil, err
	}
	return u.Stamp(ctx, digest, hash)
}

// get returns the unit, certifying its key (again) when there is no
// certificate or it is in the last third of its life. A failed attempt
// waits 10s before the next; a renewal that fails keeps the current one.
func (l *lazyUnit) get(ctx context.Context) (*tsa.Unit, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	if l.current != nil && !renewDue(l.current.Certificate(), now) {
		return l.current, nil
	}
	if now.Sub(l.tried) < 10*time.Second {
		if l.current != nil {
			return l.current, nil
		}
		return nil, sceau.Errorf(sceau.Unavailable, "tsa: unit",
			"the time-stamping unit's key has no certificate yet: CA %s must be activated to certify it", l.n.Config.Timestamping.SignerCA)
	}
	l.tried = now
	u, err := l.n.tsaUnit(ctx)
	if err != nil {
		if l.current == nil {
			return nil, err
		}
		l.n.Log.Warn("tsa: the time-stamping unit's certificate could not be renewed", "err", err)
		return l.current, nil
	}
	l.current = u
	return u, nil
}

// tsaUnit returns the unit with a current certificate: the one recorded in
// tsa-signer.json, or a new key certified by timestamping.signer_ca under
// timestamping.profile when there is none or it nears its end.
func (n *Node) tsaUnit(ctx context.Context) (*tsa.Unit, error) {
	const op = "tsa: unit"
	cfg := n.Config.Timestamping
	path := n.Config.Path(tsaSignerFile)
	if b, err := os.ReadFile(path); err == nil {
		var rec signerRecord
		if err := json.Unmarshal(b, &rec); err != nil {
			return nil, sceau.E(sceau.Internal, op, path+" cannot be read", err)
		}
		u, err := n.loadUnit(rec)
		if err != nil {
			return nil, err
		}
		if c := u.Certificate(); !renewDue(c, time.Now()) && c.NotAfter.After(time.Now()) {
			return u, nil
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, sceau.E(sceau.Unavailable, op, "", err)
	}
	if !n.Authority.Activated(cfg.SignerCA) {
		return nil, n.Authority.NotActivated(op, cfg.SignerCA, nil)
	}
	label := fmt.Sprintf("tsa-%d", time.Now().UnixNano())
	key, err := n.Keys.Generate(label, keys.ECDSAP256)
	if err != nil {
		return nil, err
	}
	subject := pkix.Name{CommonName: n.Config.Publication.Name + " time-stamping unit"}
	csr, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: subject}, key)
	if err != nil {
		return nil, sceau.E(sceau.Internal, op, "", err)
	}
	issued, err := n.Authority.IssueCSR(ctx, sceau.System("tsa"), ca.Request{CA: cfg.SignerCA, Profile: cfg.Profile, CSR: csr, Subject: subject})
	if err != nil {
		return nil, err
	}
	rec := signerRecord{Key: label, Chain: [][]byte{issued.DER}}
	for _, c := range issued.Chain {
		rec.Chain = append(rec.Chain, c.Raw)
	}
	b, _ := json.MarshalIndent(rec, "", "  ")
	if err := safefile.Replace(path, b, 0o600); err != nil {
		return nil, sceau.E(sceau.Unavailable, op, "cannot write "+path, err)
	}
	err = n.DB.InTx(ctx, func(tx *store.Tx) error {
		return n.Journal.Append(ctx, tx, audit.Event{Actor: sceau.System("tsa"), Action: audit.ActionTSASignerCert,
			Object: "certificate:" + issued.Serial, Details: map[string]any{"ca": cfg.SignerCA, "profile": cfg.Profile, "key": label,
				"not_after": issued.Cert.NotAfter}})
	})
	if err != nil {
		return nil, err
	}
	n.Log.Info("tsa: the time-stamping unit's key was certified", "ca", cfg.SignerCA, "serial", issued.Serial, "not_after", issued.Cert.NotAfter)
	return n.loadUnit(rec)
}

// loadUnit makes the unit of rec: its key from the service keystore, which
// must be the certificate's, and the settings of the timestamping section;
// it asks the clock guard before each token (SYS-4).
func (n *Node) loadUnit(rec signerRecord) (*tsa.Unit, error) {
	const op = "tsa: unit"
	if len(rec.Chain) == 0 {
		return nil, sceau.Errorf(sceau.Internal, op, "%s holds no certificate", tsaSignerFile)
	}
	var chain []*x509.Certificate
	for _, der := range rec.Chain {
		c, err := x509.ParseCertificate(der)
		if err != nil {
			return nil, sceau.E(sceau.Internal, op, tsaSignerFile+" holds a certificate that cannot be parsed", err)
		}
		chain = append(chain, c)
	}
	key, err := n.Keys.Signer(rec.Key)
	if err != nil {
		return nil, err
	}
	pub, err := x509.MarshalPKIXPublicKey(key.Public())
	if err != nil || !bytes.Equal(pub, chain[0].RawSubjectPublicKeyInfo) {
		return nil, sceau.Errorf(sceau.Internal, op, "the key %s does not match the certificate in %s", rec.Key, tsaSignerFile)
	}
	policy, err := parseOID(n.Config.Timestamping.Policy)
	if err != nil {
		return nil, sceau.E(sceau.Invalid, op, "timestamping.policy", err)
	}
	return tsa.NewUnit(tsa.UnitOptions{Signer: key, Chain: chain, Policy: policy, Accuracy: n.Config.Timestamping.Accuracy.Duration,
		Guard: n.ClockGuard.Err, Log: n.Log})
}
