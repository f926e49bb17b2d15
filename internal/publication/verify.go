package publication

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strings"

	"github.com/sceau/sceau/internal/cms"
	"github.com/sceau/sceau/internal/sceau"
)

// Fetcher reads one file of a published copy (the site by URL, or a
// directory written by Export); a missing file is a NotFound error.
type Fetcher interface {
	Fetch(ctx context.Context, path string) ([]byte, error)
	// List returns every file path of the copy when it can tell (a
	// directory), or nil (a web site cannot be listed).
	List(ctx context.Context) ([]string, error)
}

// Report is what Verify found.
type Report struct {
	Manifest *Manifest
	Signer   *x509.Certificate
	Missing  []string // listed, absent
	Changed  []string // listed, with other bytes
	Extra    []string // present, not listed (directories only)
	Checked  int      // files whose SHA-256 matched
}

// OK tells whether the copy matches its manifest exactly.
func (r *Report) OK() bool { return len(r.Missing)+len(r.Changed)+len(r.Extra) == 0 }

// Verify checks a published copy (PUB-2): the manifest's detached CMS
// signature and the signer's chain up to one of roots (with the
// documentSigning usage or none), then every listed file against its size
// and SHA-256. A bad signature or chain is an error; differences in the
// files are in the report.
func Verify(ctx context.Context, f Fetcher, roots *x509.CertPool) (*Report, error) {
	const op = "publication: verify"
	body, err := f.Fetch(ctx, "/manifest.json")
	if err != nil {
		return nil, err
	}
	sig, err := f.Fetch(ctx, "/manifest.json.p7s")
	if err != nil {
		return nil, err
	}
	signed, err := cms.VerifyDetached(sig, body)
	if err != nil {
		return nil, err
	}
	inter := x509.NewCertPool()
	for _, c := range signed.Certificates {
		inter.AddCert(c)
	}
	if _, err := signed.Signer.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil {
		return nil, sceau.E(sceau.Invalid, op, "the manifest's signer does not chain to the given root", err)
	}
	if !documentSigner(signed.Signer) {
		return nil, sceau.Errorf(sceau.Invalid, op, "the manifest's signer %q is not a publication key (no documentSigning usage)", signed.Signer.Subject.CommonName)
	}
	var m Manifest
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return nil, sceau.E(sceau.Invalid, op, "the manifest is not a Sceau manifest", err)
	}
	r := &Report{Manifest: &m, Signer: signed.Signer}
	listed := map[string]bool{"/manifest.json": true, "/manifest.json.p7s": true, "/site.css": true}
	for _, e := range m.Files {
		listed[e.Path] = true
		b, err := f.Fetch(ctx, e.Path)
		switch {
		case sceau.KindOf(err) == sceau.NotFound:
			r.Missing = append(r.Missing, e.Path)
		case err != nil:
			return nil, err
		case int64(len(b)) != e.Size || sum256(b) != e.SHA256:
			r.Changed = append(r.Changed, e.Path)
		default:
			r.Checked++
		}
	}
	all, err := f.List(ctx)
	if err != nil {
		return nil, err
	}
	for _, p := range all {
		if !listed[p] && !isPage(p) {
			r.Extra = append(r.Extra, p)
		}
	}
	sort.Strings(r.Extra)
	return r, nil
}

// documentSigning is id-kp-documentSigning (RFC 9336).
var documentSigning = []int{1, 3, 6, 1, 5, 5, 7, 3, 36}

func documentSigner(c *x509.Certificate) bool {
	if len(c.ExtKeyUsage) == 0 && len(c.UnknownExtKeyUsage) == 0 {
		return true
	}
	for _, u := range c.UnknownExtKeyUsage {
		if u.Equal(documentSigning) {
			return true
		}
	}
	return false
}

// Summary is the report in a few lines for people.
func (r *Report) Summary() string {
	var b bytes.Buffer
	fmt.Fprintf(&b, "manifest %d of %s, issued %s, signed by %q\n", r.Manifest.Number, r.Manifest.Publisher,
		r.Manifest.IssuedAt.UTC().Format("2006-01-02 15:04:05 MST"), r.Signer.Subject.CommonName)
	fmt.Fprintf(&b, "%d files match their SHA-256\n", r.Checked)
	for _, p := range r.Missing {
		fmt.Fprintf(&b, "MISSING %s\n", p)
	}
	for _, p := range r.Changed {
		fmt.Fprintf(&b, "CHANGED %s\n", p)
	}
	for _, p := range r.Extra {
		fmt.Fprintf(&b, "EXTRA   %s (not in the manifest)\n", p)
	}
	return b.String()
}

// HTTPFetcher reads the site by URL.
type HTTPFetcher struct {
	Base   string // such as https://pki.example.org
	Client *http.Client
}

// Fetch GETs path from the site.
func (h HTTPFetcher) Fetch(ctx context.Context, path string) ([]byte, error) {
	const op = "publication: verify"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(h.Base, "/")+path, nil)
	if err != nil {
		return nil, sceau.E(sceau.Invalid, op, "", err)
	}
	c := h.Client
	if c == nil {
		c = http.DefaultClient
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, sceau.E(sceau.Unavailable, op, "cannot reach "+h.Base, err)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotFound:
		return nil, sceau.Errorf(sceau.NotFound, op, "%s is missing (404)", path)
	case resp.StatusCode != http.StatusOK:
		return nil, sceau.Errorf(sceau.Unavailable, op, "%s answered %s", path, resp.Status)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, 256<<20))
	if err != nil {
		return nil, sceau.E(sceau.Unavailable, op, "reading "+path, err)
	}
	return b, nil
}

// List cannot list a web site.
func (HTTPFetcher) List(context.Context) ([]string, error) { return nil, nil }

// FetcherFor reads the copy at where: a site when it is an http(s) URL,
// else a directory written by Export.
func FetcherFor(where string) Fetcher {
	if strings.HasPrefix(where, "http://") || strings.HasPrefix(where, "https://") {
		return HTTPFetcher{Base: where}
	}
	return DirFetcher(where)
}

// ReadRoots reads the PEM certificates a verification trusts.
func ReadRoots(file string) (*x509.CertPool, error) {
	const op = "publication: verify"
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, sceau.E(sceau.Invalid, op, "cannot read the root certificates", err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(b) {
		return nil, sceau.Errorf(sceau.Invalid, op, "%s holds no PEM certificate", file)
	}
	return roots, nil
}
