package node

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/sceau/sceau/internal/audit"
	"github.com/sceau/sceau/internal/ca"
	"github.com/sceau/sceau/internal/cms"
	"github.com/sceau/sceau/internal/config"
	"github.com/sceau/sceau/internal/keys"
	"github.com/sceau/sceau/internal/publication"
	"github.com/sceau/sceau/internal/revocation"
	"github.com/sceau/sceau/internal/safefile"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/store"
)

// signerFile records which key of the service keystore is the publication
// key and the certificate chain the hierarchy gave it (PUB-2).
const signerFile = "publication-signer.json"

type signerRecord struct {
	Key   string   `json:"key"`   // label in the service keystore
	Chain [][]byte `json:"chain"` // DER: the key's certificate, then its issuers up to the root
}

// manifestSigner signs manifests with the publication key: a detached CMS
// signature carrying its certificate chain, so openssl cms -verify checks
// it with the root alone.
type manifestSigner struct {
	key   crypto.Signer
	chain []*x509.Certificate
	clock sceau.Clock
	guard func() error // the clock guard (SYS-4)
}

func (m *manifestSigner) SignManifest(body []byte) ([]byte, error) {
	// SYS-4: no manifest is signed on a clock that is not trusted; the
	// site serves the last one and reports itself stale after the grace.
	if err := m.guard(); err != nil {
		return nil, fmt.Errorf("publication: sign manifest: %w", err)
	}
	sig, err := cms.SignDetached(body, m.key, m.chain[0], m.chain[1:], m.clock.Now())
	if err != nil {
		return nil, sceau.E(sceau.Unavailable, "publication: sign manifest", "the publication key cannot sign", err)
	}
	return sig, nil
}

// lazySigner gets the publication key certified the first time it is
// needed and the signing CA is activated, and again when its certificate
// nears its end; until then manifests wait (the site reports it stale).
type lazySigner struct {
	n       *Node
	current *manifestSigner
	tried   time.Time
}

func (l *lazySigner) SignManifest(body []byte) ([]byte, error) {
	now := time.Now()
	if l.current == nil || renewDue(l.current.chain[0], now) {
		ca := l.n.Config.Publication.SignerCA
		// Until the signing CA is activated there is nothing to try; once it
		// is, a failed attempt waits 10s before the next.
		if l.current == nil && (!l.n.Authority.Activated(ca) || now.Sub(l.tried) < 10*time.Second) {
			return nil, sceau.Errorf(sceau.Unavailable, "publication: sign manifest",
				"the publication key has no certificate yet: CA %s must be activated to certify it", ca)
		}
		l.tried = now
		s, err := l.n.publicationSigner(context.Background())
		if err != nil {
			if l.current == nil {
				return nil, err
			}
			l.n.Log.Warn("publication: the publication key's certificate could not be renewed", "err", err)
		} else {
			l.current = s
		}
	}
	return l.current.SignManifest(body)
}

// renewDue says whether a certificate is in the last third of its life.
func renewDue(c *x509.Certificate, now time.Time) bool {
	return now.Add(c.NotAfter.Sub(c.NotBefore) / 3).After(c.NotAfter)
}

// publicationSigner returns the publication key with a current
// certificate, getting one from publication.signer_ca under
// publication.signer_profile when there is none or it nears its end.
func (n *Node) publicationSigner(ctx context.Context) (*manifestSigner, error) {
	const op = "publication: signer"
	cfg := n.Config.Publication
	if cfg.SignerCA == "" {
		return nil, sceau.Errorf(sceau.Unavailable, op, "publication.signer_ca is not set: manifests cannot be signed")
	}
	path := n.Config.Path(signerFile)
	if b, err := os.ReadFile(path); err == nil {
		var rec signerRecord
		if err := json.Unmarshal(b, &rec); err != nil {
			return nil, sceau.E(sceau.Internal, op, path+" cannot be read", err)
		}
		s, err := n.loadSigner(rec)
		if err != nil {
			return nil, err
		}
		if !renewDue(s.chain[0], time.Now()) && s.chain[0].NotAfter.After(time.Now()) {
			return s, nil
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, sceau.E(sceau.Unavailable, op, "", err)
	}
	if !n.Authority.Activated(cfg.SignerCA) {
		return nil, n.Authority.NotActivated(op, cfg.SignerCA, nil)
	}
	label := fmt.Sprintf("publication-%d", time.Now().UnixNano())
	key, err := n.Keys.Generate(label, keys.ECDSAP256)
	if err != nil {
		return nil, err
	}
	csr, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: cfg.Name + " publication"}}, key)
	if err != nil {
		return nil, sceau.E(sceau.Internal, op, "", err)
	}
	issued, err := n.Authority.IssueCSR(ctx, sceau.System("publication"), ca.Request{CA: cfg.SignerCA, Profile: cfg.SignerProfile, CSR: csr,
		Subject: pkix.Name{CommonName: cfg.Name + " publication"}})
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
		return n.Journal.Append(ctx, tx, audit.Event{Actor: sceau.System("publication"), Action: audit.ActionPublicationSignerCert,
			Object: "certificate:" + issued.Serial, Details: map[string]any{"ca": cfg.SignerCA, "profile": cfg.SignerProfile, "key": label,
				"not_after": issued.Cert.NotAfter}})
	})
	if err != nil {
		return nil, err
	}
	n.Log.Info("publication: the publication key was certified", "ca", cfg.SignerCA, "serial", issued.Serial, "not_after", issued.Cert.NotAfter)
	return n.loadSigner(rec)
}

func (n *Node) loadSigner(rec signerRecord) (*manifestSigner, error) {
	const op = "publication: signer"
	if len(rec.Chain) == 0 {
		return nil, sceau.Errorf(sceau.Internal, op, "%s holds no certificate", signerFile)
	}
	s := &manifestSigner{clock: sceau.ClockOr(nil), guard: n.ClockGuard.Err}
	for _, der := range rec.Chain {
		c, err := x509.ParseCertificate(der)
		if err != nil {
			return nil, sceau.E(sceau.Internal, op, signerFile+" holds a certificate that cannot be parsed", err)
		}
		s.chain = append(s.chain, c)
	}
	key, err := n.Keys.Signer(rec.Key)
	if err != nil {
		return nil, err
	}
	pub, err := x509.MarshalPKIXPublicKey(key.Public())
	if err != nil || !bytes.Equal(pub, s.chain[0].RawSubjectPublicKeyInfo) {
		return nil, sceau.Errorf(sceau.Internal, op, "the key %s does not match the certificate in %s", rec.Key, signerFile)
	}
	s.key = key
	return s, nil
}

// siteSources adapts the CAs and CRLs of the node to the site.
type siteSources struct{ n *Node }

func (s siteSources) PublishedCAs() []publication.CA {
	urls := ca.URLs{Base: s.n.Config.Public.BaseURL}
	var out []publication.CA
	for _, c := range s.n.Authority.CAs() {
		status := "active"
		if err := s.n.Authority.CheckTerminable(context.Background(), s.n.DB, c.Spec.ID); sceau.KindOf(err) == sceau.Conflict {
			status = "terminated"
		}
		var policies []string
		for _, p := range c.Cert.PolicyIdentifiers {
			policies = append(policies, p.String())
		}
		for _, p := range c.Spec.Profiles {
			for _, pol := range p.Policies {
				policies = appendNew(policies, pol.OID.String())
			}
		}
		out = append(out, publication.CA{ID: c.Spec.ID, Parent: c.Spec.Parent, Cert: c.Cert, Status: status, Policies: policies,
			OCSPURL: urls.OCSP(), CRLURL: urls.CRL(c.Spec.ID)})
	}
	return out
}

func appendNew(list []string, v string) []string {
	for _, x := range list {
		if x == v {
			return list
		}
	}
	return append(list, v)
}

func (s siteSources) CurrentCRL(ctx context.Context, caID string) (*publication.CRL, error) {
	c, err := s.n.Revocation.Latest(ctx, caID, revocation.FullCRL)
	if err != nil {
		return nil, err
	}
	return &publication.CRL{Number: c.Number, ThisUpdate: c.ThisUpdate, NextUpdate: c.NextUpdate, Entries: c.Entries, DER: c.DER}, nil
}

// Site returns the publication site of the node (PUB-1..PUB-3).
func (n *Node) Site() *publication.Site {
	cfg := n.Config.Publication
	var signer publication.ManifestSigner
	if cfg.SignerCA != "" && !n.publicOnly { // PUB-2: a public-only node serves the manifests others sign
		signer = &lazySigner{n: n}
	}
	return publication.NewSite(n.Publication, siteSources{n}, signer, publication.SiteOptions{
		Publisher: cfg.Name, About: map[string]string{"fr": cfg.AboutFR, "en": cfg.AboutEN}, Contact: cfg.Contact, BaseURL: n.Config.Public.BaseURL,
		Refresh: cfg.Refresh.Duration, CRLMargin: cfg.CRLMargin.Duration, Log: n.Log, ReadOnly: n.publicOnly})
}

// ExportSite writes the site of the installation cfg describes into dir,
// for a mirror (publication.Site.Export).
func ExportSite(ctx context.Context, cfg *config.Config, dir string) (int, error) {
	n, err := Open(ctx, cfg, nil)
	if err != nil {
		return 0, err
	}
	defer n.Close()
	return n.Site().Export(ctx, dir)
}
