package publication

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/sceau/sceau/internal/audit"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/store"
)

// Journal is where the publication's changes are recorded, in the
// transaction that makes them (AUD-7).
type Journal interface {
	Append(ctx context.Context, tx *store.Tx, events ...audit.Event) error
}

var _ Journal = (*audit.Journal)(nil)

// Options tune the service; zero values take the defaults.
type Options struct {
	MaxSize int64       // bytes per document file; DefaultMaxSize
	Clock   sceau.Clock // nil: the real clock
}

// Service stores and publishes document versions. Changes arrive through
// dual control: a trusted role stores the file (Store), requests the
// change, and the approvals run Apply once approved (PUB-4, ROLE-3).
type Service struct {
	db      *store.DB
	journal Journal
	opts    Options
	clock   sceau.Clock
	// versions caches Standing's reads (standing.go).
	versions versionsCache
}

// NewService returns the publication service over db.
func NewService(db *store.DB, j Journal, o Options) *Service {
	if o.MaxSize <= 0 {
		o.MaxSize = DefaultMaxSize
	}
	return &Service{db: db, journal: j, opts: o, clock: sceau.ClockOr(o.Clock)}
}

// MaxSize is the largest document file accepted.
func (s *Service) MaxSize() int64 { return s.opts.MaxSize }

// Store keeps content under its SHA-256, once, and returns the digest. A
// stored file is not published: only an approved change publishes it.
func (s *Service) Store(ctx context.Context, actor sceau.Actor, mediaType string, content []byte) (string, error) {
	const op = "publication: store"
	if _, ok := mediaTypes[mediaType]; !ok {
		return "", sceau.Errorf(sceau.Invalid, op, "media type %q is not one of application/pdf, text/html, text/plain", clip(mediaType))
	}
	if err := CheckContent(mediaType, content, s.opts.MaxSize); err != nil {
		return "", err
	}
	var digest string
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		var err error
		digest, err = s.StoreTx(ctx, tx, actor, mediaType, content)
		return err
	})
	return digest, err
}

// StoreTx is Store in the caller's transaction, for a procedure that
// publishes as part of what it carries out (INC-2's notice), after the
// caller checked the media type and the content.
func (s *Service) StoreTx(ctx context.Context, tx *store.Tx, actor sceau.Actor, mediaType string, content []byte) (string, error) {
	const op = "publication: store"
	if err := CheckContent(mediaType, content, s.opts.MaxSize); err != nil {
		return "", err
	}
	sum := sha256.Sum256(content)
	digest := hex.EncodeToString(sum[:])
	res, err := tx.ExecContext(ctx, qInsertFile, digest, mediaType, len(content), content, store.FormatTime(s.clock.Now()), actor.String())
	if err != nil {
		return "", store.Classify(op, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return digest, nil // the same bytes are there already
	}
	return digest, s.journal.Append(ctx, tx, audit.Event{Actor: actor, Action: audit.ActionPublicationFileStored, Object: "file:" + digest,
		Details: map[string]any{"media_type": mediaType, "size": len(content)}})
}

// Change is an approved change to what is published: the payload of a
// publication.change request (it is journaled: metadata only, the file is
// named by its digest).
type Change struct {
	Op       string `json:"op"` // "add" or "withdraw"
	Document string `json:"document"`
	Meta     *Meta  `json:"meta,omitempty"`   // add
	SHA256   string `json:"sha256,omitempty"` // add
	Reason   string `json:"reason,omitempty"` // withdraw
}

// AddChange returns the change that publishes the file digest as the
// version m describes, once m is checked.
func AddChange(m Meta, digest string) (Change, error) {
	if err := m.Check(); err != nil {
		return Change{}, err
	}
	return Change{Op: "add", Document: DocumentID(m), Meta: &m, SHA256: digest}, nil
}

// WithdrawChange returns the change that withdraws the version id.
func WithdrawChange(id, reason string) (Change, error) {
	if reason == "" {
		return Change{}, sceau.Errorf(sceau.Invalid, "publication: withdraw", "say why the version is withdrawn (--reason)")
	}
	if len(reason) > 500 {
		return Change{}, sceau.Errorf(sceau.Invalid, "publication: withdraw", "the reason is longer than 500 bytes")
	}
	return Change{Op: "withdraw", Document: id, Reason: reason}, nil
}

// DecodeChange reads a request payload strictly.
func DecodeChange(payload []byte) (Change, error) {
	var ch Change
	if err := json.Unmarshal(payload, &ch); err != nil {
		return ch, sceau.E(sceau.Invalid, "publication: change", "bad request payload", err)
	}
	return ch, nil
}

// Check refuses a change that could not be applied: a version that
// exists already, a file never stored or of another type, a withdrawal of
// something never published or withdrawn already.
func (s *Service) Check(ctx context.Context, q store.Querier, ch Change) error {
	const op = "publication: change"
	switch ch.Op {
	case "add":
		if ch.Meta == nil {
			return sceau.Errorf(sceau.Invalid, op, "an addition needs the document's description")
		}
		m := *ch.Meta
		if err := m.Check(); err != nil {
			return err
		}
		if DocumentID(m) != ch.Document {
			return sceau.Errorf(sceau.Invalid, op, "the change names %s, its description %s", clip(ch.Document), DocumentID(m))
		}
		var mt string
		var size int64
		err := q.QueryRowContext(ctx, qFileMeta, ch.SHA256).Scan(&mt, &size)
		if errors.Is(err, sql.ErrNoRows) {
			return sceau.Errorf(sceau.NotFound, op, "no file with SHA-256 %s was stored: store it first", clip(ch.SHA256))
		}
		if err != nil {
			return store.Classify(op, err)
		}
		if mt != m.MediaType {
			return sceau.Errorf(sceau.Invalid, op, "the file is %s, the document is declared %s", mt, m.MediaType)
		}
		if _, err := s.document(ctx, q, ch.Document); err == nil {
			return sceau.Errorf(sceau.Conflict, op, "version %s is published already: a published version never changes, publish a new version", ch.Document)
		} else if sceau.KindOf(err) != sceau.NotFound {
			return err
		}
		return nil
	case "withdraw":
		d, err := s.document(ctx, q, ch.Document)
		if err != nil {
			return err
		}
		if d.Withdrawn() {
			return sceau.Errorf(sceau.Conflict, op, "version %s was withdrawn already on %s", d.ID, d.WithdrawnAt.Format(time.DateOnly))
		}
		return nil
	}
	return sceau.Errorf(sceau.Invalid, op, "unknown change %q: add or withdraw", clip(ch.Op))
}

// Apply carries out an approved change in tx, with its audit event
// (PUB-4: actor is the requester, approval the request's ID).
func (s *Service) Apply(ctx context.Context, tx *store.Tx, actor sceau.Actor, ch Change, approval string) (string, error) {
	const op = "publication: change"
	if err := s.Check(ctx, tx, ch); err != nil {
		return "", err
	}
	now := s.clock.Now()
	switch ch.Op {
	case "add":
		m := *ch.Meta
		_ = m.Check()
		var size int64
		var mt string
		if err := tx.QueryRowContext(ctx, qFileMeta, ch.SHA256).Scan(&mt, &size); err != nil {
			return "", store.Classify(op, err)
		}
		if _, err := tx.ExecContext(ctx, qInsertDocument, ch.Document, string(m.Kind), m.Ident, m.Version, m.Lang, m.Title,
			store.FormatTime(m.EffectiveAt), m.MediaType, ch.SHA256, size, store.FormatTime(now), actor.String(), approval); err != nil {
			return "", store.Classify(op, err)
		}
		if err := s.journal.Append(ctx, tx, audit.Event{Actor: actor, Action: audit.ActionPublicationPublished, Object: "document:" + ch.Document,
			Details: map[string]any{"title": m.Title, "media_type": m.MediaType, "sha256": ch.SHA256, "size": size,
				"effective_at": m.EffectiveAt, "approval": approval, "path": DocumentPath(ch.Document, m.MediaType)}}); err != nil {
			return "", err
		}
		s.versions.forget()
		return fmt.Sprintf("version %s is published at %s", ch.Document, DocumentPath(ch.Document, m.MediaType)), nil
	case "withdraw":
		res, err := tx.ExecContext(ctx, qWithdraw, store.FormatTime(now), actor.String(), ch.Reason, approval, ch.Document)
		if err != nil {
			return "", store.Classify(op, err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return "", sceau.Errorf(sceau.Conflict, op, "version %s was withdrawn meanwhile", ch.Document)
		}
		if err := s.journal.Append(ctx, tx, audit.Event{Actor: actor, Action: audit.ActionPublicationWithdrawn, Object: "document:" + ch.Document,
			Details: map[string]any{"reason": ch.Reason, "approval": approval}}); err != nil {
			return "", err
		}
		s.versions.forget()
		return fmt.Sprintf("version %s is withdrawn; it stays listed and downloadable", ch.Document), nil
	}
	return "", sceau.Errorf(sceau.Invalid, op, "unknown change %q", clip(ch.Op))
}

// Document returns the version id.
func (s *Service) Document(ctx context.Context, id string) (*Document, error) {
	return s.document(ctx, s.db, id)
}

func (s *Service) document(ctx context.Context, q store.Querier, id string) (*Document, error) {
	d, err := scanDocument(q.QueryRowContext(ctx, qDocument, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, sceau.Errorf(sceau.NotFound, "publication: document", "no version %s was ever published", clip(id))
	}
	return d, err
}

// Documents returns every version ever published, withdrawn ones
// included, by kind, identifier, language and publication.
func (s *Service) Documents(ctx context.Context) ([]*Document, error) {
	const op = "publication: documents"
	rows, err := s.db.QueryContext(ctx, qDocuments)
	if err != nil {
		return nil, store.Classify(op, err)
	}
	defer rows.Close()
	var out []*Document
	for rows.Next() {
		d, err := scanDocument(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, store.Classify(op, rows.Err())
}

// version is a cheap fingerprint of the documents table: it changes with
// every publication and withdrawal, on any node.
func (s *Service) version(ctx context.Context) (string, error) {
	var n int64
	var p, w string
	if err := s.db.QueryRowContext(ctx, qDocumentsVersion).Scan(&n, &p, &w); err != nil {
		return "", store.Classify("publication: documents", err)
	}
	return fmt.Sprintf("%d|%s|%s", n, p, w), nil
}

// File returns a stored file by its SHA-256.
func (s *Service) File(ctx context.Context, digest string) (mediaType string, content []byte, err error) {
	const op = "publication: file"
	err = s.db.QueryRowContext(ctx, qFileContent, digest).Scan(&mediaType, &content)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil, sceau.Errorf(sceau.NotFound, op, "no file %s", clip(digest))
	}
	return mediaType, content, store.Classify(op, err)
}

type scanner interface{ Scan(dest ...any) error }

func scanDocument(sc scanner) (*Document, error) {
	const op = "publication: document"
	var (
		d                           Document
		kind, eff, pub              string
		wAt, wBy, wReason, wApprove sql.NullString
	)
	if err := sc.Scan(&d.ID, &kind, &d.Ident, &d.Version, &d.Lang, &d.Title, &eff, &d.MediaType, &d.SHA256, &d.Size,
		&pub, &d.PublishedBy, &d.Approval, &wAt, &wBy, &wReason, &wApprove); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, err
		}
		return nil, store.Classify(op, err)
	}
	d.Kind = Kind(kind)
	var err error
	if d.EffectiveAt, err = store.ParseTime(eff); err != nil {
		return nil, err
	}
	if d.PublishedAt, err = store.ParseTime(pub); err != nil {
		return nil, err
	}
	if wAt.Valid {
		t, err := store.ParseTime(wAt.String)
		if err != nil {
			return nil, err
		}
		d.WithdrawnAt, d.WithdrawnBy, d.Reason, d.Withdrawal = &t, wBy.String, wReason.String, wApprove.String
	}
	return &d, nil
}

// CheckChange checks a publication.change request's payload when it is
// made (access.Publisher).
func (s *Service) CheckChange(ctx context.Context, q store.Querier, payload json.RawMessage) error {
	ch, err := DecodeChange(payload)
	if err != nil {
		return err
	}
	return s.Check(ctx, q, ch)
}

// ApplyChange applies an approved request's payload (access.Publisher).
func (s *Service) ApplyChange(ctx context.Context, tx *store.Tx, actor sceau.Actor, payload json.RawMessage, approval string) (string, error) {
	ch, err := DecodeChange(payload)
	if err != nil {
		return "", err
	}
	return s.Apply(ctx, tx, actor, ch, approval)
}

// Standing returns the version id and its state on now: "current" (the
// version in force for its kind, identifier and language), "superseded",
// "upcoming" or "withdrawn". CA-4, ARC-1: a registration dossier's CGU
// acceptance counts only while the version accepted is the current one.
// The versions are read through a cache of one second (standing.go).
func (s *Service) Standing(ctx context.Context, id string, now time.Time) (*Document, string, error) {
	const op = "publication: document"
	parts := strings.Split(id, "/")
	if len(parts) != 4 {
		return nil, "", sceau.Errorf(sceau.NotFound, op, "no version %s was ever published", clip(id))
	}
	docs, err := s.versions.get(parts[0]+"/"+parts[1]+"/"+parts[3], func() ([]*Document, error) {
		return s.versionsOf(ctx, parts[0], parts[1], parts[3])
	})
	if err != nil {
		return nil, "", err
	}
	st := states(docs, now)
	for _, d := range docs {
		if d.ID == id {
			c := *d // the cached one stays as read
			return &c, st[d], nil
		}
	}
	return nil, "", sceau.Errorf(sceau.NotFound, op, "no version %s was ever published", clip(id))
}

// versionsOf reads every version of a document in one language.
func (s *Service) versionsOf(ctx context.Context, kind, ident, lang string) ([]*Document, error) {
	const op = "publication: document"
	rows, err := s.db.QueryContext(ctx, qDocumentsOf, kind, ident, lang)
	if err != nil {
		return nil, store.Classify(op, err)
	}
	defer rows.Close()
	var docs []*Document
	for rows.Next() {
		d, err := scanDocument(rows)
		if err != nil {
			return nil, err
		}
		docs = append(docs, d)
	}
	return docs, store.Classify(op, rows.Err())
}
