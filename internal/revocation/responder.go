package revocation

import (
	"context"
	"crypto"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/sceau/sceau/internal/sceau"
)

// maxOCSPRequest caps request bodies; real requests are a few hundred bytes.
const maxOCSPRequest = 8 << 10

// Responder answers OCSP requests over HTTP GET (RFC 6960 §A.1, base64 DER
// in the path) and POST (DER body).
type Responder struct {
	svc *Service
	log *slog.Logger
	// Observe, if set, is told of every answer: its status and how long it took.
	Observe func(status string, d time.Duration)
}

// NewResponder returns the HTTP responder over svc.
func (s *Service) NewResponder(log *slog.Logger) *Responder {
	if log == nil {
		log = slog.Default()
	}
	return &Responder{svc: s, log: log}
}

func (rs *Responder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	var der []byte
	switch r.Method {
	case http.MethodGet:
		// The path after the mount point is URL-escaped base64 (RFC 6960
		// §A.1); '+' and '/' may arrive escaped or not.
		p := r.URL.EscapedPath()
		if i := strings.LastIndex(p, "/ocsp/"); i >= 0 {
			p = p[i+len("/ocsp/"):]
		} else {
			p = ""
		}
		p, err := url.PathUnescape(p)
		if err == nil {
			p = strings.ReplaceAll(p, " ", "+")
			der, err = base64.StdEncoding.DecodeString(p)
		}
		if err != nil || len(der) == 0 {
			rs.write(w, r, ocsp.MalformedRequestErrorResponse, "malformed", start, false)
			return
		}
	case http.MethodPost:
		if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/ocsp-request") {
			rs.write(w, r, ocsp.MalformedRequestErrorResponse, "malformed", start, false)
			return
		}
		b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxOCSPRequest))
		if err != nil {
			rs.write(w, r, ocsp.MalformedRequestErrorResponse, "malformed", start, false)
			return
		}
		der = b
	default:
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	resp, status := rs.Respond(r.Context(), der)
	rs.write(w, r, resp, status, start, r.Method == http.MethodGet && status != "malformed")
}

// Respond answers one DER request; status names the outcome for metrics.
func (rs *Responder) Respond(ctx context.Context, der []byte) ([]byte, string) {
	req, err := ParseRequest(der)
	if err != nil {
		return ocsp.MalformedRequestErrorResponse, "malformed"
	}
	iss := rs.svc.issuerByCertID(req.Hash, req.NameHash, req.KeyHash)
	if iss == nil {
		return ocsp.UnauthorizedErrorResponse, "unauthorized"
	}
	serial := SerialHex(req.Serial)
	st, err := rs.svc.Lookup(ctx, rs.svc.db, serial)
	switch {
	case errors.Is(err, sceau.ErrNotFound):
		st = nil // never reserved: unknown, never good
	case err != nil:
		rs.log.Error("ocsp lookup failed", "serial", serial, "err", err)
		return ocsp.TryLaterErrorResponse, "trylater"
	case st.CAID != iss.ID:
		st = nil // a serial of another CA
	}
	if st != nil && !st.Issued && !st.Revoked {
		// Reserved, not yet stored: the certificate is being issued (or
		// its issuance crashed and recovery will revoke it). Never good.
		return ocsp.TryLaterErrorResponse, "trylater"
	}
	now := rs.svc.clock.Now()
	if st != nil && req.Nonce == nil && req.Hash == crypto.SHA1 && st.Response != nil && now.Before(st.ResponseNextUpdate) {
		return st.Response, statusName(st)
	}
	// Signed on demand: nonce echo, SHA-256 CertIDs, unknown serials.
	select {
	case rs.svc.onDemand <- struct{}{}:
		defer func() { <-rs.svc.onDemand }()
	case <-ctx.Done():
		return ocsp.TryLaterErrorResponse, "trylater"
	}
	var ext []ocspExtension
	if req.Nonce != nil {
		ext = append(ext, ocspExtension{nonceExtension(req.Nonce)})
	}
	resp, _, err := rs.svc.SignOCSP(iss, req.Serial, st, req.Hash, ext...)
	if err != nil {
		rs.log.Error("ocsp signing failed", "ca", iss.ID, "err", err)
		return ocsp.TryLaterErrorResponse, "trylater"
	}
	return resp, statusName(st)
}

func statusName(st *Status) string {
	switch {
	case st == nil:
		return "unknown"
	case st.Revoked:
		return "revoked"
	default:
		return "good"
	}
}

func (rs *Responder) write(w http.ResponseWriter, r *http.Request, body []byte, status string, start time.Time, cacheable bool) {
	h := w.Header()
	h.Set("Content-Type", "application/ocsp-response")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	if cacheable && (status == "good" || status == "revoked") {
		sum := sha256.Sum256(body)
		h.Set("ETag", `"`+hex.EncodeToString(sum[:8])+`"`)
		h.Set("Cache-Control", "max-age=3600, public, no-transform, must-revalidate")
	} else {
		h.Set("Cache-Control", "no-store")
	}
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
	if rs.Observe != nil {
		rs.Observe(status, time.Since(start))
	}
}
