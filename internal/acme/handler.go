package acme

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/sceau/sceau/internal/sceau"
)

var _ http.Handler = (*Service)(nil)

// ServeHTTP serves /acme/<directory>/... Every answer carries a fresh
// Replay-Nonce and the directory's index link.
func (s *Service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rest, ok := strings.CutPrefix(r.URL.Path, "/acme/")
	if !ok {
		http.NotFound(w, r)
		return
	}
	name, rest, _ := strings.Cut(rest, "/")
	dir, ok := s.dirs[name]
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Replay-Nonce", s.nonces.issue())
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Add("Link", fmt.Sprintf(`<%s>;rel="index"`, s.dirURL(r, dir, "directory")))
	if rest == "directory" || rest == "new-nonce" {
		switch {
		case rest == "directory" && r.Method == http.MethodGet:
			s.directory(w, r, dir)
		case rest == "new-nonce" && r.Method == http.MethodHead:
			w.WriteHeader(http.StatusOK)
		case rest == "new-nonce" && r.Method == http.MethodGet:
			w.WriteHeader(http.StatusNoContent)
		default:
			writeProblem(w, prob(probMalformed, http.StatusMethodNotAllowed, "method not allowed"))
		}
		return
	}
	if certID, ok := strings.CutPrefix(rest, "renewal-info/"); ok && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
		s.fail(w, r, s.renewalInfo(r.Context(), w, dir, certID)) // RFC 9773, ari.go
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		writeProblem(w, prob(probMalformed, http.StatusMethodNotAllowed, "ACME resources take POST (POST-as-GET to read)"))
		return
	}
	s.fail(w, r, s.route(r.Context(), w, r, dir, rest))
}

// fail answers the problem p, if any, and counts it.
func (s *Service) fail(w http.ResponseWriter, r *http.Request, p *problem) {
	if p == nil {
		return
	}
	s.observe("problem", strings.TrimPrefix(p.Type, errPrefix))
	if p.Status >= 500 {
		s.log.Error("acme: request failed", "path", r.URL.Path, "problem", p.Type)
	}
	writeProblem(w, p)
}

func (s *Service) route(ctx context.Context, w http.ResponseWriter, r *http.Request, dir Directory, rest string) *problem {
	parts := strings.Split(rest, "/")
	switch {
	case rest == "new-account":
		return s.newAccount(ctx, w, r, dir)
	case rest == "new-order":
		return s.newOrder(ctx, w, r, dir)
	case rest == "revoke-cert":
		return s.revokeCert(ctx, w, r, dir)
	case rest == "key-change":
		return s.keyChange(ctx, w, r, dir)
	case len(parts) == 2 && parts[0] == "acct":
		return s.updateAccount(ctx, w, r, dir, parts[1])
	case len(parts) == 3 && parts[0] == "acct" && parts[2] == "orders":
		return s.accountOrders(ctx, w, r, dir, parts[1])
	case len(parts) == 2 && parts[0] == "order":
		return s.getOrder(ctx, w, r, dir, parts[1])
	case len(parts) == 3 && parts[0] == "order" && parts[2] == "finalize":
		return s.finalize(ctx, w, r, dir, parts[1])
	case len(parts) == 2 && parts[0] == "authz":
		return s.getAuthz(ctx, w, r, dir, parts[1])
	case len(parts) == 2 && parts[0] == "chall":
		return s.challenge(ctx, w, r, dir, parts[1])
	case (len(parts) == 2 || len(parts) == 3 && parts[2] == "full") && parts[0] == "cert":
		return s.certificate(ctx, w, r, dir, parts[1], len(parts) == 3)
	}
	return prob(probMalformed, http.StatusNotFound, "no such ACME resource")
}

// base is the external URL of the listener.
func (s *Service) base(r *http.Request) string {
	if s.opts.BaseURL != "" {
		return strings.TrimSuffix(s.opts.BaseURL, "/")
	}
	scheme := "https"
	if r.TLS == nil {
		scheme = "http"
	}
	return scheme + "://" + r.Host
}

func (s *Service) requestURL(r *http.Request) string { return s.base(r) + r.URL.Path }

func (s *Service) dirURL(r *http.Request, dir Directory, rest string) string {
	return s.base(r) + "/acme/" + dir.Name + "/" + rest
}

func (s *Service) directory(w http.ResponseWriter, r *http.Request, dir Directory) {
	u := func(p string) string { return s.dirURL(r, dir, p) }
	meta := map[string]any{"externalAccountRequired": !dir.EABOptional}
	if s.opts.TermsURL != "" {
		meta["termsOfService"] = s.opts.TermsURL
	}
	respond(w, http.StatusOK, "", map[string]any{"newNonce": u("new-nonce"), "newAccount": u("new-account"), "newOrder": u("new-order"),
		"revokeCert": u("revoke-cert"), "keyChange": u("key-change"), "renewalInfo": u("renewal-info"), "meta": meta})
}

func respond(w http.ResponseWriter, status int, location string, v any) {
	if location != "" {
		w.Header().Set("Location", location)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func parseID(s string) (int64, *problem) {
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return 0, prob(probMalformed, http.StatusNotFound, "no such ACME resource")
	}
	return id, nil
}

// Account is an ACME account.
type Account struct {
	ID         int64
	Directory  string
	Thumbprint string
	Status     string
	Contact    []string
	EABKID     string
	key        *jose.JSONWebKey
}

// actor is the audit actor of the account (ROLE-5: the EAB it is bound
// to names the dossier and the officer who made the key).
func (a *Account) actor() sceau.Actor { return sceau.Actor{ID: fmt.Sprintf("acme:account-%d", a.ID)} }

func (s *Service) accountURL(r *http.Request, dir Directory, id int64) string {
	return s.dirURL(r, dir, fmt.Sprintf("acct/%d", id))
}

func scanAccount(sc interface{ Scan(...any) error }) (*Account, error) {
	var a Account
	var jwk, contact, created string
	var eab sql.NullString
	if err := sc.Scan(&a.ID, &a.Directory, &a.Thumbprint, &jwk, &a.Status, &contact, &eab, &created); err != nil {
		return nil, err
	}
	a.EABKID = eab.String
	a.key = new(jose.JSONWebKey)
	if err := a.key.UnmarshalJSON([]byte(jwk)); err != nil {
		return nil, sceau.E(sceau.Internal, "acme: account", "stored key", err)
	}
	if err := json.Unmarshal([]byte(contact), &a.Contact); err != nil {
		return nil, sceau.E(sceau.Internal, "acme: account", "stored contact", err)
	}
	return &a, nil
}

// accountByKID finds the account a kid URL names: it must be of this
// directory and valid.
func (s *Service) accountByKID(ctx context.Context, r *http.Request, dir Directory, kid string) (*Account, *problem) {
	prefix := s.dirURL(r, dir, "acct/")
	rest, ok := strings.CutPrefix(kid, prefix)
	id, err := strconv.ParseInt(rest, 10, 64)
	if !ok || err != nil {
		return nil, prob(probAccountDoesNotExist, http.StatusBadRequest, "the kid is not an account URL of this directory")
	}
	a, err := scanAccount(s.db.QueryRowContext(ctx, qAccount, id))
	if errors.Is(err, sql.ErrNoRows) || (err == nil && a.Directory != dir.Name) {
		return nil, prob(probAccountDoesNotExist, http.StatusBadRequest, "no such account")
	}
	if err != nil {
		return nil, problemOf(err, probMalformed)
	}
	if a.Status != "valid" {
		return nil, unauthorized("the account is " + a.Status)
	}
	return a, nil
}

func (s *Service) accountJSON(r *http.Request, dir Directory, a *Account) map[string]any {
	contact := a.Contact
	if contact == nil {
		contact = []string{}
	}
	return map[string]any{"status": a.Status, "contact": contact, "orders": s.accountURL(r, dir, a.ID) + "/orders"}
}
