package revocation

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/sceau/sceau/internal/audit"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/store"
)

// Selector chooses the live certificates that an algorithm or a parameter
// judged insufficient affects (INC-3, policy §5.6.1). Every criterion set
// must hold; at least one besides CA must be set, so that a selector never
// means "everything" by omission (that is revocation.mass).
type Selector struct {
	CA string `json:"ca,omitempty"`
	// KeyType is rsa, ecdsa or ed25519.
	KeyType string `json:"key_type,omitempty"`
	// KeyBitsBelow matches keys of fewer bits: an RSA modulus, an EC
	// curve's field size.
	KeyBitsBelow int `json:"key_bits_below,omitempty"`
	// Curve is P-224, P-256, P-384 or P-521.
	Curve string `json:"curve,omitempty"`
	// SignatureAlgorithm is crypto/x509's name of the CA's signature on the
	// certificate: SHA1-RSA, SHA256-RSA, ECDSA-SHA256, …
	SignatureAlgorithm string `json:"signature_algorithm,omitempty"`
	Profile            string `json:"profile,omitempty"`
	// IssuedBefore matches certificates issued before this time.
	IssuedBefore time.Time `json:"issued_before,omitzero"`
}

var (
	keyTypes = []string{"rsa", "ecdsa", "ed25519"}
	curves   = []string{"P-224", "P-256", "P-384", "P-521"}
)

// Check refuses a selector that selects by nothing, or names what does
// not exist.
func (s Selector) Check() error {
	const op = "revocation: selector"
	if s.KeyType == "" && s.KeyBitsBelow == 0 && s.Curve == "" && s.SignatureAlgorithm == "" && s.Profile == "" && s.IssuedBefore.IsZero() {
		return sceau.Errorf(sceau.Invalid, op, "give at least one criterion (key type, key size, curve, signature algorithm, profile, issued before); every certificate of a CA is revocation.mass")
	}
	if s.KeyType != "" && !slices.Contains(keyTypes, s.KeyType) {
		return sceau.Errorf(sceau.Invalid, op, "key type %q is not one of %s", clip(s.KeyType), strings.Join(keyTypes, ", "))
	}
	if s.KeyBitsBelow < 0 || s.KeyBitsBelow > 16384 {
		return sceau.Errorf(sceau.Invalid, op, "key size %d is out of range", s.KeyBitsBelow)
	}
	if s.Curve != "" && !slices.Contains(curves, s.Curve) {
		return sceau.Errorf(sceau.Invalid, op, "curve %q is not one of %s", clip(s.Curve), strings.Join(curves, ", "))
	}
	if s.SignatureAlgorithm != "" && !knownSignatureAlgorithm(s.SignatureAlgorithm) {
		return sceau.Errorf(sceau.Invalid, op, "signature algorithm %q is unknown (e.g. SHA1-RSA, SHA256-RSA, ECDSA-SHA256)", clip(s.SignatureAlgorithm))
	}
	return nil
}

// clip bounds what a refusal quotes of its input.
func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

func knownSignatureAlgorithm(name string) bool {
	for a := x509.MD2WithRSA; a <= x509.PureEd25519; a++ {
		if a.String() == name {
			return true
		}
	}
	return false
}

// String says what s selects, for requests, notices and the journal.
func (s Selector) String() string {
	var p []string
	add := func(f string, args ...any) { p = append(p, fmt.Sprintf(f, args...)) }
	if s.CA != "" {
		add("CA %s", s.CA)
	}
	if s.KeyType != "" {
		add("%s keys", s.KeyType)
	}
	if s.KeyBitsBelow > 0 {
		add("keys under %d bits", s.KeyBitsBelow)
	}
	if s.Curve != "" {
		add("curve %s", s.Curve)
	}
	if s.SignatureAlgorithm != "" {
		add("signed with %s", s.SignatureAlgorithm)
	}
	if s.Profile != "" {
		add("profile %s", s.Profile)
	}
	if !s.IssuedBefore.IsZero() {
		add("issued before %s", s.IssuedBefore.UTC().Format(time.RFC3339))
	}
	return strings.Join(p, ", ")
}

// keyOf describes a certificate's public key: its type, size and curve.
func keyOf(c *x509.Certificate) (typ string, bits int, curve string) {
	switch k := c.PublicKey.(type) {
	case *rsa.PublicKey:
		return "rsa", k.N.BitLen(), ""
	case *ecdsa.PublicKey:
		return "ecdsa", k.Curve.Params().BitSize, k.Curve.Params().Name
	case ed25519.PublicKey:
		return "ed25519", 256, ""
	}
	return "unknown", 0, ""
}

func (s Selector) matches(c *x509.Certificate) bool {
	typ, bits, curve := keyOf(c)
	return (s.KeyType == "" || s.KeyType == typ) && (s.KeyBitsBelow == 0 || bits < s.KeyBitsBelow) &&
		(s.Curve == "" || s.Curve == curve) && (s.SignatureAlgorithm == "" || s.SignatureAlgorithm == c.SignatureAlgorithm.String())
}

// Match is one certificate a selector chose.
type Match struct {
	Serial             string    `json:"serial"`
	CA                 string    `json:"ca"`
	Profile            string    `json:"profile"`
	Subject            string    `json:"subject"`
	NotAfter           time.Time `json:"not_after"`
	Key                string    `json:"key"`
	SignatureAlgorithm string    `json:"signature_algorithm"`
}

// Selection is what a selector chose among the live certificates.
type Selection struct {
	Selector Selector       `json:"selector"`
	Scanned  int64          `json:"scanned"`
	Matched  int64          `json:"matched"`
	ByCA     map[string]int `json:"by_ca"`
	Sample   []Match        `json:"sample"` // the first SelectOptions.Sample matches
}

// SelectOptions tune Select.
type SelectOptions struct {
	Sample   int                     // matches kept in Selection.Sample (default 100)
	Progress func(done, total int64) // called after each page
	Each     func(Match) error       // called for every match, in serial order
	Now      time.Time               // "live" is not expired at Now; zero: now
	page     int                     // certificates per query
	serials  func(ca, serial string) // RevokeSelected's collector
}

// Select reads every live certificate (issued, not revoked, not expired)
// that the selector's column criteria allow, parses it and keeps those
// whose key and signature match: a dry run reads it, RevokeSelected
// revokes it (INC-3).
func Select(ctx context.Context, q store.Querier, sel Selector, o SelectOptions) (*Selection, error) {
	const op = "revocation: select"
	if err := sel.Check(); err != nil {
		return nil, err
	}
	if o.Sample == 0 {
		o.Sample = 100
	}
	if o.page == 0 {
		o.page = 2000
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	where, args := selectWhere(sel, o.Now)
	out := &Selection{Selector: sel, ByCA: map[string]int{}, Sample: []Match{}}
	var total int64
	if err := q.QueryRowContext(ctx, qSelectCount+where, args...).Scan(&total); err != nil {
		return nil, store.Classify(op, err)
	}
	after := ""
	for {
		if err := ctx.Err(); err != nil {
			return nil, sceau.E(sceau.Unavailable, op, "interrupted", err)
		}
		rows, err := q.QueryContext(ctx, qSelectPage+where+qSelectPageEnd, append(slices.Clone(args), after, o.page)...)
		if err != nil {
			return nil, store.Classify(op, err)
		}
		n := 0
		var matches []Match
		for rows.Next() {
			var (
				m        Match
				notAfter string
				der      []byte
			)
			if err := rows.Scan(&m.Serial, &m.CA, &m.Profile, &m.Subject, &notAfter, &der); err != nil {
				rows.Close()
				return nil, store.Classify(op, err)
			}
			n++
			after = m.Serial
			c, err := x509.ParseCertificate(der)
			if err != nil {
				rows.Close()
				return nil, sceau.E(sceau.Internal, op, "certificate "+m.Serial+" does not parse", err)
			}
			if !sel.matches(c) {
				continue
			}
			typ, bits, curve := keyOf(c)
			m.Key = fmt.Sprintf("%s %d", typ, bits)
			if curve != "" {
				m.Key = typ + " " + curve
			}
			m.SignatureAlgorithm, m.NotAfter = c.SignatureAlgorithm.String(), c.NotAfter
			matches = append(matches, m)
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, store.Classify(op, err)
		}
		for _, m := range matches {
			out.Matched++
			out.ByCA[m.CA]++
			if len(out.Sample) < o.Sample {
				out.Sample = append(out.Sample, m)
			}
			if o.serials != nil {
				o.serials(m.CA, m.Serial)
			}
			if o.Each != nil {
				if err := o.Each(m); err != nil {
					return nil, err
				}
			}
		}
		out.Scanned += int64(n)
		if o.Progress != nil {
			o.Progress(out.Scanned, max(total, out.Scanned))
		}
		if n < o.page {
			return out, nil
		}
	}
}

// Preview is the dry run of a selective revocation on the service's
// database: what sel matches now, with a sample of sample matches.
func (s *Service) Preview(ctx context.Context, sel Selector, sample int) (*Selection, error) {
	return Select(ctx, s.db, sel, SelectOptions{Sample: sample, Now: s.clock.Now()})
}

// SelectionPayload is the request of a selective revocation under dual
// control: what to revoke and why.
type SelectionPayload struct {
	Selector Selector `json:"selector"`
	Reason   string   `json:"reason"`
}

// DecodeSelection reads and checks a selection payload.
func DecodeSelection(payload []byte) (SelectionPayload, error) {
	const op = "revocation: selection"
	var pl SelectionPayload
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&pl); err != nil {
		return pl, sceau.E(sceau.Invalid, op, "bad request payload", err)
	}
	if err := pl.Selector.Check(); err != nil {
		return pl, err
	}
	if _, err := ParseReason(op, pl.Reason); err != nil {
		return pl, err
	}
	return pl, nil
}

// CheckSelection validates a selective revocation before it is requested
// and again before it is carried out; a selection that matches nothing is
// refused (INC-3: a selector that matches nothing is an error, not a
// revocation of nothing).
func (s *Service) CheckSelection(ctx context.Context, q store.Querier, payload []byte) error {
	pl, err := DecodeSelection(payload)
	if err != nil {
		return err
	}
	if pl.Selector.CA != "" {
		if _, err := s.Issuer(pl.Selector.CA); err != nil {
			return err
		}
	}
	sel, err := Select(ctx, q, pl.Selector, SelectOptions{Sample: 1, Now: s.clock.Now()})
	if err != nil {
		return err
	}
	if sel.Matched == 0 {
		return sceau.Errorf(sceau.NotFound, "revocation: selection", "no live certificate matches %s (%d scanned)", pl.Selector, sel.Scanned)
	}
	return nil
}

// RevokeSelected revokes, in tx, every live certificate the payload's
// selector matches now, each with its certificate.revoked event naming
// the approval and the selector; it returns how many (INC-3).
func (s *Service) RevokeSelected(ctx context.Context, tx *store.Tx, actor sceau.Actor, payload []byte, approval string) (int, error) {
	const op = "revocation: selection"
	pl, err := DecodeSelection(payload)
	if err != nil {
		return 0, err
	}
	code, _ := ParseReason(op, pl.Reason)
	byCA := map[string][]string{}
	if _, err := Select(ctx, tx, pl.Selector, SelectOptions{Sample: 1, Now: s.clock.Now(), serials: func(ca, serial string) {
		byCA[ca] = append(byCA[ca], serial)
	}}); err != nil {
		return 0, err
	}
	now := s.clock.Now().UTC().Truncate(time.Second)
	total := 0
	for ca, serials := range byCA {
		for len(serials) > 0 {
			batch := serials[:min(massBatch, len(serials))]
			serials = serials[len(batch):]
			args := []any{store.FormatTime(now), code}
			for _, sn := range batch {
				args = append(args, sn)
			}
			if _, err := tx.ExecContext(ctx, qMassRevoke(len(batch)), args...); err != nil {
				return total, store.Classify(op, err)
			}
			evs := make([]audit.Event, 0, len(batch))
			for _, sn := range batch {
				evs = append(evs, audit.Event{Actor: actor, Action: "certificate.revoked", Object: "certificate:" + sn,
					Details: map[string]any{"ca": ca, "reason": pl.Reason, "reason_code": code, "selection": pl.Selector.String(), "approval": approval,
						"revoked_at": store.FormatTime(now)}}) // CONT-1
			}
			if err := s.journal.Append(ctx, tx, evs...); err != nil {
				return total, err
			}
			total += len(batch)
		}
		if s.opts.OnRevoke != nil {
			s.opts.OnRevoke(ca)
		}
	}
	return total, nil
}
