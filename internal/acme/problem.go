package acme

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	"github.com/sceau/sceau/internal/sceau"
)

// The ACME error types (RFC 8555 §6.7) Sceau answers with.
const (
	errPrefix                = "urn:ietf:params:acme:error:"
	probAccountDoesNotExist  = "accountDoesNotExist"
	probAlreadyRevoked       = "alreadyRevoked"
	probBadCSR               = "badCSR"
	probBadNonce             = "badNonce"
	probBadPublicKey         = "badPublicKey"
	probBadRevocationReason  = "badRevocationReason"
	probBadSignatureAlg      = "badSignatureAlgorithm"
	probConnection           = "connection"
	probDNS                  = "dns"
	probExternalAccountReq   = "externalAccountRequired"
	probIncorrectResponse    = "incorrectResponse"
	probMalformed            = "malformed"
	probOrderNotReady        = "orderNotReady"
	probRejectedIdentifier   = "rejectedIdentifier"
	probServerInternal       = "serverInternal"
	probTLS                  = "tls"
	probUnauthorized         = "unauthorized"
	probUnsupportedIdentifer = "unsupportedIdentifier"
	probCAA                  = "caa"
)

// problem is an RFC 7807 problem document with an ACME type.
type problem struct {
	Type       string   `json:"type"`
	Detail     string   `json:"detail,omitempty"`
	Status     int      `json:"status"`
	Algorithms []string `json:"algorithms,omitempty"`
	// location is sent as the Location header (keyChange conflicts).
	location string
	// retryAfter, in seconds, is sent as the Retry-After header
	// (rateLimited).
	retryAfter int
}

func (p *problem) Error() string { return p.Type + ": " + p.Detail }

func prob(kind string, status int, detail string) *problem {
	return &problem{Type: errPrefix + kind, Status: status, Detail: detail}
}

func malformed(detail string) *problem { return prob(probMalformed, http.StatusBadRequest, detail) }

func unauthorized(detail string) *problem {
	return prob(probUnauthorized, http.StatusForbidden, detail)
}

// problemOf maps an error from the domain packages to a problem: its
// kind decides the status; an internal error's text is not shown.
func problemOf(err error, invalidAs string) *problem {
	var p *problem
	if errors.As(err, &p) {
		return p
	}
	switch sceau.KindOf(err) {
	case sceau.Invalid:
		return prob(invalidAs, http.StatusBadRequest, sceau.Message(err))
	case sceau.NotFound:
		return prob(probMalformed, http.StatusNotFound, sceau.Message(err))
	case sceau.Conflict:
		return prob(probMalformed, http.StatusConflict, sceau.Message(err))
	case sceau.Denied:
		return unauthorized(sceau.Message(err))
	case sceau.Unavailable:
		return prob(probServerInternal, http.StatusServiceUnavailable, sceau.Message(err))
	}
	return prob(probServerInternal, http.StatusInternalServerError, "internal error")
}

func writeProblem(w http.ResponseWriter, p *problem) {
	if p.location != "" {
		w.Header().Set("Location", p.location)
	}
	if p.retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(p.retryAfter))
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(p.Status)
	_ = json.NewEncoder(w).Encode(p)
}
