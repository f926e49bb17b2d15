package publication

import (
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"github.com/sceau/sceau/internal/sceau"
)

// CA is a certification authority as the site shows it.
type CA struct {
	ID, Parent string
	Cert       *x509.Certificate
	Status     string   // "active" or "terminated"
	Policies   []string // the certificate policies it issues under
	OCSPURL    string
	CRLURL     string
}

// CRL is a CA's current full CRL.
type CRL struct {
	Number                 int64
	ThisUpdate, NextUpdate time.Time
	Entries                int
	DER                    []byte
}

// Sources are where the site's CAs and CRLs come from (ca and revocation).
type Sources interface {
	PublishedCAs() []CA
	CurrentCRL(ctx context.Context, caID string) (*CRL, error) // NotFound when none yet
}

// File is one file of the site, with what its caching headers need.
type File struct {
	Entry
	Expires time.Time // zero: the default cache lifetime
	data    []byte    // nil for document files, read from the store
}

// caView is a CA with what its pages show.
type caView struct {
	CA
	SHA1, SHA256 string
	CRL          *CRL // nil while it has none
	CRLSHA256    string
}

// snapshot is what the site serves, rebuilt by Refresh and swapped whole:
// a request sees one consistent state.
type snapshot struct {
	built    time.Time
	cas      []caView
	docs     []*Document
	docsKey  string
	files    map[string]*File // by path
	bySHA    map[string]*File
	manifest *Signed
	stale    []string // PUB-3: why the site is stale, empty when fresh

	// Made once per snapshot (prerender): the pages by path, what they
	// show summed up, and the current manifest and its signature.
	pages         map[string]*static
	pagesKey      string
	manifestFiles [2]*static
}

func sum256(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func sum1(b []byte) string {
	s := sha1.Sum(b)
	return hex.EncodeToString(s[:])
}

// build reads the current state of everything published.
func (s *Site) build(ctx context.Context, prev *snapshot) (*snapshot, error) {
	now := s.clock.Now()
	snap := &snapshot{built: now, files: map[string]*File{}, bySHA: map[string]*File{}}
	add := func(f *File) {
		snap.files[f.Path] = f
		if _, ok := snap.bySHA[f.SHA256]; !ok {
			snap.bySHA[f.SHA256] = f
		}
	}
	for _, c := range s.src.PublishedCAs() {
		v := caView{CA: c, SHA1: sum1(c.Cert.Raw), SHA256: sum256(c.Cert.Raw)}
		published := c.Cert.NotBefore
		add(&File{Entry: Entry{Path: "/ca/" + c.ID + ".der", MediaType: "application/pkix-cert", Size: int64(len(c.Cert.Raw)),
			SHA256: v.SHA256, PublishedAt: published}, data: c.Cert.Raw})
		p := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Cert.Raw})
		add(&File{Entry: Entry{Path: "/ca/" + c.ID + ".pem", MediaType: "application/x-pem-file", Size: int64(len(p)),
			SHA256: sum256(p), PublishedAt: published}, data: p})
		crl, err := s.src.CurrentCRL(ctx, c.ID)
		switch {
		case err == nil:
			v.CRL, v.CRLSHA256 = crl, sum256(crl.DER)
			add(&File{Entry: Entry{Path: "/crl/" + c.ID + ".crl", MediaType: "application/pkix-crl", Size: int64(len(crl.DER)),
				SHA256: v.CRLSHA256, PublishedAt: crl.ThisUpdate}, Expires: crl.NextUpdate, data: crl.DER})
			if why := s.crlStale(c, crl, now); why != "" {
				snap.stale = append(snap.stale, why)
			}
		case sceau.KindOf(err) == sceau.NotFound:
			if c.Status == "active" {
				snap.stale = append(snap.stale, fmt.Sprintf("CA %s has no CRL", c.ID))
			}
		default:
			return nil, err
		}
		snap.cas = append(snap.cas, v)
	}
	key, err := s.svc.version(ctx)
	if err != nil {
		return nil, err
	}
	snap.docs, snap.docsKey = nil, key
	if prev != nil && prev.docsKey == key {
		snap.docs = prev.docs
	} else if snap.docs, err = s.svc.Documents(ctx); err != nil {
		return nil, err
	}
	for _, d := range snap.docs {
		add(&File{Entry: Entry{Path: d.Path(), MediaType: d.MediaType, Size: d.Size, SHA256: d.SHA256, PublishedAt: d.PublishedAt}})
	}
	return snap, nil
}

// entries lists the files for the manifest, by path.
func (snap *snapshot) entries() []Entry {
	out := make([]Entry, 0, len(snap.files))
	for _, f := range snap.files {
		out = append(out, f.Entry)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

// crlStale says why a CA's CRL counts as stale (PUB-3): its nextUpdate is
// within the margin (a tenth of its validity, at most CRLMargin) with no
// newer CRL published. A terminated CA keeps its last CRL.
func (s *Site) crlStale(c CA, crl *CRL, now time.Time) string {
	if c.Status != "active" {
		return ""
	}
	margin := crl.NextUpdate.Sub(crl.ThisUpdate) / 10
	if margin > s.opts.CRLMargin {
		margin = s.opts.CRLMargin
	}
	left := crl.NextUpdate.Sub(now)
	switch {
	case left <= 0:
		return fmt.Sprintf("the CRL of CA %s (number %d) passed its nextUpdate %s %s ago with no newer CRL",
			c.ID, crl.Number, crl.NextUpdate.UTC().Format(time.RFC3339), (-left).Round(time.Second))
	case left < margin:
		return fmt.Sprintf("the CRL of CA %s (number %d) reaches its nextUpdate %s in %s with no newer CRL",
			c.ID, crl.Number, crl.NextUpdate.UTC().Format(time.RFC3339), left.Round(time.Second))
	}
	return ""
}

// current is the snapshot being served.
type current struct{ p atomic.Pointer[snapshot] }

func (c *current) load() *snapshot { return c.p.Load() }

func joinReasons(r []string) string { return strings.Join(r, "; ") }
