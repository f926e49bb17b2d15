package publication

import (
	_ "embed"
	"encoding/hex"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/sceau/sceau/internal/sceau"
)

//go:embed site.css
var siteCSS []byte

// Stylesheet returns the site's stylesheet, for the pages Sceau writes
// elsewhere in the same look (the self-audit's report).
func Stylesheet() []byte { return append([]byte(nil), siteCSS...) }

// pageCSP keeps the pages script-free: nothing but our stylesheet loads.
const pageCSP = "default-src 'none'; style-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// documentCSP sandboxes a published HTML document: it is shown, never run,
// so a document cannot act on the site's origin.
const documentCSP = "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:"

// immutable is the cache lifetime of content that never changes at its
// URL: document versions and /sha256/ files.
const immutable = "public, max-age=31536000, immutable"

// Handler serves the site: the pages in each language, the files, the
// manifests and the stylesheet. Paths it does not know are 404.
func (s *Site) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Vary", "Accept-Language")
		w.Header().Set("Cache-Control", "no-store")
		http.Redirect(w, r, "/"+negotiate(r)+"/", http.StatusFound)
	})
	for _, lang := range Languages {
		mux.HandleFunc("GET /"+lang+"/{$}", s.withLang(lang, s.home))
		mux.HandleFunc("GET /"+lang+"/ca/{id}", s.withLang(lang, s.prerendered))
		mux.HandleFunc("GET /"+lang+"/documents", s.withLang(lang, s.prerendered))
		mux.HandleFunc("GET /"+lang+"/notices", s.withLang(lang, s.prerendered))
	}
	css := &static{body: siteCSS, header: http.Header{"Content-Type": hv("text/css; charset=utf-8"),
		"Cache-Control": hv("public, max-age=3600"), "Etag": hv(`"` + sum256(siteCSS)[:32] + `"`)}}
	mux.HandleFunc("GET /site.css", css.serve)
	// PUB-1: the profiles put BaseURL/cps in certificates as their CPS
	// pointer (RFC 5280 §4.2.1.4, id-qt-cps): it leads to the current version.
	mux.HandleFunc("GET /cps", s.currentOf(CPS, ""))
	mux.HandleFunc("GET /cp", s.currentOf(CP, ""))
	// The eIDAS profiles name BaseURL/pds/{lang} in QcPDS (EN 319 412-5
	// §4.3.4): one URL per language, leading to the PDS in force in it.
	mux.HandleFunc("GET /pds", s.currentOf(PDS, ""))
	for _, lang := range Languages {
		mux.HandleFunc("GET /pds/"+lang, s.currentOf(PDS, lang))
	}
	mux.HandleFunc("GET /ca/{file}", s.caFile)
	mux.HandleFunc("GET /crl/{file}", s.crlFile)
	mux.HandleFunc("GET /documents/{path...}", s.documentFile)
	mux.HandleFunc("GET /sha256/{hex}", s.bySHA)
	mux.HandleFunc("GET /manifest.json", s.manifestFile(false))
	mux.HandleFunc("GET /manifest.json.p7s", s.manifestFile(true))
	mux.HandleFunc("GET /manifests/{file}", s.numberedManifest)
	return mux
}

// currentOf redirects to the current version of the document of kind k:
// in lang, or when lang is "" in the reader's language if there is one;
// to the documents page when none is current.
func (s *Site) currentOf(k Kind, lang string) http.HandlerFunc {
	fixed := lang != ""
	return func(w http.ResponseWriter, r *http.Request) {
		lang, target := lang, ""
		if !fixed {
			lang = negotiate(r)
		}
		if snap := s.cur.load(); snap != nil {
			st := states(snap.docs, s.clock.Now())
			for _, d := range snap.docs {
				if d.Kind == k && st[d] == "current" && (d.Lang == lang || (!fixed && target == "")) {
					target = d.Path()
				}
			}
		}
		if target == "" {
			target = "/" + lang + "/documents"
		}
		if !fixed {
			w.Header().Set("Vary", "Accept-Language")
		}
		w.Header().Set("Cache-Control", "no-cache")
		http.Redirect(w, r, target, http.StatusFound)
	}
}

func (s *Site) withLang(lang string, h func(http.ResponseWriter, *http.Request, *snapshot, string)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		snap := s.cur.load()
		if snap == nil {
			http.Error(w, "temporarily unavailable: the site is being built", http.StatusServiceUnavailable)
			return
		}
		h(w, r, snap, lang)
	}
}

// home serves the home page, rendered with the snapshot when the base URL
// is known; without one, its verification command names the origin the
// request reached, so it is rendered per request.
func (s *Site) home(w http.ResponseWriter, r *http.Request, snap *snapshot, lang string) {
	if p := snap.pages[r.URL.Path]; p != nil {
		p.serve(w, r)
		return
	}
	b, err := s.renderPage(homePage(snap, lang, origin(r)))
	if err != nil {
		s.log.Error("publication: page", "page", "home", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	newPage(lang, b).serve(w, r)
}

// prerendered serves a page rendered with the snapshot (PUB-1: no
// template runs on the request path); a CA the snapshot does not hold is
// 404.
func (s *Site) prerendered(w http.ResponseWriter, r *http.Request, snap *snapshot, _ string) {
	if p := snap.pages[r.URL.Path]; p != nil {
		p.serve(w, r)
		return
	}
	http.NotFound(w, r)
}

// caFile serves /ca/{id}.der (also .crt, .cer), .pem and .txt.
func (s *Site) caFile(w http.ResponseWriter, r *http.Request) {
	snap := s.cur.load()
	file := r.PathValue("file")
	dot := strings.LastIndexByte(file, '.')
	if snap == nil || dot < 0 {
		http.NotFound(w, r)
		return
	}
	id, ext := file[:dot], file[dot:]
	switch ext {
	case ".crt", ".cer":
		ext = ".der"
	case ".txt":
		for _, c := range snap.cas {
			if c.ID == id {
				w.Header().Set("Content-Type", "text/plain; charset=utf-8")
				w.Header().Set("Cache-Control", "public, max-age=3600")
				body := fmt.Sprintf("subject: %s\nSHA-256: %s\nSHA-1: %s\n", c.Cert.Subject, c.SHA256, c.SHA1)
				serveBytes(w, r, []byte(body), c.Cert.NotBefore)
				return
			}
		}
		http.NotFound(w, r)
		return
	}
	s.serveFile(w, r, snap.files["/ca/"+id+ext], "public, max-age=3600")
}

// crlFile serves a CA's current full CRL, cacheable until its nextUpdate.
func (s *Site) crlFile(w http.ResponseWriter, r *http.Request) {
	snap := s.cur.load()
	if snap == nil {
		http.Error(w, "temporarily unavailable: the site is being built", http.StatusServiceUnavailable)
		return
	}
	s.serveFile(w, r, snap.files["/crl/"+r.PathValue("file")], "")
}

func (s *Site) documentFile(w http.ResponseWriter, r *http.Request) {
	snap := s.cur.load()
	if snap == nil {
		http.NotFound(w, r)
		return
	}
	s.serveFile(w, r, snap.files["/documents/"+r.PathValue("path")], immutable)
}

// bySHA serves any published file by its SHA-256 (content-addressed).
func (s *Site) bySHA(w http.ResponseWriter, r *http.Request) {
	h := strings.ToLower(r.PathValue("hex"))
	if b, err := hex.DecodeString(h); err != nil || len(b) != 32 {
		http.NotFound(w, r)
		return
	}
	snap := s.cur.load()
	if snap == nil {
		http.NotFound(w, r)
		return
	}
	if snap.manifest != nil && snap.manifest.SHA256() == h {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", immutable)
		serveBytes(w, r, snap.manifest.Body, snap.manifest.CreatedAt)
		return
	}
	s.serveFile(w, r, snap.bySHA[h], immutable)
}

func (s *Site) manifestFile(signature bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		snap := s.cur.load()
		if snap == nil || snap.manifest == nil {
			http.Error(w, "temporarily unavailable: no manifest is signed yet", http.StatusServiceUnavailable)
			return
		}
		if signature {
			snap.manifestFiles[1].serve(w, r)
		} else {
			snap.manifestFiles[0].serve(w, r)
		}
	}
}

// numberedManifest serves /manifests/{n}.json and {n}.json.p7s: every
// manifest stays available, so a mirror or an auditor can follow the chain.
func (s *Site) numberedManifest(w http.ResponseWriter, r *http.Request) {
	file := r.PathValue("file")
	signature := strings.HasSuffix(file, ".json.p7s")
	num := strings.TrimSuffix(strings.TrimSuffix(file, ".p7s"), ".json")
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n < 1 || (!signature && !strings.HasSuffix(file, ".json")) {
		http.NotFound(w, r)
		return
	}
	m, err := s.svc.ManifestNumber(r.Context(), n)
	if err != nil {
		if sceau.KindOf(err) == sceau.NotFound {
			http.NotFound(w, r)
			return
		}
		http.Error(w, "temporarily unavailable: "+sceau.Message(err), http.StatusServiceUnavailable)
		return
	}
	s.writeManifest(w, r, m, signature, immutable)
}

func (s *Site) writeManifest(w http.ResponseWriter, r *http.Request, m *Signed, signature bool, cache string) {
	body, ct := m.Body, "application/json"
	if signature {
		body, ct = m.Signature, "application/pkcs7-signature"
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Cache-Control", cache)
	serveBytes(w, r, body, m.CreatedAt)
}

// serveFile writes f with the headers a CDN caches by (PUB-1): ETag (its
// SHA-256), Last-Modified, Expires and Cache-Control, and answers
// conditional requests with 304.
func (s *Site) serveFile(w http.ResponseWriter, r *http.Request, f *File, cache string) {
	if f == nil {
		http.NotFound(w, r)
		return
	}
	data := f.data
	if data == nil {
		if b, ok := s.cache.get(f.SHA256); ok {
			data = b
		} else {
			_, b, err := s.svc.File(r.Context(), f.SHA256)
			if err != nil {
				http.Error(w, "temporarily unavailable: "+sceau.Message(err), http.StatusServiceUnavailable)
				return
			}
			s.cache.put(f.SHA256, b)
			data = b
		}
	}
	h := w.Header()
	h.Set("Content-Type", f.MediaType)
	if f.MediaType == "text/html" || f.MediaType == "text/plain" {
		h.Set("Content-Type", f.MediaType+"; charset=utf-8")
	}
	if f.MediaType == "text/html" {
		h.Set("Content-Security-Policy", documentCSP)
	}
	now := s.clock.Now()
	switch {
	case !f.Expires.IsZero():
		// A CRL: fresh until its nextUpdate, then revalidated (RFC 5019
		// §6.2 does the same for OCSP).
		left := int64(f.Expires.Sub(now).Seconds())
		if left < 0 {
			left = 0
		}
		h.Set("Expires", f.Expires.UTC().Format(http.TimeFormat))
		h.Set("Cache-Control", fmt.Sprintf("public, max-age=%d, must-revalidate", min(left, 3600)))
	default:
		h.Set("Cache-Control", cache)
		if age, ok := strings.CutPrefix(cache, "public, max-age="); ok {
			secs, _ := strconv.Atoi(strings.SplitN(age, ",", 2)[0])
			h.Set("Expires", now.Add(time.Duration(secs)*time.Second).UTC().Format(http.TimeFormat))
		}
	}
	h.Set("ETag", `"`+f.SHA256+`"`)
	serveBytes(w, r, data, f.PublishedAt)
}

// serveBytes answers with b, honouring If-None-Match (with the ETag set,
// else a hash of b), If-Modified-Since and Range.
func serveBytes(w http.ResponseWriter, r *http.Request, b []byte, modified time.Time) {
	if w.Header().Get("ETag") == "" {
		w.Header().Set("ETag", `"`+sum256(b)[:32]+`"`)
	}
	serveStatic(w, r, b, modified)
}

// origin is the scheme and host the request reached, for the commands the
// home page shows.
func origin(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}
