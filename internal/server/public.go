package server

import (
	"context"
	"encoding/pem"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/sceau/sceau/internal/ca"
	"github.com/sceau/sceau/internal/revocation"
	"github.com/sceau/sceau/internal/sceau"
)

// Public serves the read-only public listener: CA certificates (DER, PEM,
// fingerprints), CRLs and OCSP. Every other path is 404 and every method
// but GET and HEAD (and POST on /ocsp and TSAPath, which change nothing)
// is 405: nothing is writable (SYS-2).
type Public struct {
	Authority  *ca.Authority
	Revocation *revocation.Service
	Responder  *revocation.Responder
	Log        *slog.Logger
	// Health, if set, is asked by /healthz: an error there answers 503
	// with its reason, so a load balancer drains a node whose database is
	// lost or full (AUD-7).
	Health func(context.Context) error
	// Details, if set, gives lines /healthz prints after its verdict, 503
	// or not: the clock's last check and offset (SYS-4).
	Details func() []string
	// Site, if set, serves the publication site (PUB-1: pages, CA
	// certificates, full CRLs, documents, manifests); the routes below
	// then only add OCSP, the CRL partitions and /healthz.
	Site http.Handler
	// Mode, if set, is the node's mode, which /healthz reports after its
	// verdict ("mode: signing", "mode: public-only"; docs/scaling.md), so
	// that an operator sees what the load balancer sends traffic to.
	Mode string
	// TSA, if set, is the time-stamping unit (RFC 3161 §3.4, ARC-5),
	// mounted at POST TSAPath (default /tsa): the one other POST route.
	TSA     http.Handler
	TSAPath string
}

// Handler returns the public routes.
func (p *Public) Handler() http.Handler {
	mux := http.NewServeMux()
	if p.Site != nil {
		mux.Handle("GET /", p.Site)
	} else {
		mux.HandleFunc("GET /{$}", p.index)
		mux.HandleFunc("GET /ca/{file}", p.caFile)
		mux.HandleFunc("GET /crl/{file}", p.crlFile)
	}
	mux.HandleFunc("GET /crl/{ca}/{file}", p.crlShard)
	mux.Handle("GET /ocsp/", p.Responder)
	mux.Handle("POST /ocsp", p.Responder)
	mux.Handle("POST /ocsp/", p.Responder)
	mux.HandleFunc("GET /healthz", p.healthz)
	tsaPath := ""
	if p.TSA != nil {
		if tsaPath = p.TSAPath; tsaPath == "" {
			tsaPath = "/tsa"
		}
		mux.Handle("POST "+tsaPath, p.TSA)
	}
	return readOnly(mux, tsaPath)
}

func (p *Public) healthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	if p.Health != nil {
		if err := p.Health(r.Context()); err != nil {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintf(w, "unavailable: %s\n", sceau.Message(err))
			p.writeMode(w)
			p.healthDetails(w)
			return
		}
	}
	fmt.Fprintln(w, "ok")
	p.writeMode(w)
	p.healthDetails(w)
}

func (p *Public) writeMode(w http.ResponseWriter) {
	if p.Mode != "" {
		fmt.Fprintf(w, "mode: %s\n", p.Mode)
	}
}

func (p *Public) healthDetails(w http.ResponseWriter) {
	if p.Details == nil {
		return
	}
	for _, l := range p.Details() {
		fmt.Fprintln(w, l)
	}
}

// readOnly refuses every method that could write, before routing; POST
// is for OCSP and, when tsaPath is set, time-stamp requests.
func readOnly(next http.Handler, tsaPath string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodGet, http.MethodHead:
		case http.MethodPost:
			if r.URL.Path != "/ocsp" && !strings.HasPrefix(r.URL.Path, "/ocsp/") && (tsaPath == "" || r.URL.Path != tsaPath) {
				w.Header().Set("Allow", "GET, HEAD")
				http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
				return
			}
		default:
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		w.Header().Set("X-Content-Type-Options", "nosniff")
		next.ServeHTTP(w, r)
	})
}

var indexPage = template.Must(template.New("index").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sceau – public repository</title>
<style>body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}code{font-size:.85rem;word-break:break-all}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.3rem .5rem;text-align:left;vertical-align:top}</style>
</head><body><h1>Certification authorities</h1>
<table><tr><th>CA</th><th>Certificate</th><th>Fingerprints</th><th>CRL</th></tr>
{{range .}}<tr><td><strong>{{.ID}}</strong><br>{{.Subject}}<br>valid {{.NotBefore}} to {{.NotAfter}}</td>
<td><a href="/ca/{{.ID}}.der">DER</a> · <a href="/ca/{{.ID}}.pem">PEM</a></td>
<td>SHA-256 <code>{{.SHA256}}</code><br>SHA-1 <code>{{.SHA1}}</code></td>
<td><a href="/crl/{{.ID}}.crl">{{.ID}}.crl</a></td></tr>
{{end}}</table>
<p>OCSP responder: <code>/ocsp</code> (RFC 6960, GET and POST).</p>
</body></html>`))

type caView struct {
	ID, Subject, NotBefore, NotAfter, SHA1, SHA256 string
}

func (p *Public) index(w http.ResponseWriter, r *http.Request) {
	var views []caView
	for _, c := range p.Authority.CAs() {
		s1, s2 := ca.Fingerprints(c.Cert.Raw)
		views = append(views, caView{ID: c.Spec.ID, Subject: c.Cert.Subject.String(),
			NotBefore: c.Cert.NotBefore.Format(time.DateOnly), NotAfter: c.Cert.NotAfter.Format(time.DateOnly), SHA1: s1, SHA256: s2})
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := indexPage.Execute(w, views); err != nil {
		p.Log.Error("index page", "err", err)
	}
}

// caFile serves /ca/{id}.der, /ca/{id}.pem and /ca/{id}.txt (fingerprints).
func (p *Public) caFile(w http.ResponseWriter, r *http.Request) {
	file := r.PathValue("file")
	dot := strings.LastIndexByte(file, '.')
	if dot < 0 {
		http.NotFound(w, r)
		return
	}
	c, err := p.Authority.CA(file[:dot])
	if err != nil {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Cache-Control", "max-age=3600, public")
	switch file[dot:] {
	case ".der", ".crt", ".cer":
		w.Header().Set("Content-Type", "application/pkix-cert")
		w.Write(c.Cert.Raw)
	case ".pem":
		w.Header().Set("Content-Type", "application/x-pem-file")
		pem.Encode(w, &pem.Block{Type: "CERTIFICATE", Bytes: c.Cert.Raw})
	case ".txt":
		s1, s2 := ca.Fingerprints(c.Cert.Raw)
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintf(w, "subject: %s\nSHA-256: %s\nSHA-1: %s\n", c.Cert.Subject, s2, s1)
	default:
		http.NotFound(w, r)
	}
}

func (p *Public) crlFile(w http.ResponseWriter, r *http.Request) {
	id, ok := strings.CutSuffix(r.PathValue("file"), ".crl")
	if !ok {
		http.NotFound(w, r)
		return
	}
	p.serveCRL(w, r, id, revocation.FullCRL)
}

func (p *Public) crlShard(w http.ResponseWriter, r *http.Request) {
	k, err := strconv.Atoi(strings.TrimSuffix(r.PathValue("file"), ".crl"))
	if err != nil || k < 1 || !strings.HasSuffix(r.PathValue("file"), ".crl") {
		http.NotFound(w, r)
		return
	}
	p.serveCRL(w, r, r.PathValue("ca"), k)
}

func (p *Public) serveCRL(w http.ResponseWriter, r *http.Request, id string, shard int) {
	ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
	defer cancel()
	crl, err := p.Revocation.Latest(ctx, id, shard)
	if err != nil {
		if errors.Is(err, sceau.ErrNotFound) {
			http.NotFound(w, r)
			return
		}
		p.Log.Error("crl", "ca", id, "err", err)
		http.Error(w, "temporarily unavailable: "+sceau.Message(err), http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "application/pkix-crl")
	w.Header().Set("Last-Modified", crl.ThisUpdate.UTC().Format(http.TimeFormat))
	w.Header().Set("Expires", crl.NextUpdate.UTC().Format(http.TimeFormat))
	w.Header().Set("Cache-Control", "max-age=300, public")
	w.Write(crl.DER)
}
