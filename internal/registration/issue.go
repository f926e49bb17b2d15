package registration

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"database/sql"
	"encoding/base32"
	"errors"
	"fmt"
	"time"

	"github.com/sceau/sceau/internal/access"
	"github.com/sceau/sceau/internal/audit"
	"github.com/sceau/sceau/internal/ca"
	"github.com/sceau/sceau/internal/keys"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/store"
)

// IssueRequest asks for the certificate of a validated dossier. It names no
// subject: the certificate carries only what the validated dossier holds
// (CA-4). Exactly one of CSR (the holder keeps the key; the CSR gives only
// the key and its proof of possession) and KeyType (Sceau makes the key
// and seals it in a PKCS#12) is set.
type IssueRequest struct {
	// Profile, when set, must be the dossier's: a dossier validated for
	// one profile is never issued under another.
	Profile  string
	CSR      []byte
	KeyType  keys.Type
	Password string // PKCS#12; empty: Sceau chooses one
	// Link keeps the PKCS#12 behind a one-time download link; the password
	// goes to the holder by another channel.
	Link     bool
	Validity time.Duration
}

// Issuance is an issued dossier certificate.
type Issuance struct {
	Dossier *Dossier
	Issued  *ca.Issued
	PKCS12  []byte // when delivered in the answer
	// Password of the PKCS#12 when Sceau chose it: show it once.
	Password string
	// Link is the one-time download token of the PKCS#12 (Link requests).
	Link string
	// RevocationSecret authenticates the holder's revocation requests;
	// it is handed to the holder now and only its hash is kept.
	RevocationSecret string
	Warnings         []string
}

func randomToken(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", sceau.E(sceau.Internal, "registration", "no randomness", err)
	}
	return base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b), nil
}

// Issue issues the certificate of a validated dossier through the CA's
// record-before-sign path, profile lint gate included. The dossier moves
// to issued, with the serial recorded, in the transaction that reserves
// the serial (ca.Request.Claim), before the signature: a dossier is issued
// at most once, and a crash after the reservation leaves a dossier that
// names its serial, which the CA treats as issued (revocable, on CRLs).
func (s *Service) Issue(ctx context.Context, p access.Principal, id int64, req IssueRequest) (*Issuance, error) {
	const op = "registration: issue"
	actor, err := decide(p, access.DossierIssue, "dossier", id)
	if err != nil {
		return nil, err
	}
	if (req.CSR == nil) == (req.KeyType == "") {
		return nil, sceau.Errorf(sceau.Invalid, op, "give a CSR or a key type to generate, not both and not neither")
	}
	// The fields and the evidence were checked at validation and cannot
	// change since (a dossier is edited only as a draft); what may change
	// is the CGU version in force, checked here.
	var cgu sql.NullString
	d, err := scanDossier(extraScanner{s.db.QueryRowContext(ctx, qDossierToIssue, id), []any{&cgu}})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, sceau.Errorf(sceau.NotFound, op, "no dossier %d", id)
	}
	if err != nil {
		return nil, err
	}
	if d.State != Validated {
		return nil, sceau.Errorf(sceau.Invalid, op, "dossier %d is %s: only a validated dossier is issued", id, d.State)
	}
	if req.Profile != "" && req.Profile != d.Profile {
		return nil, sceau.Errorf(sceau.Invalid, op, "dossier %d was validated for profile %q and cannot be issued under %q", id, d.Profile, req.Profile)
	}
	// CA-4: issuance is refused while the CGU version accepted is not the
	// one in force.
	if !cgu.Valid {
		return nil, sceau.Errorf(sceau.Invalid, op, "dossier %d: the applicant has not accepted the CGU", id)
	}
	if err := s.cguOfProfile(d.Profile, cgu.String); err != nil { // cgupolicy.go
		return nil, err
	}
	if _, err := s.cguStanding(ctx, cgu.String, s.now()); err != nil {
		return nil, err
	}
	ips, err := d.Subject.ips()
	if err != nil {
		return nil, err
	}
	secret, err := randomToken(20)
	if err != nil {
		return nil, err
	}
	delivery := "pkcs10"
	if req.KeyType != "" {
		delivery = "pkcs12"
		if req.Link {
			delivery = "pkcs12-link"
		}
	}
	now := s.now()
	cr := ca.Request{CA: d.CA, Profile: d.Profile, NamesGiven: true, Subject: d.Subject.Name(), DNSNames: d.Subject.DNSNames,
		Emails: d.Subject.Emails, IPs: ips, Validity: req.Validity}
	cr.Claim = func(ctx context.Context, tx *store.Tx, serial string) ([]audit.Event, error) {
		res, err := tx.ExecContext(ctx, qClaimSerial, serial, store.FormatTime(now), p.Account, hashHex([]byte(secret)), delivery,
			store.FormatTime(now), id)
		if err != nil {
			return nil, store.Classify(op, err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return nil, sceau.Errorf(sceau.Invalid, op, "dossier %d is no longer validated (issued already?)", id)
		}
		return []audit.Event{{Actor: actor, Action: evIssued, Object: objectOf(id),
			Details: map[string]any{"serial": serial, "ca": d.CA, "profile": d.Profile, "delivery": delivery}}}, nil
	}
	out := &Issuance{Dossier: d, RevocationSecret: secret}
	if req.CSR != nil {
		cr.CSR = req.CSR
		prep, err := s.ca.Prepare(ctx, actor, cr)
		if err != nil {
			return nil, err
		}
		if out.Issued, err = s.ca.Issue(ctx, prep); err != nil {
			return nil, err
		}
		out.Warnings = prep.Warnings
	} else {
		cr.GenerateKey = req.KeyType
		dl, err := s.ca.IssueWithKey(ctx, actor, cr, req.Password)
		if err != nil {
			return nil, err
		}
		out.Issued, out.PKCS12, out.Password = dl.Issued, dl.PKCS12, dl.Password
		if req.Link {
			if out.Link, err = s.keepForLink(ctx, id, dl.PKCS12, now); err != nil {
				return nil, err
			}
			out.PKCS12 = nil
		}
	}
	d.State, d.Serial, d.IssuedAt, d.IssuedBy, d.Delivery = Issued, out.Issued.Serial, &now, p.Account, delivery
	return out, nil
}

// keepForLink stores a PKCS#12 behind a one-time link token; only the
// token's hash is kept, and the content is cleared once fetched.
func (s *Service) keepForLink(ctx context.Context, id int64, pfx []byte, now time.Time) (string, error) {
	token, err := randomToken(20)
	if err != nil {
		return "", err
	}
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		_, err := tx.ExecContext(ctx, qInsertLink, hashHex([]byte(token)), id, pfx, store.FormatTime(now),
			store.FormatTime(now.Add(s.opts.LinkValidity)))
		return store.Classify("registration: link", err)
	})
	return token, err
}

// Deliver records that an issued dossier's certificate reached the holder
// (a PKCS#10 answer or a PKCS#12 handed over); a link delivery is recorded
// by Download.
func (s *Service) Deliver(ctx context.Context, p access.Principal, id int64, how string) (*Dossier, error) {
	const op = "registration: deliver"
	actor, err := decide(p, access.DossierIssue, "dossier", id)
	if err != nil {
		return nil, err
	}
	if how == "" {
		how = "handed over"
	}
	var out *Dossier
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		d, err := s.load(ctx, tx, id)
		if err != nil {
			return err
		}
		if d.State != Issued {
			return sceau.Errorf(sceau.Conflict, op, "dossier %d is %s, not issued", id, d.State)
		}
		return s.deliverTx(ctx, tx, actor, d, how, &out)
	})
	return out, err
}

func (s *Service) deliverTx(ctx context.Context, tx *store.Tx, actor sceau.Actor, d *Dossier, how string, out **Dossier) error {
	now := s.now()
	if err := moved(tx.ExecContext(ctx, qDeliver, store.FormatTime(now), store.FormatTime(now), d.Delivery, d.ID)); err != nil {
		return sceau.E(sceau.Conflict, "registration: deliver", fmt.Sprintf("dossier %d changed meanwhile", d.ID), err)
	}
	d.State, d.DeliveredAt, d.UpdatedAt = Delivered, &now, now
	*out = d
	return s.j.Append(ctx, tx, audit.Event{Actor: actor, Action: evDelivered, Object: objectOf(d.ID),
		Details: map[string]any{"serial": d.Serial, "delivery": d.Delivery, "how": how}})
}

// Download returns the PKCS#12 behind a one-time link, once: the content
// is cleared and the dossier marked delivered in the same transaction.
func (s *Service) Download(ctx context.Context, token string) ([]byte, error) {
	const op = "registration: download"
	var pfx []byte
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		var id int64
		var expires string
		var used sql.NullString
		err := tx.QueryRowContext(ctx, qLink, hashHex([]byte(token))).Scan(&id, &pfx, &expires, &used)
		if errors.Is(err, sql.ErrNoRows) {
			return sceau.Errorf(sceau.NotFound, op, "no such download link")
		}
		if err != nil {
			return store.Classify(op, err)
		}
		exp, err := store.ParseTime(expires)
		if err != nil {
			return err
		}
		if used.Valid || pfx == nil {
			return sceau.Errorf(sceau.Conflict, op, "this download link was used already")
		}
		if !s.now().Before(exp) {
			return sceau.Errorf(sceau.Conflict, op, "this download link expired on %s", exp.Format(time.RFC3339))
		}
		if err := moved(tx.ExecContext(ctx, qLinkUsed, store.FormatTime(s.now()), hashHex([]byte(token)))); err != nil {
			return sceau.E(sceau.Conflict, op, "this download link was used already", err)
		}
		d, err := s.load(ctx, tx, id)
		if err != nil {
			return err
		}
		actor := sceau.Actor{ID: fmt.Sprintf("holder:dossier-%d", id)}
		if err := s.j.Append(ctx, tx, audit.Event{Actor: actor, Action: evLinkDownloaded, Object: objectOf(id),
			Details: map[string]any{"serial": d.Serial}}); err != nil {
			return err
		}
		if d.State != Issued {
			return nil
		}
		var out *Dossier
		return s.deliverTx(ctx, tx, actor, d, "one-time link", &out)
	})
	if err != nil {
		return nil, err
	}
	return pfx, nil
}

// secretMatches compares a presented secret with the stored hash in
// constant time.
func secretMatches(stored, presented string) bool {
	return stored != "" && subtle.ConstantTimeCompare([]byte(stored), []byte(hashHex([]byte(presented)))) == 1
}
