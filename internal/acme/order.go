package acme

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sceau/sceau/internal/audit"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/store"
)

// Order is an ACME order.
type Order struct {
	ID          int64
	Account     int64
	Status      string
	Identifiers []string
	Expires     time.Time
	Error       *problem
	Serial      string
	// Replaces is the serial of the certificate the order replaces (RFC
	// 9773 §5), or empty.
	Replaces string
}

type authz struct {
	ID, Order, Account int64
	Identifier         string
	Status             string
	Expires            time.Time
}

type challenge struct {
	ID, Authz   int64
	Type, Token string
	Status      string
	Validated   *time.Time
	Error       *problem
}

func scanOrder(sc interface{ Scan(...any) error }) (*Order, error) {
	var o Order
	var ids, expires string
	var perr, serial, replaces sql.NullString
	if err := sc.Scan(&o.ID, &o.Account, &o.Status, &ids, &expires, &perr, &serial, &replaces); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(ids), &o.Identifiers); err != nil {
		return nil, sceau.E(sceau.Internal, "acme: order", "stored identifiers", err)
	}
	if perr.Valid {
		o.Error = new(problem)
		_ = json.Unmarshal([]byte(perr.String), o.Error)
	}
	o.Serial, o.Replaces = serial.String, replaces.String
	var err error
	o.Expires, err = store.ParseTime(expires)
	return &o, err
}

func scanAuthz(sc interface{ Scan(...any) error }) (*authz, error) {
	var a authz
	var expires string
	if err := sc.Scan(&a.ID, &a.Order, &a.Account, &a.Identifier, &a.Status, &expires); err != nil {
		return nil, err
	}
	var err error
	a.Expires, err = store.ParseTime(expires)
	return &a, err
}

func scanChallenge(sc interface{ Scan(...any) error }) (*challenge, error) {
	var c challenge
	var validated, perr sql.NullString
	if err := sc.Scan(&c.ID, &c.Authz, &c.Type, &c.Token, &c.Status, &validated, &perr); err != nil {
		return nil, err
	}
	if validated.Valid {
		t, err := store.ParseTime(validated.String)
		if err != nil {
			return nil, err
		}
		c.Validated = &t
	}
	if perr.Valid {
		c.Error = new(problem)
		_ = json.Unmarshal([]byte(perr.String), c.Error)
	}
	return &c, nil
}

func (s *Service) orderURL(r *http.Request, dir Directory, id int64) string {
	return s.dirURL(r, dir, fmt.Sprintf("order/%d", id))
}

type identifier struct {
	Type  string `json:"type"`
	Value string `json:"value"`
}

// checkDNSName refuses what is not a DNS name an order may carry.
func checkDNSName(n string) *problem {
	base := strings.TrimPrefix(n, "*.")
	if base == "" || len(n) > 253 || strings.Contains(base, "*") || !strings.Contains(base, ".") {
		return prob(probRejectedIdentifier, http.StatusBadRequest, fmt.Sprintf("%q is not a DNS name Sceau issues for", n))
	}
	for _, label := range strings.Split(base, ".") {
		if label == "" || len(label) > 63 || strings.HasPrefix(label, "-") || strings.HasSuffix(label, "-") {
			return prob(probRejectedIdentifier, http.StatusBadRequest, fmt.Sprintf("%q is not a DNS name", n))
		}
		for _, c := range label {
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
				return prob(probRejectedIdentifier, http.StatusBadRequest, fmt.Sprintf("%q is not a DNS name", n))
			}
		}
	}
	return nil
}

// allowedNames is what the account's EAB key allows; nil when the
// account has no binding (an EAB-optional directory).
func (s *Service) allowedNames(ctx context.Context, a *Account) ([]string, *problem) {
	if a.EABKID == "" {
		return nil, nil
	}
	k, err := s.eab(ctx, s.db, a.EABKID)
	if err != nil {
		return nil, problemOf(err, probMalformed)
	}
	if k.RevokedAt != nil {
		return nil, unauthorized("the account's EAB key was revoked")
	}
	return k.DNSNames, nil
}

func token() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", sceau.E(sceau.Internal, "acme", "no randomness", err)
	}
	return b64(b), nil
}

func (s *Service) newOrder(ctx context.Context, w http.ResponseWriter, r *http.Request, dir Directory) *problem {
	req, p := s.verify(ctx, w, r, dir, needKID)
	if p != nil {
		return p
	}
	var in struct {
		Identifiers []identifier `json:"identifiers"`
		NotBefore   string       `json:"notBefore"`
		NotAfter    string       `json:"notAfter"`
		Replaces    string       `json:"replaces"` // RFC 9773 §5 (ari.go)
	}
	if p := req.decode(&in); p != nil {
		return p
	}
	if in.NotBefore != "" || in.NotAfter != "" {
		return malformed("notBefore and notAfter are set by the profile")
	}
	if len(in.Identifiers) == 0 || len(in.Identifiers) > 100 {
		return malformed("an order names 1 to 100 identifiers")
	}
	allowed, p := s.allowedNames(ctx, req.account)
	if p != nil {
		return p
	}
	var names []string
	for _, id := range in.Identifiers {
		if id.Type != "dns" {
			return prob(probUnsupportedIdentifer, http.StatusBadRequest, fmt.Sprintf("identifier type %q is not supported", id.Type))
		}
		n := strings.ToLower(strings.TrimSuffix(id.Value, "."))
		if p := checkDNSName(n); p != nil {
			return p
		}
		// CA-4: an account orders only the names its EAB key (its
		// validated dossier) allows.
		if allowed != nil && !slices.Contains(allowed, n) {
			return prob(probRejectedIdentifier, http.StatusBadRequest,
				fmt.Sprintf("%q is not among the names of the registration dossier this account is bound to", n))
		}
		if !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	rep, p := s.replacement(ctx, dir, req.account, in.Replaces, names)
	if p != nil {
		return p
	}
	if p := s.limitNewOrder(ctx, dir, req.account, names, rep); p != nil {
		return p
	}
	now := s.now()
	exp := now.Add(s.opts.OrderLifetime)
	idsJSON, _ := json.Marshal(names)
	a := req.account
	o := &Order{Account: a.ID, Status: "pending", Identifiers: names, Expires: exp}
	if rep != nil {
		o.Replaces = rep.Serial
	}
	err := s.write(ctx, func(ctx context.Context, tx *store.Tx) ([]audit.Event, error) {
		o.Status = "pending"
		if err := tx.QueryRowContext(ctx, qInsertOrder, a.ID, string(idsJSON), store.FormatTime(exp), store.FormatTime(now),
			store.FormatTime(now)).Scan(&o.ID); err != nil {
			return nil, store.Classify("acme: new order", err)
		}
		if err := s.recordReplacement(ctx, tx, o.ID, rep); err != nil {
			return nil, err
		}
		reused := map[string]int64{}
		for _, n := range names {
			if done, err := s.reuse(ctx, tx, a, o.ID, n, now, exp); err != nil {
				return nil, err
			} else if done != 0 {
				reused[n] = done
				continue
			}
			var az int64
			if err := tx.QueryRowContext(ctx, qInsertAuthz, o.ID, a.ID, n, store.FormatTime(exp), store.FormatTime(now)).Scan(&az); err != nil {
				return nil, store.Classify("acme: new order", err)
			}
			types := []string{"http-01", "dns-01", "tls-alpn-01"}
			if strings.HasPrefix(n, "*.") {
				types = []string{"dns-01"}
			}
			for _, t := range types {
				tok, err := token()
				if err != nil {
					return nil, err
				}
				if _, err := tx.ExecContext(ctx, qInsertChallenge, az, t, tok); err != nil {
					return nil, store.Classify("acme: new order", err)
				}
			}
		}
		details := map[string]any{"identifiers": names, "eab": a.EABKID, "directory": dir.Name}
		if len(reused) > 0 {
			details["reused_authorizations"] = reused
		}
		renewalDetails(details, rep)
		if len(reused) == len(names) {
			if _, err := tx.ExecContext(ctx, qOrderStatus, "ready", nil, store.FormatTime(now), o.ID, "pending"); err != nil {
				return nil, store.Classify("acme: new order", err)
			}
			o.Status = "ready"
		}
		return []audit.Event{{Actor: a.actor(), Action: audit.ActionACMEOrderCreated, Object: "acme-order:" + itoa(o.ID),
			Details: details}}, nil
	})
	if err != nil {
		return problemOf(err, probMalformed)
	}
	s.observe("order", o.Status)
	return s.writeOrder(ctx, w, r, dir, o, http.StatusCreated)
}

// reuse gives the order a valid authorization for name when the account
// passed a challenge for it within AuthorizationReuse; it returns the
// authorization reused, or 0.
func (s *Service) reuse(ctx context.Context, tx *store.Tx, a *Account, orderID int64, name string, now, exp time.Time) (int64, error) {
	if s.opts.AuthorizationReuse <= 0 {
		return 0, nil
	}
	var prior int64
	var typ, validated string
	err := tx.QueryRowContext(ctx, qReusableAuthz, a.ID, name, store.FormatTime(now.Add(-s.opts.AuthorizationReuse))).Scan(&prior, &typ, &validated)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, store.Classify("acme: new order", err)
	}
	var az int64
	if err := tx.QueryRowContext(ctx, qInsertValidAuthz, orderID, a.ID, name, store.FormatTime(exp), store.FormatTime(now)).Scan(&az); err != nil {
		return 0, store.Classify("acme: new order", err)
	}
	tok, err := token()
	if err != nil {
		return 0, err
	}
	if _, err := tx.ExecContext(ctx, qInsertValidChallenge, az, typ, tok, validated); err != nil {
		return 0, store.Classify("acme: new order", err)
	}
	return prior, nil
}

// loadOrder reads an order of the account.
func (s *Service) loadOrder(ctx context.Context, a *Account, idText string) (*Order, *problem) {
	id, p := parseID(idText)
	if p != nil {
		return nil, p
	}
	o, err := scanOrder(s.db.QueryRowContext(ctx, qOrder, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, prob(probMalformed, http.StatusNotFound, "no such order")
	}
	if err != nil {
		return nil, problemOf(store.Classify("acme: order", err), probMalformed)
	}
	if o.Account != a.ID {
		return nil, unauthorized("the order is another account's")
	}
	return o, nil
}

func (s *Service) getOrder(ctx context.Context, w http.ResponseWriter, r *http.Request, dir Directory, idText string) *problem {
	req, p := s.verify(ctx, w, r, dir, needKID)
	if p != nil {
		return p
	}
	o, p := s.loadOrder(ctx, req.account, idText)
	if p != nil {
		return p
	}
	return s.writeOrder(ctx, w, r, dir, o, http.StatusOK)
}

// status is the order's status as a client sees it: a processing order
// whose certificate is signed is valid.
func (s *Service) status(ctx context.Context, o *Order) string {
	if o.Status == "processing" && o.Serial != "" {
		if rec, err := s.ca.Certificate(ctx, o.Serial); err == nil && rec.Status != "reserved" {
			return "valid"
		}
	}
	if (o.Status == "pending" || o.Status == "ready") && s.now().After(o.Expires) {
		return "invalid"
	}
	return o.Status
}

func (s *Service) writeOrder(ctx context.Context, w http.ResponseWriter, r *http.Request, dir Directory, o *Order, code int) *problem {
	rows, err := s.db.QueryContext(ctx, qAuthzOfOrder, o.ID)
	if err != nil {
		return problemOf(store.Classify("acme: order", err), probMalformed)
	}
	defer rows.Close()
	authzs := []string{}
	for rows.Next() {
		a, err := scanAuthz(rows)
		if err != nil {
			return problemOf(store.Classify("acme: order", err), probMalformed)
		}
		authzs = append(authzs, s.dirURL(r, dir, "authz/"+itoa(a.ID)))
	}
	ids := make([]identifier, len(o.Identifiers))
	for i, n := range o.Identifiers {
		ids[i] = identifier{Type: "dns", Value: n}
	}
	st := s.status(ctx, o)
	out := map[string]any{"status": st, "expires": o.Expires.Format(time.RFC3339), "identifiers": ids, "authorizations": authzs,
		"finalize": s.orderURL(r, dir, o.ID) + "/finalize"}
	if o.Error != nil {
		out["error"] = o.Error
	}
	if st == "valid" {
		out["certificate"] = s.dirURL(r, dir, "cert/"+o.Serial)
	}
	if o.Replaces != "" {
		out["replaces"] = s.certIDOf(dir, o.Replaces) // ari.go
	}
	if st == "pending" || st == "processing" {
		w.Header().Set("Retry-After", "1")
	}
	respond(w, code, s.orderURL(r, dir, o.ID), out)
	return nil
}

func (s *Service) loadAuthz(ctx context.Context, a *Account, id int64) (*authz, *problem) {
	az, err := scanAuthz(s.db.QueryRowContext(ctx, qAuthz, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, prob(probMalformed, http.StatusNotFound, "no such authorization")
	}
	if err != nil {
		return nil, problemOf(store.Classify("acme: authz", err), probMalformed)
	}
	if az.Account != a.ID {
		return nil, unauthorized("the authorization is another account's")
	}
	return az, nil
}

func (s *Service) getAuthz(ctx context.Context, w http.ResponseWriter, r *http.Request, dir Directory, idText string) *problem {
	id, p := parseID(idText)
	if p != nil {
		return p
	}
	req, p := s.verify(ctx, w, r, dir, needKID)
	if p != nil {
		return p
	}
	if !req.postAsGet() {
		return malformed("authorizations are read with POST-as-GET; deactivation is not offered")
	}
	az, p := s.loadAuthz(ctx, req.account, id)
	if p != nil {
		return p
	}
	return s.writeAuthz(ctx, w, r, dir, az)
}

func (s *Service) challengeJSON(r *http.Request, dir Directory, c *challenge) map[string]any {
	out := map[string]any{"type": c.Type, "url": s.dirURL(r, dir, "chall/"+itoa(c.ID)), "token": c.Token, "status": c.Status}
	if c.Validated != nil {
		out["validated"] = c.Validated.Format(time.RFC3339)
	}
	if c.Error != nil {
		out["error"] = c.Error
	}
	return out
}

func (s *Service) writeAuthz(ctx context.Context, w http.ResponseWriter, r *http.Request, dir Directory, az *authz) *problem {
	rows, err := s.db.QueryContext(ctx, qChallengesOf, az.ID)
	if err != nil {
		return problemOf(store.Classify("acme: authz", err), probMalformed)
	}
	defer rows.Close()
	chs := []map[string]any{}
	for rows.Next() {
		c, err := scanChallenge(rows)
		if err != nil {
			return problemOf(store.Classify("acme: authz", err), probMalformed)
		}
		chs = append(chs, s.challengeJSON(r, dir, c))
	}
	value, wildcard := strings.CutPrefix(az.Identifier, "*.")
	out := map[string]any{"identifier": identifier{Type: "dns", Value: value}, "status": az.Status,
		"expires": az.Expires.Format(time.RFC3339), "challenges": chs}
	if wildcard {
		out["wildcard"] = true
	}
	if az.Status == "pending" {
		w.Header().Set("Retry-After", "1")
	}
	respond(w, http.StatusOK, "", out)
	return nil
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
