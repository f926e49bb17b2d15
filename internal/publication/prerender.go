package publication

import (
	"bytes"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// The site answers from memory (issue 14 "Speed", PUB-1, PUB-3): each
// snapshot carries its pages already rendered and the current manifest
// with its headers, so a request for them runs no template and hashes
// nothing. A snapshot is rebuilt every SiteOptions.Refresh; its pages are
// rendered again only when something they show changed (pagesKey).

// static is an answer made once per snapshot: its body and the headers
// that do not depend on the request or the time.
type static struct {
	body     []byte
	header   http.Header // canonical keys; the values are shared, never modified
	modified time.Time   // Last-Modified, zero for none
}

// hv is a header value to share between answers: a slice of length and
// capacity 1, so that an Add on one answer never writes into another's.
func hv(v string) []string { return []string{v} }

var (
	htmlType      = hv("text/html; charset=utf-8")
	jsonType      = hv("application/json")
	signatureType = hv("application/pkcs7-signature")
	tenSeconds    = hv("public, max-age=10") // pages and the current manifest
	pageCSPValue  = hv(pageCSP)
	bytesRange    = hv("bytes")
)

// newPage is a rendered page in lang.
func newPage(lang string, body []byte) *static {
	return &static{body: body, header: http.Header{
		"Content-Type":            htmlType,
		"Content-Language":        hv(lang),
		"Cache-Control":           tenSeconds,
		"Content-Security-Policy": pageCSPValue,
		"Etag":                    hv(`"` + sum256(body)[:32] + `"`),
	}}
}

// newManifestFile is the current manifest's JSON or its signature.
func newManifestFile(m *Signed, signature bool) *static {
	body, ct := m.Body, jsonType
	if signature {
		body, ct = m.Signature, signatureType
	}
	return &static{body: body, modified: m.CreatedAt, header: http.Header{
		"Content-Type":  ct,
		"Cache-Control": tenSeconds,
		"Etag":          hv(`"` + sum256(body)[:32] + `"`),
	}}
}

func (p *static) serve(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	for k, v := range p.header {
		h[k] = v
	}
	serveStatic(w, r, p.body, p.modified)
}

// conditional are the request headers that make an answer other than a
// plain 200 possible (RFC 9110 §13, §14).
var conditional = []string{"If-None-Match", "If-Modified-Since", "If-Match", "If-Unmodified-Since", "Range", "If-Range"}

// serveStatic writes b, whose Content-Type and ETag are set already. A
// plain GET or HEAD is answered directly; a conditional or range request
// goes through http.ServeContent, which answers it with 304, 206, 412 or
// 416 as RFC 9110 says.
func serveStatic(w http.ResponseWriter, r *http.Request, b []byte, modified time.Time) {
	for _, k := range conditional {
		if _, ok := r.Header[k]; ok {
			http.ServeContent(w, r, "", modified.Truncate(time.Second), bytes.NewReader(b))
			return
		}
	}
	h := w.Header()
	if !modified.IsZero() {
		h["Last-Modified"] = hv(modified.UTC().Format(http.TimeFormat))
	}
	h["Accept-Ranges"] = bytesRange
	h["Content-Length"] = hv(strconv.Itoa(len(b)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(b)
	}
}

// prerender renders the snapshot's pages in every language, or takes
// prev's when they would be the same. Without a base URL the home page
// names the origin each request reached, so it is left to the handler.
func (s *Site) prerender(snap, prev *snapshot) error {
	snap.pagesKey = pagesKey(snap)
	if snap.manifest != nil {
		snap.manifestFiles = [2]*static{newManifestFile(snap.manifest, false), newManifestFile(snap.manifest, true)}
	}
	if prev != nil && prev.pages != nil && prev.pagesKey == snap.pagesKey {
		snap.pages = prev.pages
		return nil
	}
	pages := map[string]*static{}
	for _, lang := range Languages {
		specs := []pageSpec{docsPage(snap, lang, false), docsPage(snap, lang, true)}
		if s.opts.BaseURL != "" {
			specs = append(specs, homePage(snap, lang, s.opts.BaseURL))
		}
		for i := range snap.cas {
			specs = append(specs, caPage(&snap.cas[i], lang))
		}
		for _, sp := range specs {
			b, err := s.renderPage(sp)
			if err != nil {
				return fmt.Errorf("publication: page %s/%s: %w", lang, sp.name, err)
			}
			pages["/"+lang+sp.path] = newPage(lang, b)
		}
	}
	snap.pages = pages
	return nil
}

// pagesKey sums up everything the pages show that can change while the
// site runs: the documents and their states, the manifest, and each CA
// with its CRL. Equal keys, equal pages. A page that starts showing
// something else must add it here.
func pagesKey(snap *snapshot) string {
	var b strings.Builder
	b.WriteString(snap.docsKey)
	st := states(snap.docs, snap.built)
	for _, d := range snap.docs {
		b.WriteString("|" + st[d])
	}
	if m := snap.manifest; m != nil {
		fmt.Fprintf(&b, "|manifest %d %d %s", m.Number, m.CreatedAt.UnixNano(), m.Digest)
	}
	for _, c := range snap.cas {
		fmt.Fprintf(&b, "|ca %q %q %s %s %q %q %q", c.ID, c.Parent, c.SHA256, c.Status, c.Policies, c.OCSPURL, c.CRLURL)
		if c.CRL != nil {
			fmt.Fprintf(&b, " crl %d %d %d %d %s", c.CRL.Number, c.CRL.ThisUpdate.UnixNano(), c.CRL.NextUpdate.UnixNano(), c.CRL.Entries, c.CRLSHA256)
		}
	}
	return b.String()
}
