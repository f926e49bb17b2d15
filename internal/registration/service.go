package registration

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/sceau/sceau/internal/access"
	"github.com/sceau/sceau/internal/archive"
	"github.com/sceau/sceau/internal/audit"
	"github.com/sceau/sceau/internal/ca"
	"github.com/sceau/sceau/internal/publication"
	"github.com/sceau/sceau/internal/revocation"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/store"
)

// The audit events of the registration authority (catalogued in
// internal/audit).
const (
	evCreated        = audit.ActionDossierCreated
	evUpdated        = audit.ActionDossierUpdated
	evEvidence       = audit.ActionDossierEvidence
	evSubmitted      = audit.ActionDossierSubmitted
	evValidated      = audit.ActionDossierValidated
	evRejected       = audit.ActionDossierRejected
	evIssued         = audit.ActionDossierIssued
	evDelivered      = audit.ActionDossierDelivered
	evCGU            = audit.ActionCGUAccepted
	evReqReceived    = audit.ActionRevocationRequestReceived
	evReqProcessed   = audit.ActionRevocationRequestProcessed
	evSecretRefused  = audit.ActionRevocationSecretRefused
	evLinkDownloaded = audit.ActionPKCS12Downloaded
)

// The archive kinds of the registration's records (ARC-1, ARC-3).
const (
	KindEvidence = "identity-evidence"
	KindCGU      = "cgu-acceptance"
)

// Options tune the service; zero values take the defaults.
type Options struct {
	Clock sceau.Clock
	// MaxScanBytes bounds an evidence scan or an acceptance proof
	// (default 5 MiB, and never more than the archive takes).
	MaxScanBytes int
	// RevocationDeadline is the policy's time to process a revocation
	// request (default 24h).
	RevocationDeadline time.Duration
	// SecretAttempts wrong revocation secrets in a row lock a dossier's
	// holder requests for SecretLockout (defaults 5 and 15 minutes).
	SecretAttempts int
	SecretLockout  time.Duration
	// LinkValidity is how long a PKCS#12 download link works (default 7 days).
	LinkValidity time.Duration
	// SiteURL is the public site's base URL, for the CGU's URL.
	SiteURL string
	// CGU names, by profile, the identifier of the CGU its certificate
	// policy requires (cgu/<ident>/…); a profile not named takes any
	// CGU version in force (cgupolicy.go).
	CGU map[string]string
}

// Service is the registration authority.
type Service struct {
	db   *store.DB
	j    audit.Appender
	ca   *ca.Authority
	rev  *revocation.Service
	arc  *archive.Service
	pub  *publication.Service
	opts Options
}

// New returns the service over its collaborators: the CA issues, the
// revocation service revokes, the archive keeps evidence and proofs, the
// publication service says which CGU version is in force.
func New(db *store.DB, j audit.Appender, authority *ca.Authority, rev *revocation.Service, arc *archive.Service,
	pub *publication.Service, o Options) *Service {
	if o.Clock == nil {
		o.Clock = sceau.RealClock
	}
	if o.MaxScanBytes <= 0 {
		o.MaxScanBytes = 5 << 20
	}
	if arc != nil && arc.MaxItemBytes() > 0 && o.MaxScanBytes > arc.MaxItemBytes() {
		o.MaxScanBytes = arc.MaxItemBytes()
	}
	if o.RevocationDeadline <= 0 {
		o.RevocationDeadline = 24 * time.Hour
	}
	if o.SecretAttempts <= 0 {
		o.SecretAttempts = 5
	}
	if o.SecretLockout <= 0 {
		o.SecretLockout = 15 * time.Minute
	}
	if o.LinkValidity <= 0 {
		o.LinkValidity = 7 * 24 * time.Hour
	}
	return &Service{db: db, j: j, ca: authority, rev: rev, arc: arc, pub: pub, opts: o}
}

// MaxScanBytes is the largest scan or proof accepted.
func (s *Service) MaxScanBytes() int { return s.opts.MaxScanBytes }

func (s *Service) now() time.Time { return s.opts.Clock.Now().UTC() }

// decide runs the access decision for action on dossier id and returns
// the actor under the role that allows it (ROLE-5).
func decide(p access.Principal, action access.Action, kind string, id int64) (sceau.Actor, error) {
	res := access.Resource{Kind: kind}
	if id > 0 {
		res.ID = fmt.Sprint(id)
	}
	return access.Authorize(p, action, res)
}

// NewDossier is what an officer enters to open a dossier.
type NewDossier struct {
	Kind    Kind     `json:"kind"`
	CA      string   `json:"ca"`
	Profile string   `json:"profile"`
	Subject Subject  `json:"subject"`
	Contact Contact  `json:"contact"`
	Mandate *Mandate `json:"mandate,omitempty"`
}

// profile finds the certificate profile a dossier is for.
func (s *Service) profile(caID, name string) (*ca.Profile, error) {
	c, err := s.ca.CA(caID)
	if err != nil {
		return nil, err
	}
	p, ok := c.Profile(name)
	if !ok {
		return nil, sceau.Errorf(sceau.NotFound, "registration: dossier", "CA %q has no profile %q", caID, name)
	}
	return p, nil
}

// Requirements returns what profile of CA caID asks of a dossier of kind k.
func (s *Service) Requirements(caID, profile string, k Kind) (Requirements, error) {
	p, err := s.profile(caID, profile)
	if err != nil {
		return Requirements{}, err
	}
	return RequirementsOf(k, p), nil
}

func checkNew(nd *NewDossier) error {
	const op = "registration: dossier"
	ok := false
	for _, k := range Kinds {
		ok = ok || nd.Kind == k
	}
	if !ok {
		return sceau.Errorf(sceau.Invalid, op, "kind %q: one of natural, legal, natural_of_legal, device", nd.Kind)
	}
	if nd.Contact.Name == "" || nd.Contact.Email == "" {
		return sceau.Errorf(sceau.Invalid, op, "the applicant's contact needs a name and an email address")
	}
	return checkSubject(nd.Subject, nd.Kind)
}

// Create opens a dossier in the draft state. The fields the profile needs
// are checked now (a dossier missing one is refused with every missing
// field named); the evidence is checked at submission.
func (s *Service) Create(ctx context.Context, p access.Principal, nd NewDossier) (*Dossier, error) {
	const op = "registration: create"
	actor, err := decide(p, access.DossierCreate, "dossier", 0)
	if err != nil {
		return nil, err
	}
	if err := checkNew(&nd); err != nil {
		return nil, err
	}
	prof, err := s.profile(nd.CA, nd.Profile)
	if err != nil {
		return nil, err
	}
	now := s.now()
	d := &Dossier{Kind: nd.Kind, CA: nd.CA, Profile: nd.Profile, State: Draft, Subject: nd.Subject, Contact: nd.Contact,
		Mandate: nd.Mandate, CreatedAt: now, CreatedBy: p.Account, UpdatedAt: now}
	if err := RequirementsOf(nd.Kind, prof).check(d, now, false); err != nil {
		return nil, err
	}
	subj, contact, mandate := encode(d)
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.QueryRowContext(ctx, qInsertDossier, string(d.Kind), d.CA, d.Profile, subj, contact, mandate,
			store.FormatTime(now), d.CreatedBy, store.FormatTime(now)).Scan(&d.ID); err != nil {
			return store.Classify(op, err)
		}
		return s.j.Append(ctx, tx, audit.Event{Actor: actor, Action: evCreated, Object: objectOf(d.ID),
			Details: map[string]any{"kind": d.Kind, "ca": d.CA, "profile": d.Profile, "subject": d.Subject.Name().String()}})
	})
	if err != nil {
		return nil, err
	}
	return d, nil
}

// Update replaces a draft's subject, contact and mandate.
func (s *Service) Update(ctx context.Context, p access.Principal, id int64, nd NewDossier) (*Dossier, error) {
	const op = "registration: update"
	actor, err := decide(p, access.DossierEdit, "dossier", id)
	if err != nil {
		return nil, err
	}
	var out *Dossier
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		d, err := s.load(ctx, tx, id)
		if err != nil {
			return err
		}
		if d.State != Draft {
			return sceau.Errorf(sceau.Conflict, op, "dossier %d is %s: only a draft is changed", id, d.State)
		}
		nd.Kind, nd.CA, nd.Profile = d.Kind, d.CA, d.Profile
		if err := checkNew(&nd); err != nil {
			return err
		}
		prof, err := s.profile(d.CA, d.Profile)
		if err != nil {
			return err
		}
		d.Subject, d.Contact, d.Mandate, d.UpdatedAt = nd.Subject, nd.Contact, nd.Mandate, s.now()
		if err := RequirementsOf(d.Kind, prof).check(d, d.UpdatedAt, false); err != nil {
			return err
		}
		subj, contact, mandate := encode(d)
		if _, err := tx.ExecContext(ctx, qUpdateDraft, subj, contact, mandate, store.FormatTime(d.UpdatedAt), id); err != nil {
			return store.Classify(op, err)
		}
		out = d
		return s.j.Append(ctx, tx, audit.Event{Actor: actor, Action: evUpdated, Object: objectOf(id),
			Details: map[string]any{"subject": d.Subject.Name().String()}})
	})
	return out, err
}

// Submit sends a complete draft to validation: its fields, evidence and
// CGU acceptance are checked against its profile.
func (s *Service) Submit(ctx context.Context, p access.Principal, id int64) (*Dossier, error) {
	const op = "registration: submit"
	actor, err := decide(p, access.DossierEdit, "dossier", id)
	if err != nil {
		return nil, err
	}
	var out *Dossier
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		d, err := s.load(ctx, tx, id)
		if err != nil {
			return err
		}
		if d.State != Draft {
			return sceau.Errorf(sceau.Conflict, op, "dossier %d is %s, not a draft", id, d.State)
		}
		if err := s.complete(ctx, d); err != nil {
			return err
		}
		now := s.now()
		if err := moved(tx.ExecContext(ctx, qSubmit, store.FormatTime(now), store.FormatTime(now), id)); err != nil {
			return sceau.E(sceau.Conflict, op, fmt.Sprintf("dossier %d changed meanwhile", id), err)
		}
		d.State, d.SubmittedAt, d.UpdatedAt = Submitted, &now, now
		out = d
		return s.j.Append(ctx, tx, audit.Event{Actor: actor, Action: evSubmitted, Object: objectOf(id),
			Details: map[string]any{"evidence": len(d.Evidence), "cgu": d.CGU.Document}})
	})
	return out, err
}

// complete refuses a dossier its profile cannot issue from: fields,
// evidence, and a CGU acceptance of the version in force.
func (s *Service) complete(ctx context.Context, d *Dossier) error {
	prof, err := s.profile(d.CA, d.Profile)
	if err != nil {
		return err
	}
	now := s.now()
	if err := RequirementsOf(d.Kind, prof).check(d, now, true); err != nil {
		return err
	}
	return s.cguInForce(ctx, d, now)
}

// Validate is the Registration & Revocation Officer's decision that the
// dossier is right (CA-4): never by the account that entered it.
func (s *Service) Validate(ctx context.Context, p access.Principal, id int64) (*Dossier, error) {
	return s.decideDossier(ctx, p, id, Validated, "")
}

// Reject closes a submitted dossier with a reason.
func (s *Service) Reject(ctx context.Context, p access.Principal, id int64, reason string) (*Dossier, error) {
	if reason == "" {
		return nil, sceau.Errorf(sceau.Invalid, "registration: reject", "a rejection needs a reason")
	}
	return s.decideDossier(ctx, p, id, Rejected, reason)
}

func (s *Service) decideDossier(ctx context.Context, p access.Principal, id int64, to State, reason string) (*Dossier, error) {
	const op = "registration: validate"
	actor, err := decide(p, access.DossierValidate, "dossier", id)
	if err != nil {
		return nil, err
	}
	var out *Dossier
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		d, err := s.load(ctx, tx, id)
		if err != nil {
			return err
		}
		// CA-4: four eyes. The officer who entered the dossier does not
		// decide on it, whatever their roles.
		if d.CreatedBy == p.Account {
			return sceau.Errorf(sceau.Denied, op, "%s entered dossier %d and cannot %s it: another Registration Officer must (four eyes)",
				p.Account, id, map[State]string{Validated: "validate", Rejected: "reject"}[to])
		}
		if !p.Has(access.RegistrationOfficer) {
			return sceau.Errorf(sceau.Denied, op, "only a Registration & Revocation Officer decides on a dossier")
		}
		if d.State != Submitted {
			return sceau.Errorf(sceau.Conflict, op, "dossier %d is %s, not submitted", id, d.State)
		}
		if to == Validated {
			if err := s.complete(ctx, d); err != nil {
				return err
			}
		}
		now := s.now()
		if err := moved(tx.ExecContext(ctx, qDecide, string(to), store.FormatTime(now), p.Account, reason, store.FormatTime(now), id)); err != nil {
			return sceau.E(sceau.Conflict, op, fmt.Sprintf("dossier %d changed meanwhile", id), err)
		}
		d.State, d.DecidedAt, d.DecidedBy, d.Reason, d.UpdatedAt = to, &now, p.Account, reason, now
		out = d
		ev := audit.Event{Actor: actor, Action: evValidated, Object: objectOf(id),
			Details: map[string]any{"entered_by": d.CreatedBy, "profile": d.Profile, "subject": d.Subject.Name().String()}}
		if to == Rejected {
			ev.Action, ev.Details = evRejected, map[string]any{"entered_by": d.CreatedBy, "reason": reason}
		}
		return s.j.Append(ctx, tx, ev)
	})
	return out, err
}

// Dossier returns dossier id with its evidence and CGU acceptance.
func (s *Service) Dossier(ctx context.Context, p access.Principal, id int64) (*Dossier, error) {
	if _, err := decide(p, access.DossierRead, "dossier", id); err != nil {
		return nil, err
	}
	return s.load(ctx, s.db, id)
}

// Filter selects dossiers.
type Filter struct {
	State State
	After int64
	Limit int
}

// Dossiers lists dossiers by id, without their evidence.
func (s *Service) Dossiers(ctx context.Context, p access.Principal, f Filter) ([]*Dossier, error) {
	const op = "registration: list"
	if _, err := decide(p, access.DossierRead, "dossier", 0); err != nil {
		return nil, err
	}
	if f.Limit <= 0 || f.Limit > 1000 {
		f.Limit = 100
	}
	rows, err := s.db.QueryContext(ctx, qDossiers, string(f.State), string(f.State), f.After, f.Limit)
	if err != nil {
		return nil, store.Classify(op, err)
	}
	defer rows.Close()
	out := []*Dossier{}
	for rows.Next() {
		d, err := scanDossier(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, store.Classify(op, rows.Err())
}

func (s *Service) load(ctx context.Context, q store.Querier, id int64) (*Dossier, error) {
	const op = "registration: dossier"
	d, err := scanDossier(q.QueryRowContext(ctx, qDossier, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, sceau.Errorf(sceau.NotFound, op, "no dossier %d", id)
	}
	if err != nil {
		return nil, err
	}
	rows, err := q.QueryContext(ctx, qEvidence, id)
	if err != nil {
		return nil, store.Classify(op, err)
	}
	defer rows.Close()
	for rows.Next() {
		var e Evidence
		var method, added string
		if err := rows.Scan(&e.ID, &e.DocType, &e.Number, &e.IssuingCountry, &e.Expires, &method, &added, &e.AddedBy,
			&e.ScanLeaf, &e.ScanSHA256, &e.ScanType, &e.ScanSize); err != nil {
			return nil, store.Classify(op, err)
		}
		e.Method = Method(method)
		if e.AddedAt, err = store.ParseTime(added); err != nil {
			return nil, err
		}
		d.Evidence = append(d.Evidence, e)
	}
	if err := rows.Err(); err != nil {
		return nil, store.Classify(op, err)
	}
	var c CGU
	var at string
	err = q.QueryRowContext(ctx, qLatestCGU, id).Scan(&c.Document, &c.SHA256, &c.URL, &c.How, &at, &c.RecordedBy, &c.ProofLeaf)
	switch {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return nil, store.Classify(op, err)
	default:
		if c.AcceptedAt, err = store.ParseTime(at); err != nil {
			return nil, err
		}
		d.CGU = &c
	}
	return d, nil
}

type scanner interface{ Scan(dest ...any) error }

// extraScanner adds columns after a dossier's.
type extraScanner struct {
	sc    scanner
	extra []any
}

func (e extraScanner) Scan(dest ...any) error { return e.sc.Scan(append(dest, e.extra...)...) }

func scanDossier(sc scanner) (*Dossier, error) {
	const op = "registration: dossier"
	var (
		d                                              Dossier
		kind, state, subj, contact, created, updated   string
		mandate, submitted, decided, decidedBy, reason sql.NullString
		serial, issued, issuedBy, delivered, delivery  sql.NullString
	)
	if err := sc.Scan(&d.ID, &kind, &d.CA, &d.Profile, &state, &subj, &contact, &mandate, &created, &d.CreatedBy, &updated,
		&submitted, &decided, &decidedBy, &reason, &serial, &issued, &issuedBy, &delivered, &delivery); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, err
		}
		return nil, store.Classify(op, err)
	}
	d.Kind, d.State = Kind(kind), State(state)
	if err := json.Unmarshal([]byte(subj), &d.Subject); err != nil {
		return nil, sceau.E(sceau.Internal, op, "stored subject", err)
	}
	if err := json.Unmarshal([]byte(contact), &d.Contact); err != nil {
		return nil, sceau.E(sceau.Internal, op, "stored contact", err)
	}
	if mandate.Valid && mandate.String != "" {
		d.Mandate = &Mandate{}
		if err := json.Unmarshal([]byte(mandate.String), d.Mandate); err != nil {
			return nil, sceau.E(sceau.Internal, op, "stored mandate", err)
		}
	}
	var err error
	if d.CreatedAt, err = store.ParseTime(created); err != nil {
		return nil, err
	}
	if d.UpdatedAt, err = store.ParseTime(updated); err != nil {
		return nil, err
	}
	for _, t := range []struct {
		v   sql.NullString
		dst **time.Time
	}{{submitted, &d.SubmittedAt}, {decided, &d.DecidedAt}, {issued, &d.IssuedAt}, {delivered, &d.DeliveredAt}} {
		if t.v.Valid && t.v.String != "" {
			tm, err := store.ParseTime(t.v.String)
			if err != nil {
				return nil, err
			}
			*t.dst = &tm
		}
	}
	d.DecidedBy, d.Reason, d.Serial, d.IssuedBy, d.Delivery = decidedBy.String, reason.String, serial.String, issuedBy.String, delivery.String
	return &d, nil
}

func encode(d *Dossier) (subject, contact string, mandate any) {
	b, _ := json.Marshal(d.Subject)
	c, _ := json.Marshal(d.Contact)
	if d.Mandate != nil {
		m, _ := json.Marshal(d.Mandate)
		mandate = string(m)
	}
	return string(b), string(c), mandate
}

func objectOf(id int64) string { return fmt.Sprintf("dossier:%d", id) }

// moved checks that an UPDATE moved exactly one row.
func moved(res sql.Result, err error) error {
	if err != nil {
		return store.Classify("registration", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return sceau.Errorf(sceau.Conflict, "registration", "no row moved")
	}
	return nil
}

func hashHex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}
