package node

import (
	"context"

	"github.com/sceau/sceau/internal/audit"
	"github.com/sceau/sceau/internal/ca"
	"github.com/sceau/sceau/internal/config"
	"github.com/sceau/sceau/internal/publication"
	"github.com/sceau/sceau/internal/revocation"
	"github.com/sceau/sceau/internal/sceau"
)

// signerFile records which key of the service keystore is the publication
// key and the certificate chain the hierarchy gave it (PUB-2).
const signerFile = "publication-signer.json"

// publicationJob is the publication key's job (servicekey.go).
func (n *Node) publicationJob() serviceKeyJob {
	cfg := n.Config.Publication
	return serviceKeyJob{Name: "publication", File: signerFile, CA: cfg.SignerCA, Profile: cfg.SignerProfile,
		CN: cfg.Name + " publication", Action: audit.ActionPublicationSignerCert, Setting: "publication.signer_ca"}
}

// manifestSigner signs manifests with the publication key: a detached CMS
// signature carrying its certificate chain, so openssl cms -verify checks
// it with the root alone.
type manifestSigner certifiedKey

func (m *manifestSigner) SignManifest(body []byte) ([]byte, error) {
	// SYS-4: no manifest is signed on a clock that is not trusted; the
	// site serves the last one and reports itself stale after the grace.
	return (*certifiedKey)(m).signDetached("publication: sign manifest", body)
}

// lazySigner gets the publication key certified the first time it is
// needed and the signing CA is activated; until then manifests wait (the
// site reports it stale).
type lazySigner struct{ key *lazyKey }

func (l *lazySigner) SignManifest(body []byte) ([]byte, error) {
	k, err := l.key.get("publication: sign manifest")
	if err != nil {
		return nil, err
	}
	return (*manifestSigner)(k).SignManifest(body)
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
		signer = &lazySigner{key: &lazyKey{n: n, job: n.publicationJob()}}
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
