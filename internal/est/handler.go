package est

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/sceau/sceau/internal/ca"
	"github.com/sceau/sceau/internal/sceau"
)

var _ http.Handler = (*Service)(nil)

// Prefix is where the server is mounted (RFC 7030 §3.2.2).
const Prefix = "/.well-known/est/"

// The media types of RFC 7030 §4.
const (
	typeCertsOnly = "application/pkcs7-mime; smime-type=certs-only"
	typePKCS7     = "application/pkcs7-mime"
	typeCSRAttrs  = "application/csrattrs"
)

// ServeHTTP serves /.well-known/est/<operation> for the default CA and
// /.well-known/est/<ca>/<operation> for each CA.
func (s *Service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rest, ok := strings.CutPrefix(r.URL.Path, Prefix)
	if !ok {
		http.NotFound(w, r)
		return
	}
	label, op, labelled := strings.Cut(rest, "/")
	if !labelled {
		label, op = "", rest
	}
	if strings.Contains(op, "/") {
		http.NotFound(w, r)
		return
	}
	caID := label
	if caID == "" {
		caID = s.defaultCA()
	}
	c, err := s.ca.CA(caID)
	if caID == "" || err != nil {
		fail(w, http.StatusNotFound, "no such EST CA label (use /.well-known/est/<ca>/ when there are several CAs)")
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	method := http.MethodPost
	if op == "cacerts" || op == "csrattrs" {
		method = http.MethodGet
	}
	switch op {
	case "cacerts", "csrattrs", "simpleenroll", "simplereenroll":
	case "serverkeygen", "fullcmc":
		fail(w, http.StatusNotImplemented, op+" is not offered: send a PKCS#10 request to simpleenroll")
		return
	default:
		fail(w, http.StatusNotFound, "no such EST operation")
		return
	}
	if r.Method != method && !(method == http.MethodGet && r.Method == http.MethodHead) {
		w.Header().Set("Allow", method)
		fail(w, http.StatusMethodNotAllowed, op+" takes "+method)
		return
	}
	switch op {
	case "cacerts":
		s.cacerts(w, c)
	case "csrattrs":
		der, err := csrAttrs(c)
		if err != nil {
			fail(w, http.StatusInternalServerError, "internal error")
			return
		}
		answer(w, typeCSRAttrs, der)
	case "simpleenroll":
		s.enroll(w, r, c, false)
	case "simplereenroll":
		s.enroll(w, r, c, true)
	}
}

// defaultCA is Options.DefaultCA, or the only CA with certificate
// profiles.
func (s *Service) defaultCA() string {
	if s.opts.DefaultCA != "" {
		return s.opts.DefaultCA
	}
	id := ""
	for _, c := range s.ca.CAs() {
		if len(c.Spec.Profiles) == 0 {
			continue
		}
		if id != "" {
			return ""
		}
		id = c.Spec.ID
	}
	return id
}

// cacerts answers the CA's certificate and its chain up to the root
// (RFC 7030 §4.1).
func (s *Service) cacerts(w http.ResponseWriter, c *ca.CA) {
	var certs [][]byte
	for _, cc := range c.Chain {
		certs = append(certs, cc.Raw)
	}
	der, err := certsOnly(certs...)
	if err != nil {
		fail(w, http.StatusInternalServerError, "internal error")
		return
	}
	answer(w, typePKCS7, der)
}

// answer writes a DER body in the base64 transfer encoding of RFC 7030.
func answer(w http.ResponseWriter, contentType string, der []byte) {
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Transfer-Encoding", "base64")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(base64Lines(der))
}

// fail writes an error as a short text (RFC 7030 §4.2.3: a human-readable
// body).
func fail(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = fmt.Fprintf(w, "est: %s\n", msg)
}

// refusal is a refused EST request: its status, its message (sent to the
// client and journaled) and, for 401, the challenge.
type refusal struct {
	status int
	msg    string
	reason string // the journal's reason when it says more than msg
	// challenge: the 401 that asks a client without credentials for them,
	// the first step of HTTP Basic; it is not journaled, or any client
	// could fill the journal without presenting anything.
	challenge bool
}

func (e *refusal) Error() string { return e.msg }

func refuse(status int, msg string) *refusal { return &refusal{status: status, msg: msg} }

// refusalOf maps a domain error to a refusal.
func refusalOf(err error) *refusal {
	var rf *refusal
	if errors.As(err, &rf) {
		return rf
	}
	switch sceau.KindOf(err) {
	case sceau.Invalid:
		return refuse(http.StatusBadRequest, sceau.Message(err))
	case sceau.Denied:
		return refuse(http.StatusForbidden, sceau.Message(err))
	case sceau.Conflict:
		return refuse(http.StatusConflict, sceau.Message(err))
	case sceau.Unavailable:
		return refuse(http.StatusServiceUnavailable, sceau.Message(err))
	case sceau.NotFound:
		return refuse(http.StatusForbidden, sceau.Message(err))
	}
	return &refusal{status: http.StatusInternalServerError, msg: "internal error", reason: "internal error: " + err.Error()}
}
