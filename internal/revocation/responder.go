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
			rs.write(w, r, answer{body: ocsp.MalformedRequestErrorResponse, status: "malformed"}, start)
			return
		}
	case http.MethodPost:
		if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/ocsp-request") {
			rs.write(w, r, answer{body: ocsp.MalformedRequestErrorResponse, status: "malformed"}, start)
			return
		}
		b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxOCSPRequest))
		if err != nil {
			rs.write(w, r, answer{body: ocsp.MalformedRequestErrorResponse, status: "malformed"}, start)
			return
		}
		der = b
	default:
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	rs.write(w, r, rs.respond(r.Context(), der), start)
}

// answer is one OCSP answer with what its HTTP headers need: the validity
// interval of a successful response, carried from where it was signed or
// stored (CA-3: never parsed back from the DER on the request path).
type answer struct {
	body                   []byte
	status                 string
	thisUpdate, nextUpdate time.Time // zero for error answers
}

// Respond answers one DER request; status names the outcome for metrics.
func (rs *Responder) Respond(ctx context.Context, der []byte) ([]byte, string) {
	a := rs.respond(ctx, der)
	return a.body, a.status
}

func (rs *Responder) respond(ctx context.Context, der []byte) answer {
	req, err := ParseRequest(der)
	if err != nil {
		return answer{body: ocsp.MalformedRequestErrorResponse, status: "malformed"}
	}
	iss := rs.svc.issuerByCertID(req.Hash, req.NameHash, req.KeyHash)
	if iss == nil {
		return answer{body: ocsp.UnauthorizedErrorResponse, status: "unauthorized"}
	}
	serial := SerialHex(req.Serial)
	st, err := rs.svc.Lookup(ctx, rs.svc.db, serial)
	switch {
	case errors.Is(err, sceau.ErrNotFound):
		st = nil // never reserved: unknown, never good
	case err != nil:
		rs.log.Error("ocsp lookup failed", "serial", serial, "err", err)
		return answer{body: ocsp.TryLaterErrorResponse, status: "trylater"}
	case st.CAID != iss.ID:
		st = nil // a serial of another CA
	}
	if st != nil && !st.Issued && !st.Revoked {
		// Reserved, not yet stored: the certificate is being issued (or
		// its issuance crashed and recovery will revoke it). Never good.
		return answer{body: ocsp.TryLaterErrorResponse, status: "trylater"}
	}
	now := rs.svc.clock.Now()
	// A node without the responder's key (public-only, docs/scaling.md)
	// signs nothing: it answers from the responses the signing nodes
	// stored, and a nonce it cannot echo is left out (RFC 6960 §4.4.1 makes
	// the nonce optional; RFC 5019 §2.1 responders ignore it), which the
	// client may accept or not.
	canSign := signerActive(iss.OCSPSigner)
	presigned := st != nil && req.Hash == crypto.SHA1 && st.Response != nil && now.Before(st.ResponseNextUpdate)
	if presigned && (req.Nonce == nil || !canSign) {
		return answer{body: st.Response, status: statusName(st), thisUpdate: st.ResponseThisUpdate, nextUpdate: st.ResponseNextUpdate}
	}
	if !canSign {
		// CA-3: no stored response fits (a SHA-256 CertID, an unknown
		// serial, a response past its nextUpdate): tryLater, as when a
		// signature fails, so the client asks another node or retries.
		return answer{body: ocsp.TryLaterErrorResponse, status: "trylater"}
	}
	// Signed on demand: nonce echo, SHA-256 CertIDs, unknown serials.
	select {
	case rs.svc.onDemand <- struct{}{}:
		defer func() { <-rs.svc.onDemand }()
	case <-ctx.Done():
		return answer{body: ocsp.TryLaterErrorResponse, status: "trylater"}
	}
	var ext []ocspExtension
	if req.Nonce != nil {
		ext = append(ext, ocspExtension{nonceExtension(req.Nonce)})
	}
	resp, err := rs.svc.SignOCSP(iss, req.Serial, st, req.Hash, ext...)
	if errors.Is(err, errClockRefused) {
		// SYS-4: tryLater, never a response signed on an untrusted clock;
		// the guard raised the alert already.
		rs.log.Warn("ocsp response not signed: the clock is not trusted", "ca", iss.ID, "err", err)
		return answer{body: ocsp.TryLaterErrorResponse, status: "trylater"}
	}
	if err != nil {
		rs.log.Error("ocsp signing failed", "ca", iss.ID, "err", err)
		return answer{body: ocsp.TryLaterErrorResponse, status: "trylater"}
	}
	return answer{body: resp.DER, status: statusName(st), thisUpdate: resp.ThisUpdate, nextUpdate: resp.NextUpdate}
}

// signerActive reports whether a responder key can sign now: false for a
// key whose store is not activated (keys.Deferred says so; KEY-5).
func signerActive(s crypto.Signer) bool {
	if a, ok := s.(interface{ Active() bool }); ok {
		return a.Active()
	}
	return s != nil
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

// write sends the answer. A good or revoked answer to a GET is cacheable
// (CA-3, RFC 5019 §6.2): Last-Modified is its thisUpdate, Expires its
// nextUpdate, max-age the seconds left until then, and an ETag its hash;
// If-None-Match and If-Modified-Since are answered with 304. A nonce
// request has its own URL, so a cache never serves its answer to another
// (ADR 0002). Everything else (POST, errors, unknown serials) is no-store.
func (rs *Responder) write(w http.ResponseWriter, r *http.Request, a answer, start time.Time) {
	h := w.Header()
	now := rs.svc.clock.Now()
	cacheable := r.Method != http.MethodPost && (a.status == "good" || a.status == "revoked") && a.nextUpdate.After(now)
	if !cacheable {
		h.Set("Cache-Control", "no-store")
	} else {
		sum := sha256.Sum256(a.body)
		etag := `"` + hex.EncodeToString(sum[:8]) + `"`
		h.Set("ETag", etag)
		if !a.thisUpdate.IsZero() {
			h.Set("Last-Modified", a.thisUpdate.UTC().Format(http.TimeFormat))
		}
		h.Set("Expires", a.nextUpdate.UTC().Format(http.TimeFormat))
		maxAge := int64(a.nextUpdate.Sub(now) / time.Second)
		h.Set("Cache-Control", "max-age="+strconv.FormatInt(maxAge, 10)+", public, no-transform, must-revalidate")
		if notModified(r, etag, a.thisUpdate) {
			w.WriteHeader(http.StatusNotModified)
			rs.observe(a.status, start)
			return
		}
	}
	h.Set("Content-Type", "application/ocsp-response")
	h.Set("Content-Length", strconv.Itoa(len(a.body)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(a.body)
	}
	rs.observe(a.status, start)
}

func (rs *Responder) observe(status string, start time.Time) {
	if rs.Observe != nil {
		rs.Observe(status, time.Since(start))
	}
}

// notModified says whether a conditional GET may be answered with 304: an
// If-None-Match naming etag or, without If-None-Match, an If-Modified-Since
// not before thisUpdate (RFC 9110 §13.2.2).
func notModified(r *http.Request, etag string, thisUpdate time.Time) bool {
	if inm := r.Header.Get("If-None-Match"); inm != "" {
		for t := range strings.SplitSeq(inm, ",") {
			t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
			if t == etag || t == "*" {
				return true
			}
		}
		return false
	}
	if ims := r.Header.Get("If-Modified-Since"); ims != "" && !thisUpdate.IsZero() {
		if t, err := http.ParseTime(ims); err == nil {
			return !thisUpdate.Truncate(time.Second).After(t)
		}
	}
	return false
}
