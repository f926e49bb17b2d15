package acme

import (
	"bytes"
	"context"
	"crypto/x509"
	"database/sql"
	"encoding/base64"
	"errors"
	"math/big"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sceau/sceau/internal/ca"
	"github.com/sceau/sceau/internal/revocation"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/store"
)

// ACME Renewal Information (RFC 9773). The directory advertises
// renewalInfo; GET <renewalInfo>/<certID> answers the window in which the
// CA suggests renewing that certificate:
//
//   - a certificate in force: from two thirds to five sixths of its
//     validity (a 90-day certificate: days 60 to 75), so renewals spread
//     over a sixth of the lifetime and a failed one still has a sixth left
//     before expiry;
//   - a revoked certificate (a key compromise, a mass revocation after an
//     incident): the hour before the request, a window in the past, so
//     clients renew at once (RFC 9773 §4.2), with
//     Options.RenewalExplanationURL when set.
//
// The answer carries Retry-After (renewalInfoRetryAfter). The certID is
// base64url(authority key identifier) "." base64url(serial number's DER
// content octets) (RFC 9773 §4.1); a certificate this directory's CA did
// not issue answers 404, a certID that does not parse 400 malformed.

// renewalInfoRetryAfter is how long clients wait before asking again
// (the Retry-After of RFC 9773 §4.2): a window changes only when the
// certificate is revoked, and 6 hours keeps that news fresh at little load.
const renewalInfoRetryAfter = 6 * time.Hour

// probAlreadyReplaced: the certificate an order replaces is replaced
// already (RFC 9773 §5, §7.4).
const probAlreadyReplaced = "alreadyReplaced"

// parseCertID splits an ARI certID into the authority key identifier and
// the serial number.
func parseCertID(id string) ([]byte, *big.Int, *problem) {
	bad := malformed("the certID is not base64url(authority key identifier).base64url(serial number) (RFC 9773 §4.1)")
	akiText, serialText, ok := strings.Cut(id, ".")
	// Only the base64url alphabet: the decoder would skip CR and LF.
	if !ok || akiText == "" || serialText == "" || len(id) > 512 || strings.ContainsFunc(akiText+serialText, notBase64URL) {
		return nil, nil, bad
	}
	aki, err1 := base64.RawURLEncoding.Strict().DecodeString(akiText)
	serial, err2 := base64.RawURLEncoding.Strict().DecodeString(serialText)
	// The serial is the content of a DER INTEGER: a positive one does
	// not start with a set high bit, nor with a superfluous zero octet.
	if err1 != nil || err2 != nil || len(aki) == 0 || len(serial) == 0 || serial[0]&0x80 != 0 ||
		len(serial) > 1 && serial[0] == 0 && serial[1]&0x80 == 0 {
		return nil, nil, bad
	}
	n := new(big.Int).SetBytes(serial)
	if n.Sign() <= 0 {
		return nil, nil, bad
	}
	return aki, n, nil
}

func notBase64URL(c rune) bool {
	return !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_')
}

// issued is a certificate of the directory's CA that a certID names.
type issued struct {
	Serial    string
	Leaf      *x509.Certificate
	RevokedAt *time.Time
}

// certByID finds the certificate a certID names among those the
// directory's CA issued.
func (s *Service) certByID(ctx context.Context, dir Directory, certID string) (*issued, *problem) {
	aki, n, p := parseCertID(certID)
	if p != nil {
		return nil, p
	}
	notFound := prob(probMalformed, http.StatusNotFound, "this CA issued no certificate with that certID")
	serial := revocation.SerialHex(n)
	rec, err := s.ca.Certificate(ctx, serial)
	if sceau.KindOf(err) == sceau.NotFound {
		return nil, notFound
	}
	if err != nil {
		return nil, problemOf(err, probMalformed)
	}
	if rec.CA != dir.CA {
		return nil, notFound
	}
	c, err := issuedOf(rec)
	if err != nil || !bytes.Equal(c.Leaf.AuthorityKeyId, aki) {
		return nil, notFound
	}
	return c, nil
}

// issuedOf is the signed certificate of a record.
func issuedOf(rec *ca.Record) (*issued, error) {
	if rec.Status == "reserved" {
		return nil, sceau.Errorf(sceau.NotFound, "acme: renewal info", "certificate %s is not signed", rec.Serial)
	}
	leaf, err := x509.ParseCertificate(rec.DER)
	if err != nil {
		return nil, sceau.E(sceau.Internal, "acme: renewal info", "stored certificate", err)
	}
	return &issued{Serial: rec.Serial, Leaf: leaf, RevokedAt: rec.RevokedAt}, nil
}

// window is the renewal window suggested for c at now.
func (s *Service) window(c *issued, now time.Time) (start, end time.Time) {
	if c.RevokedAt != nil {
		return now.Add(-time.Hour), now
	}
	nb, life := c.Leaf.NotBefore.UTC(), c.Leaf.NotAfter.Sub(c.Leaf.NotBefore)
	return nb.Add(life * 2 / 3).Truncate(time.Second), nb.Add(life * 5 / 6).Truncate(time.Second)
}

// renewalInfo answers GET <renewalInfo>/<certID> (RFC 9773 §4.2).
func (s *Service) renewalInfo(ctx context.Context, w http.ResponseWriter, dir Directory, certID string) *problem {
	c, p := s.certByID(ctx, dir, certID)
	if p != nil {
		return p
	}
	start, end := s.window(c, s.now())
	out := map[string]any{"suggestedWindow": map[string]string{"start": start.Format(time.RFC3339), "end": end.Format(time.RFC3339)}}
	if c.RevokedAt != nil && s.opts.RenewalExplanationURL != "" {
		out["explanationURL"] = s.opts.RenewalExplanationURL
	}
	w.Header().Set("Retry-After", strconv.Itoa(int(renewalInfoRetryAfter/time.Second)))
	respond(w, http.StatusOK, "", out)
	return nil
}

// replacement is the certificate a new order replaces (RFC 9773 §5).
type replacement struct {
	Serial string
	// Due: the certificate's renewal window has begun (or it is
	// revoked); such a renewal is not held to the identifier limit.
	Due bool
}

// replacement checks the order's replaces field: a certificate of this
// directory's CA, ordered by the same account, sharing an identifier
// with the new order, not replaced already by an order that is not
// invalid. An empty field is no replacement.
func (s *Service) replacement(ctx context.Context, dir Directory, a *Account, certID string, names []string) (*replacement, *problem) {
	if certID == "" {
		return nil, nil
	}
	c, p := s.certByID(ctx, dir, certID)
	if p != nil {
		if p.Status == http.StatusNotFound {
			return nil, malformed("replaces names no certificate of this CA")
		}
		return nil, p
	}
	prior, err := scanOrder(s.db.QueryRowContext(ctx, qOrderBySerial, c.Serial))
	if err != nil || prior.Account != a.ID {
		return nil, malformed("replaces names a certificate this account did not order")
	}
	if !slices.ContainsFunc(names, func(n string) bool { return slices.Contains(prior.Identifiers, n) }) {
		return nil, malformed("the order shares no identifier with the certificate it replaces")
	}
	if p := s.notReplaced(ctx, s.db, c.Serial); p != nil {
		return nil, p
	}
	now := s.now()
	start, _ := s.window(c, now)
	return &replacement{Serial: c.Serial, Due: !now.Before(start)}, nil
}

// notReplaced refuses a certificate that an order not invalid replaces
// already (RFC 9773 §5: 409 alreadyReplaced).
func (s *Service) notReplaced(ctx context.Context, q store.Querier, serial string) *problem {
	var id int64
	err := q.QueryRowContext(ctx, qReplacingOrder, serial, store.FormatTime(s.now())).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return problemOf(store.Classify("acme: replaces", err), probMalformed)
	}
	return prob(probAlreadyReplaced, http.StatusConflict, "order "+itoa(id)+" replaces that certificate already")
}

// recordReplacement marks the new order as replacing the certificate, in
// the order's transaction. The check is made again there: it narrows the
// race between two orders for one certificate to the same instant (on
// PostgreSQL, two nodes could then both win; the certificate is then
// renewed twice, which harms no one).
func (s *Service) recordReplacement(ctx context.Context, tx *store.Tx, orderID int64, r *replacement) error {
	if r == nil {
		return nil
	}
	if p := s.notReplaced(ctx, tx, r.Serial); p != nil {
		return p
	}
	if _, err := tx.ExecContext(ctx, qSetReplaces, r.Serial, orderID); err != nil {
		return store.Classify("acme: replaces", err)
	}
	return nil
}

// certIDOf is the RFC 9773 certID of a certificate of the directory's CA
// by its serial (lower-case hex): the CA's key identifier and the serial's
// DER content octets, each base64url, joined by a dot.
func (s *Service) certIDOf(dir Directory, serial string) string {
	n, ok := new(big.Int).SetString(serial, 16)
	c, err := s.ca.CA(dir.CA)
	if !ok || err != nil {
		return ""
	}
	b := n.Bytes()
	if len(b) == 0 || b[0]&0x80 != 0 {
		b = append([]byte{0}, b...)
	}
	return b64(c.Cert.SubjectKeyId) + "." + b64(b)
}

// renewalDetails adds the replacement to the order's audit details.
func renewalDetails(details map[string]any, r *replacement) {
	if r != nil {
		details["replaces"] = r.Serial
	}
}
