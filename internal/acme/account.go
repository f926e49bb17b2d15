package acme

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/sceau/sceau/internal/audit"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/store"
)

// The HMAC algorithms of an EAB JWS.
var eabAlgs = []jose.SignatureAlgorithm{jose.HS256, jose.HS384, jose.HS512}

type newAccountReq struct {
	Contact            []string        `json:"contact"`
	TermsAgreed        bool            `json:"termsOfServiceAgreed"`
	OnlyReturnExisting bool            `json:"onlyReturnExisting"`
	EAB                json.RawMessage `json:"externalAccountBinding"`
}

func checkContacts(cs []string) *problem {
	for _, c := range cs {
		if !strings.HasPrefix(c, "mailto:") || strings.ContainsAny(c, ",?") || len(c) < 10 {
			return prob("invalidContact", http.StatusBadRequest, "contacts are mailto: URLs with one address")
		}
	}
	return nil
}

func (s *Service) newAccount(ctx context.Context, w http.ResponseWriter, r *http.Request, dir Directory) *problem {
	req, p := s.verify(ctx, w, r, dir, needJWK)
	if p != nil {
		return p
	}
	var in newAccountReq
	if p := req.decode(&in); p != nil {
		return p
	}
	thumb, err := thumbprint(req.key)
	if err != nil {
		return malformed("the jwk has no thumbprint")
	}
	existing, err := scanAccount(s.db.QueryRowContext(ctx, qAccountByThumb, thumb))
	switch {
	case err == nil && existing.Directory == dir.Name:
		respond(w, http.StatusOK, s.accountURL(r, dir, existing.ID), s.accountJSON(r, dir, existing))
		return nil
	case err == nil:
		return unauthorized("this key belongs to an account of another directory")
	case !errors.Is(err, sql.ErrNoRows):
		return problemOf(err, probMalformed)
	}
	if in.OnlyReturnExisting {
		return prob(probAccountDoesNotExist, http.StatusBadRequest, "no account has this key")
	}
	if p := checkContacts(in.Contact); p != nil {
		return p
	}
	var eab *EABKey
	if len(in.EAB) > 0 && string(in.EAB) != "null" {
		if eab, p = s.checkEAB(ctx, r, dir, in.EAB, req.key); p != nil {
			return p
		}
	} else if !dir.EABOptional {
		// CA-4: no anonymous account; each is bound to a validated dossier.
		return prob(probExternalAccountReq, http.StatusUnauthorized, "this directory requires an external account binding made by a Registration Officer")
	}
	jwk, err := req.key.MarshalJSON()
	if err != nil {
		return malformed("the jwk cannot be encoded")
	}
	contact, _ := json.Marshal(nonNil(in.Contact))
	now := s.now()
	a := &Account{Directory: dir.Name, Thumbprint: thumb, Status: "valid", Contact: in.Contact, key: req.key}
	var kid any
	details := map[string]any{"thumbprint": thumb, "contact": nonNil(in.Contact), "directory": dir.Name}
	if eab != nil {
		kid, a.EABKID = eab.KID, eab.KID
		details["eab"], details["dossier"] = eab.KID, eab.Dossier
	}
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.QueryRowContext(ctx, qInsertAccount, dir.Name, thumb, string(jwk), string(contact), kid,
			store.FormatTime(now), store.FormatTime(now)).Scan(&a.ID); err != nil {
			return store.Classify("acme: new account", err)
		}
		if eab != nil {
			// An EAB key binds one account, once.
			if err := moved(tx.ExecContext(ctx, qBindEAB, a.ID, eab.KID)); err != nil {
				return unauthorized("the EAB key is bound to another account or revoked")
			}
		}
		return s.j.Append(ctx, tx, audit.Event{Actor: a.actor(), Action: audit.ActionACMEAccountCreated,
			Object: "acme-account:" + itoa(a.ID), Details: details})
	})
	if err != nil {
		return problemOf(err, probMalformed)
	}
	respond(w, http.StatusCreated, s.accountURL(r, dir, a.ID), s.accountJSON(r, dir, a))
	return nil
}

// checkEAB verifies an external account binding (RFC 8555 §7.3.4): an
// HMAC JWS by an EAB key in force, over the account key, for this URL;
// the key's CA and profile are the directory's (CA-4).
func (s *Service) checkEAB(ctx context.Context, r *http.Request, dir Directory, raw json.RawMessage, accountKey *jose.JSONWebKey) (*EABKey, *problem) {
	_, h, p := parseJWS(raw, eabAlgs)
	if p != nil {
		p.Type, p.Status = errPrefix+probUnauthorized, http.StatusForbidden
		return nil, p
	}
	if h.Nonce != "" || h.JWK != nil || h.KID == "" {
		return nil, malformed("the EAB JWS has a kid and neither nonce nor jwk")
	}
	if h.URL != s.requestURL(r) {
		return nil, unauthorized("the EAB JWS url is not the newAccount URL")
	}
	k, err := s.eab(ctx, s.db, h.KID)
	if err != nil {
		if sceau.KindOf(err) == sceau.NotFound {
			return nil, unauthorized("unknown EAB key")
		}
		return nil, problemOf(err, probMalformed)
	}
	payload, p := verifyWith(raw, h.Alg, k.key)
	if p != nil {
		return nil, unauthorized("the EAB signature does not verify")
	}
	var bound jose.JSONWebKey
	if err := bound.UnmarshalJSON(payload); err != nil {
		return nil, malformed("the EAB payload is not a jwk")
	}
	t1, err1 := thumbprint(&bound)
	t2, err2 := thumbprint(accountKey)
	if err1 != nil || err2 != nil || t1 != t2 {
		return nil, unauthorized("the EAB binds another key than the account's")
	}
	switch {
	case k.RevokedAt != nil:
		return nil, unauthorized("the EAB key is revoked")
	case k.Account != 0:
		return nil, unauthorized("the EAB key is bound to an account already")
	case k.CA != dir.CA || k.Profile != dir.Profile:
		return nil, unauthorized("the EAB key is for CA " + k.CA + " profile " + k.Profile + ", not this directory's")
	}
	return k, nil
}

type accountUpdate struct {
	Contact *[]string `json:"contact"`
	Status  string    `json:"status"`
}

func (s *Service) ownAccount(ctx context.Context, w http.ResponseWriter, r *http.Request, dir Directory, idText string) (*signed, *problem) {
	id, p := parseID(idText)
	if p != nil {
		return nil, p
	}
	req, p := s.verify(ctx, w, r, dir, needKID)
	if p != nil {
		return nil, p
	}
	if req.account.ID != id {
		return nil, unauthorized("the request is not signed by this account")
	}
	return req, nil
}

func (s *Service) updateAccount(ctx context.Context, w http.ResponseWriter, r *http.Request, dir Directory, idText string) *problem {
	req, p := s.ownAccount(ctx, w, r, dir, idText)
	if p != nil {
		return p
	}
	a := req.account
	if req.postAsGet() {
		respond(w, http.StatusOK, "", s.accountJSON(r, dir, a))
		return nil
	}
	var in accountUpdate
	if p := req.decode(&in); p != nil {
		return p
	}
	now := store.FormatTime(s.now())
	var q string
	var args []any
	details := map[string]any{}
	switch {
	case in.Status == "deactivated":
		q, args, a.Status, details["change"] = qDeactivate, []any{now, a.ID}, "deactivated", "deactivated"
	case in.Status != "" && in.Status != "valid":
		return malformed("an account's status changes only to deactivated")
	case in.Contact != nil:
		if p := checkContacts(*in.Contact); p != nil {
			return p
		}
		c, _ := json.Marshal(nonNil(*in.Contact))
		q, args, a.Contact, details["change"], details["contact"] = qUpdateContact, []any{string(c), now, a.ID}, *in.Contact, "contact", nonNil(*in.Contact)
	default:
		respond(w, http.StatusOK, "", s.accountJSON(r, dir, a))
		return nil
	}
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		if err := moved(tx.ExecContext(ctx, q, args...)); err != nil {
			return unauthorized("the account changed meanwhile")
		}
		return s.j.Append(ctx, tx, audit.Event{Actor: a.actor(), Action: audit.ActionACMEAccountUpdated,
			Object: "acme-account:" + itoa(a.ID), Details: details})
	})
	if err != nil {
		return problemOf(err, probMalformed)
	}
	respond(w, http.StatusOK, "", s.accountJSON(r, dir, a))
	return nil
}

func (s *Service) accountOrders(ctx context.Context, w http.ResponseWriter, r *http.Request, dir Directory, idText string) *problem {
	req, p := s.ownAccount(ctx, w, r, dir, idText)
	if p != nil {
		return p
	}
	rows, err := s.db.QueryContext(ctx, qOrdersOf, req.account.ID)
	if err != nil {
		return problemOf(store.Classify("acme: orders", err), probMalformed)
	}
	defer rows.Close()
	urls := []string{}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return problemOf(store.Classify("acme: orders", err), probMalformed)
		}
		urls = append(urls, s.orderURL(r, dir, id))
	}
	respond(w, http.StatusOK, "", map[string]any{"orders": urls})
	return nil
}

// keyChange rolls an account over to a new key (RFC 8555 §7.3.5).
func (s *Service) keyChange(ctx context.Context, w http.ResponseWriter, r *http.Request, dir Directory) *problem {
	req, p := s.verify(ctx, w, r, dir, needKID)
	if p != nil {
		return p
	}
	_, h, p := parseJWS(req.payload, accountAlgs)
	if p != nil {
		return p
	}
	if h.JWK == nil || h.KID != "" || h.Nonce != "" {
		return malformed("the inner JWS has a jwk and neither kid nor nonce")
	}
	if h.URL != req.hdr.URL {
		return malformed("the inner JWS url is not the outer's")
	}
	if p := checkKey(h.JWK); p != nil {
		return p
	}
	inner, p := verifyWith(req.payload, h.Alg, h.JWK)
	if p != nil {
		return p
	}
	var in struct {
		Account string          `json:"account"`
		OldKey  json.RawMessage `json:"oldKey"`
	}
	if err := json.Unmarshal(inner, &in); err != nil {
		return malformed("the inner payload is not a keyChange object")
	}
	a := req.account
	var old jose.JSONWebKey
	if in.Account != req.hdr.KID || old.UnmarshalJSON(in.OldKey) != nil {
		return malformed("the inner payload names another account or no old key")
	}
	if t, err := thumbprint(&old); err != nil || t != a.Thumbprint {
		return malformed("oldKey is not the account's key")
	}
	newThumb, err := thumbprint(h.JWK)
	if err != nil {
		return malformed("the new key has no thumbprint")
	}
	if other, err := scanAccount(s.db.QueryRowContext(ctx, qAccountByThumb, newThumb)); err == nil {
		p := prob(probMalformed, http.StatusConflict, "the new key belongs to another account")
		p.location = s.accountURL(r, dir, other.ID)
		return p
	}
	jwk, err := h.JWK.MarshalJSON()
	if err != nil {
		return malformed("the new key cannot be encoded")
	}
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		if err := moved(tx.ExecContext(ctx, qChangeKey, newThumb, string(jwk), store.FormatTime(s.now()), a.ID, a.Thumbprint)); err != nil {
			return prob(probMalformed, http.StatusConflict, "the account's key changed meanwhile")
		}
		return s.j.Append(ctx, tx, audit.Event{Actor: a.actor(), Action: audit.ActionACMEAccountUpdated, Object: "acme-account:" + itoa(a.ID),
			Details: map[string]any{"change": "key", "old_thumbprint": a.Thumbprint, "thumbprint": newThumb}})
	})
	if err != nil {
		return problemOf(err, probMalformed)
	}
	a.Thumbprint, a.key = newThumb, h.JWK
	respond(w, http.StatusOK, "", s.accountJSON(r, dir, a))
	return nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// moved checks that an UPDATE touched exactly one row.
func moved(res sql.Result, err error) error {
	if err != nil {
		return store.Classify("acme", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return sceau.Errorf(sceau.Conflict, "acme", "the row changed meanwhile")
	}
	return nil
}
