package registration

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/sceau/sceau/internal/access"
	"github.com/sceau/sceau/internal/archive"
	"github.com/sceau/sceau/internal/audit"
	"github.com/sceau/sceau/internal/publication"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/store"
)

// The media types a scan or a proof may have, as declared and as sniffed.
var scanTypes = []string{"application/pdf", "image/jpeg", "image/png"}

// NewEvidence is one piece of identity evidence and its scan.
type NewEvidence struct {
	DocType        string `json:"document_type"`
	Number         string `json:"document_number"`
	IssuingCountry string `json:"issuing_country"`
	Expires        string `json:"expires"` // YYYY-MM-DD
	Method         Method `json:"method"`
	ScanType       string `json:"scan_media_type"`
	Scan           []byte `json:"scan"`
}

// checkAttachment refuses a scan or proof that is empty, too big, or not
// the declared type (its content is sniffed).
func (s *Service) checkAttachment(op, what, declared string, b []byte) error {
	if !slices.Contains(scanTypes, declared) {
		return sceau.Errorf(sceau.Invalid, op, "%s: media type %q is not accepted (%s)", what, declared, strings.Join(scanTypes, ", "))
	}
	if len(b) == 0 {
		return sceau.Errorf(sceau.Invalid, op, "%s is empty", what)
	}
	if len(b) > s.opts.MaxScanBytes {
		return sceau.Errorf(sceau.Invalid, op, "%s is %d bytes, more than the %d accepted", what, len(b), s.opts.MaxScanBytes)
	}
	if got, _, _ := strings.Cut(http.DetectContentType(b), ";"); got != declared {
		return sceau.Errorf(sceau.Invalid, op, "%s is declared %s but its content is %s", what, declared, got)
	}
	return nil
}

func (e *NewEvidence) check(now time.Time) error {
	const op = "registration: evidence"
	if !slices.Contains(docTypes, e.DocType) {
		return sceau.Errorf(sceau.Invalid, op, "document type %q: one of %s", e.DocType, strings.Join(docTypes, ", "))
	}
	if !slices.Contains(Methods, e.Method) {
		return sceau.Errorf(sceau.Invalid, op, "verification method %q: one of %s", e.Method, methodList(Methods))
	}
	if strings.TrimSpace(e.Number) == "" || len(e.Number) > 64 {
		return sceau.Errorf(sceau.Invalid, op, "the document number is required (at most 64 characters)")
	}
	if len(e.IssuingCountry) != 2 || strings.ToUpper(e.IssuingCountry) != e.IssuingCountry {
		return sceau.Errorf(sceau.Invalid, op, "issuing country %q is not an ISO 3166-1 alpha-2 code", e.IssuingCountry)
	}
	t, err := time.Parse(time.DateOnly, e.Expires)
	if err != nil {
		return sceau.Errorf(sceau.Invalid, op, "expiry %q is not a date YYYY-MM-DD", e.Expires)
	}
	if !t.AddDate(0, 0, 1).After(now) {
		return sceau.Errorf(sceau.Invalid, op, "the %s %s expired on %s", e.DocType, e.Number, e.Expires)
	}
	return nil
}

// AddEvidence records a piece of identity evidence on a draft, its scan
// sealed in the archive (ARC-3, class confidential) in the same
// transaction.
func (s *Service) AddEvidence(ctx context.Context, p access.Principal, id int64, ne NewEvidence) (*Evidence, error) {
	const op = "registration: evidence"
	actor, err := decide(p, access.DossierEdit, "dossier", id)
	if err != nil {
		return nil, err
	}
	now := s.now()
	if err := ne.check(now); err != nil {
		return nil, err
	}
	if err := s.checkAttachment(op, "the scan", ne.ScanType, ne.Scan); err != nil {
		return nil, err
	}
	if s.arc == nil {
		return nil, sceau.Errorf(sceau.Unavailable, op, "no archive: evidence cannot be kept (ARC-3)")
	}
	var out *Evidence
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		d, err := s.load(ctx, tx, id)
		if err != nil {
			return err
		}
		if d.State != Draft {
			return sceau.Errorf(sceau.Conflict, op, "dossier %d is %s: evidence is added to a draft", id, d.State)
		}
		items, err := s.arc.AddTx(ctx, tx, actor, archive.New{Kind: KindEvidence, Source: fmt.Sprintf("dossier:%d:evidence:%s", id, ne.DocType),
			EventAt: now, MediaType: ne.ScanType, Class: archive.Confidential, Content: ne.Scan})
		if err != nil {
			return err
		}
		e := &Evidence{DocType: ne.DocType, Number: ne.Number, IssuingCountry: ne.IssuingCountry, Expires: ne.Expires, Method: ne.Method,
			AddedAt: now, AddedBy: p.Account, ScanLeaf: items[0].Leaf, ScanSHA256: items[0].SHA256, ScanType: ne.ScanType, ScanSize: int64(len(ne.Scan))}
		if err := tx.QueryRowContext(ctx, qInsertEvidence, id, e.DocType, e.Number, e.IssuingCountry, e.Expires, string(e.Method),
			store.FormatTime(now), e.AddedBy, e.ScanLeaf, e.ScanSHA256, e.ScanType, e.ScanSize).Scan(&e.ID); err != nil {
			return store.Classify(op, err)
		}
		out = e
		// The number is personal data: the journal names the document, the
		// archive keeps the scan.
		return s.j.Append(ctx, tx, audit.Event{Actor: actor, Action: evEvidence, Object: objectOf(id),
			Details: map[string]any{"document_type": e.DocType, "issuing_country": e.IssuingCountry, "method": e.Method,
				"expires": e.Expires, "scan_leaf": e.ScanLeaf, "scan_sha256": e.ScanSHA256}})
	})
	return out, err
}

// NewAcceptance records that the applicant accepted one CGU version.
type NewAcceptance struct {
	// Document is the published version: cgu/<ident>/<version>/<lang>.
	Document string `json:"document"`
	// SHA256 is the digest the applicant was shown; it must be the
	// published version's.
	SHA256 string `json:"sha256"`
	How    string `json:"how"` // signed, handwritten, click
	// AcceptedAt is when the applicant accepted (default now).
	AcceptedAt time.Time `json:"accepted_at,omitempty"`
	// Proof: the signed acceptance, the scan of the handwritten one, or
	// the record of the click on the one-time link page.
	ProofType string `json:"proof_media_type"`
	Proof     []byte `json:"proof"`
}

// proofTypes adds, for a signed or clicked acceptance, the signature or
// record formats.
var proofTypes = map[string][]string{
	AcceptSigned:      {"application/pkcs7-signature", "application/pdf"},
	AcceptHandwritten: {"application/pdf", "image/jpeg", "image/png"},
	AcceptClick:       {"application/json", "text/plain"},
}

// AcceptCGU records the applicant's acceptance of a CGU version in force
// (ARC-1): who, when, how, with the proof archived in the same
// transaction.
func (s *Service) AcceptCGU(ctx context.Context, p access.Principal, id int64, na NewAcceptance) (*CGU, error) {
	const op = "registration: cgu"
	actor, err := decide(p, access.DossierEdit, "dossier", id)
	if err != nil {
		return nil, err
	}
	types, ok := proofTypes[na.How]
	if !ok {
		return nil, sceau.Errorf(sceau.Invalid, op, "how %q: one of signed, handwritten, click", na.How)
	}
	if !slices.Contains(types, na.ProofType) {
		return nil, sceau.Errorf(sceau.Invalid, op, "a %s acceptance's proof is %s, not %q", na.How, strings.Join(types, " or "), na.ProofType)
	}
	if len(na.Proof) == 0 || len(na.Proof) > s.opts.MaxScanBytes {
		return nil, sceau.Errorf(sceau.Invalid, op, "the proof must hold 1 to %d bytes", s.opts.MaxScanBytes)
	}
	if slices.Contains(scanTypes, na.ProofType) {
		if err := s.checkAttachment(op, "the proof", na.ProofType, na.Proof); err != nil {
			return nil, err
		}
	}
	now := s.now()
	if na.AcceptedAt.IsZero() {
		na.AcceptedAt = now
	}
	if na.AcceptedAt.After(now.Add(time.Minute)) {
		return nil, sceau.Errorf(sceau.Invalid, op, "the acceptance is dated in the future")
	}
	doc, err := s.cguStanding(ctx, na.Document, now)
	if err != nil {
		return nil, err
	}
	if !strings.EqualFold(na.SHA256, doc.SHA256) {
		return nil, sceau.Errorf(sceau.Invalid, op, "CGU %s has SHA-256 %s, not %s: the applicant accepted another text", doc.ID, doc.SHA256, na.SHA256)
	}
	if s.arc == nil {
		return nil, sceau.Errorf(sceau.Unavailable, op, "no archive: the acceptance cannot be kept (ARC-1)")
	}
	c := &CGU{Document: doc.ID, SHA256: doc.SHA256, URL: strings.TrimSuffix(s.opts.SiteURL, "/") + doc.Path(), How: na.How,
		AcceptedAt: na.AcceptedAt.UTC(), RecordedBy: p.Account}
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		d, err := s.load(ctx, tx, id)
		if err != nil {
			return err
		}
		if d.State != Draft {
			return sceau.Errorf(sceau.Conflict, op, "dossier %d is %s: the CGU are accepted on a draft", id, d.State)
		}
		if err := s.cguOfProfile(d.Profile, doc.ID); err != nil { // cgupolicy.go
			return err
		}
		items, err := s.arc.AddTx(ctx, tx, actor, archive.New{Kind: KindCGU, Source: fmt.Sprintf("dossier:%d:cgu:%s", id, doc.ID),
			EventAt: c.AcceptedAt, MediaType: na.ProofType, Class: archive.Confidential, Content: na.Proof})
		if err != nil {
			return err
		}
		c.ProofLeaf = items[0].Leaf
		if _, err := tx.ExecContext(ctx, qInsertCGU, id, c.Document, c.SHA256, c.URL, c.How, store.FormatTime(c.AcceptedAt), c.RecordedBy,
			c.ProofLeaf); err != nil {
			return store.Classify(op, err)
		}
		return s.j.Append(ctx, tx, audit.Event{Actor: actor, Action: evCGU, Object: objectOf(id),
			Details: map[string]any{"document": c.Document, "sha256": c.SHA256, "url": c.URL, "how": c.How,
				"accepted_at": c.AcceptedAt, "proof_leaf": c.ProofLeaf, "applicant": d.Contact.Name}})
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// cguStanding returns the CGU version id if it is the version in force.
func (s *Service) cguStanding(ctx context.Context, id string, now time.Time) (*publication.Document, error) {
	const op = "registration: cgu"
	if s.pub == nil {
		return nil, sceau.Errorf(sceau.Unavailable, op, "no publication service: the CGU in force is unknown")
	}
	if !strings.HasPrefix(id, string(publication.CGU)+"/") {
		return nil, sceau.Errorf(sceau.Invalid, op, "%q is not a CGU version (cgu/<ident>/<version>/<lang>)", id)
	}
	doc, state, err := s.pub.Standing(ctx, id, now)
	if err != nil {
		return nil, err
	}
	switch state {
	case "current":
		return doc, nil
	case "withdrawn":
		return nil, sceau.Errorf(sceau.Invalid, op, "CGU %s was withdrawn on %s: the applicant must accept the version in force",
			id, doc.WithdrawnAt.UTC().Format(time.DateOnly))
	default:
		return nil, sceau.Errorf(sceau.Invalid, op, "CGU %s is %s, not the version in force: the applicant must accept the current one", id, state)
	}
}

// cguInForce refuses a dossier whose accepted CGU version is not (or no
// longer) the one in force (CA-4, ARC-1).
func (s *Service) cguInForce(ctx context.Context, d *Dossier, now time.Time) error {
	if d.CGU == nil {
		return sceau.Errorf(sceau.Invalid, "registration: cgu", "dossier %d: the applicant has not accepted the CGU", d.ID)
	}
	if err := s.cguOfProfile(d.Profile, d.CGU.Document); err != nil {
		return err
	}
	_, err := s.cguStanding(ctx, d.CGU.Document, now)
	return err
}
