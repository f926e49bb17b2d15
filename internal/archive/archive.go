package archive

import (
	"context"
	"crypto"
	"crypto/x509"
	"database/sql"
	"errors"
	"log/slog"
	"time"
	"unicode/utf8"

	"filippo.io/age"

	"github.com/sceau/sceau/internal/audit"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/store"
)

// Stamper gets an RFC 3161 token over a digest (ARC-5): the installation's
// time-stamping unit or an external TSA.
type Stamper interface {
	Stamp(ctx context.Context, digest []byte, hash crypto.Hash) ([]byte, error)
}

// HeadSigner signs a tree head's body with the archive key: a detached
// CMS signature carrying the key's chain. SignHead is called inside the
// transaction that stores the head; a signer that may need to write first
// (certify its key) also has a Prepare() error method, called before.
type HeadSigner interface {
	SignHead(body []byte) ([]byte, error)
}

// Options configure a Service.
type Options struct {
	Name  string // the archive's name in its heads: the installation's
	Clock sceau.Clock
	Log   *slog.Logger
	// Retention per kind; a kind not listed keeps DefaultRetention, and
	// no setting shortens it (ARC-2; config refuses less).
	Retention map[string]time.Duration
	// Recipients seal confidential items (ARC-3); none: confidential
	// items are refused.
	Recipients []age.Recipient
	// Stamper, if set, timestamps every item and head (ARC-5).
	Stamper Stamper
	// Heads signs tree heads; nil: heads cannot be issued.
	Heads HeadSigner
	// Roots are the installation's root certificates: head signatures and
	// tokens must chain to one of them.
	Roots func() *x509.CertPool
	// CheckToken verifies an RFC 3161 token over a SHA-256 digest against
	// Roots and returns its time; nil: tokens are not checked.
	CheckToken func(token, digest []byte, roots *x509.CertPool) (time.Time, error)
	// Targets receive a copy of every item and head (ARC-4).
	Targets []Target
	// MaxItemBytes bounds one item. Default 64 MiB.
	MaxItemBytes int
}

// Service is the archive of one installation.
type Service struct {
	db      *store.DB
	journal *audit.Journal
	o       Options
}

// NewService returns the archive over db.
func NewService(db *store.DB, j *audit.Journal, o Options) *Service {
	o.Clock = sceau.ClockOr(o.Clock)
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.MaxItemBytes == 0 {
		o.MaxItemBytes = 64 << 20
	}
	if o.Name == "" {
		o.Name = "sceau"
	}
	return &Service{db: db, journal: j, o: o}
}

// Stamps says whether items and heads are timestamped (ARC-5).
func (s *Service) Stamps() bool { return s.o.Stamper != nil }

// MaxItemBytes is the largest item accepted.
func (s *Service) MaxItemBytes() int { return s.o.MaxItemBytes }

// Targets are the replication targets.
func (s *Service) Targets() []Target { return s.o.Targets }

// Retention is how long items of kind are kept from their event.
func (s *Service) Retention(kind string) time.Duration {
	if d, ok := s.o.Retention[kind]; ok && d > DefaultRetention {
		return d
	}
	return DefaultRetention
}

// retainUntil is the retention date of an item of kind whose event was
// at: ten calendar years later (ARC-2), or later still for the kind.
func (s *Service) retainUntil(kind string, at time.Time) time.Time {
	t := at.AddDate(10, 0, 0)
	if d := at.Add(s.Retention(kind)); d.After(t) {
		t = d
	}
	return t.Truncate(time.Second).Add(time.Second) // never a fraction before the date
}

// Add archives items in one transaction with their journal event, then
// timestamps them when a stamper is set (a failed timestamp leaves the item
// to StampPending, never unarchived).
func (s *Service) Add(ctx context.Context, actor sceau.Actor, items ...New) ([]Item, error) {
	var out []Item
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		var err error
		out, err = s.AddTx(ctx, tx, actor, items...)
		return err
	})
	if err != nil {
		return nil, err
	}
	if s.o.Stamper != nil {
		if _, err := s.StampPending(ctx, len(out)); err != nil {
			// Unavailable: the unit waits for its CA's activation or the
			// clock; serve stamps them as soon as it can.
			level := slog.LevelWarn
			if sceau.KindOf(err) == sceau.Unavailable {
				level = slog.LevelInfo
			}
			s.o.Log.Log(ctx, level, "archive: items archived, not yet timestamped", "first", out[0].Leaf, "count", len(out), "err", err)
		}
	}
	return out, nil
}

// AddMissing archives those of items whose source and content are not in
// the archive yet (a sweep of what Sceau holds elsewhere: CA certificates,
// published documents), returning how many it added.
func (s *Service) AddMissing(ctx context.Context, actor sceau.Actor, items []New) (int, error) {
	var missing []New
	for _, it := range items {
		var one int
		err := s.db.QueryRowContext(ctx, qHasSource, it.Source, hexSHA256(it.Content)).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			missing = append(missing, it)
			continue
		}
		if err != nil {
			return 0, store.Classify("archive: add", err)
		}
	}
	if len(missing) == 0 {
		return 0, nil
	}
	_, err := s.Add(ctx, actor, missing...)
	return len(missing), err
}

// addedItem is one item in the archive.added event.
type addedItem struct {
	Leaf   int64  `json:"leaf"`
	Kind   string `json:"kind"`
	Source string `json:"source"`
	SHA256 string `json:"sha256"`
	Class  Class  `json:"class"`
}

// maxListed bounds the items an archive.added event lists one by one.
const maxListed = 100

// AddTx archives items in tx, for a package that archives what it makes
// in the transaction that makes it (a CRL when it is issued, ARC-1).
func (s *Service) AddTx(ctx context.Context, tx *store.Tx, actor sceau.Actor, items ...New) ([]Item, error) {
	const op = "archive: add"
	if len(items) == 0 {
		return nil, nil
	}
	now := s.o.Clock.Now().UTC()
	for i := range items {
		if err := s.check(&items[i], now); err != nil {
			return nil, err
		}
	}
	var end int64
	if err := tx.QueryRowContext(ctx, qGrow, len(items)).Scan(&end); err != nil {
		return nil, store.Classify(op, err)
	}
	begin := end - int64(len(items))
	out := make([]Item, len(items))
	leaves := make([][]byte, len(items))
	listed := make([]addedItem, 0, min(len(items), maxListed))
	for i, nw := range items {
		stored := nw.Content
		if nw.Class == Confidential {
			var err error
			if stored, err = seal(nw.Content, s.o.Recipients); err != nil {
				return nil, err
			}
		}
		it := Item{Leaf: begin + int64(i), Kind: nw.Kind, Source: nw.Source, EventAt: nw.EventAt.UTC(), AddedAt: now, AddedBy: actor.String(),
			MediaType: nw.MediaType, Size: int64(len(nw.Content)), SHA256: hexSHA256(nw.Content), Class: nw.Class,
			Object: hexSHA256(stored)}
		it.RetainUntil = s.retainUntil(it.Kind, it.EventAt)
		if _, err := tx.ExecContext(ctx, qPutObject, it.Object, len(stored), stored, store.FormatTime(it.RetainUntil)); err != nil {
			return nil, store.Classify(op, err)
		}
		if _, err := tx.ExecContext(ctx, qInsertItem, it.Leaf, it.Kind, it.Source, store.FormatTime(it.EventAt), store.FormatTime(it.AddedAt),
			it.AddedBy, it.MediaType, it.Size, it.SHA256, string(it.Class), it.Object, store.FormatTime(it.RetainUntil)); err != nil {
			return nil, store.Classify(op, err)
		}
		for _, t := range s.o.Targets {
			if _, err := tx.ExecContext(ctx, qQueue, t.Name(), "item", it.Leaf, store.FormatTime(now)); err != nil {
				return nil, store.Classify(op, err)
			}
		}
		out[i], leaves[i] = it, it.LeafHash()
		if len(listed) < maxListed {
			listed = append(listed, addedItem{Leaf: it.Leaf, Kind: it.Kind, Source: it.Source, SHA256: it.SHA256, Class: it.Class})
		}
	}
	if err := appendLeaves(ctx, tx, begin, leaves); err != nil {
		return nil, err
	}
	err := s.journal.Append(ctx, tx, audit.Event{Actor: actor, Action: audit.ActionArchiveAdded, Object: "archive:items",
		Details: map[string]any{"first": begin, "count": len(items), "items": listed}})
	return out, err
}

func (s *Service) check(nw *New, now time.Time) error {
	const op = "archive: add"
	if nw.Class == "" {
		nw.Class = Internal
	}
	if _, err := ParseClass(string(nw.Class)); err != nil {
		return err
	}
	if !validKind(nw.Kind) {
		return sceau.Errorf(sceau.Invalid, op, "kind %q: lower-case letters, digits and '-', at most 64", nw.Kind)
	}
	if nw.Source == "" || len(nw.Source) > 512 || !utf8.ValidString(nw.Source) {
		return sceau.Errorf(sceau.Invalid, op, "an item needs a source of at most 512 UTF-8 bytes (what it is: crl:issuing:42)")
	}
	if nw.MediaType == "" {
		nw.MediaType = "application/octet-stream"
	}
	if len(nw.MediaType) > 128 {
		return sceau.Errorf(sceau.Invalid, op, "media type longer than 128 bytes")
	}
	if len(nw.Content) > s.o.MaxItemBytes {
		return sceau.Errorf(sceau.Invalid, op, "%s: %d bytes, more than the %d an item may hold", nw.Source, len(nw.Content), s.o.MaxItemBytes)
	}
	if nw.EventAt.IsZero() {
		nw.EventAt = now
	}
	if nw.EventAt.After(now.Add(time.Minute)) {
		return sceau.Errorf(sceau.Invalid, op, "%s: event time %s is in the future", nw.Source, nw.EventAt.UTC().Format(time.RFC3339))
	}
	if nw.Class == Confidential && len(s.o.Recipients) == 0 {
		return sceau.Errorf(sceau.Unavailable, op, "archive.recipients is empty: a confidential item cannot be sealed (ARC-3)")
	}
	return nil
}

// Item reads an item's description; a purged item is NotFound and says so.
func (s *Service) Item(ctx context.Context, leaf int64) (*Item, error) {
	return readItem(ctx, s.db, leaf)
}

func readItem(ctx context.Context, q store.Querier, leaf int64) (*Item, error) {
	it, err := scanItem(q.QueryRowContext(ctx, qItem, leaf))
	if errors.Is(err, sql.ErrNoRows) {
		var at string
		if q.QueryRowContext(ctx, qPurged, leaf).Scan(&at) == nil {
			return nil, sceau.Errorf(sceau.NotFound, "archive: item", "item %d was purged on %s, after its retention date", leaf, at)
		}
		return nil, sceau.Errorf(sceau.NotFound, "archive: item", "no archived item %d", leaf)
	}
	return it, err
}

type scanner interface{ Scan(dest ...any) error }

func scanItem(r scanner) (*Item, error) {
	var (
		it                          Item
		eventAt, addedAt, retain, c string
	)
	if err := r.Scan(&it.Leaf, &it.Kind, &it.Source, &eventAt, &addedAt, &it.AddedBy, &it.MediaType, &it.Size, &it.SHA256, &c,
		&it.Object, &retain); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, err
		}
		return nil, store.Classify("archive: item", err)
	}
	it.Class = Class(c)
	var err1, err2, err3 error
	it.EventAt, err1 = store.ParseTime(eventAt)
	it.AddedAt, err2 = store.ParseTime(addedAt)
	it.RetainUntil, err3 = store.ParseTime(retain)
	if err := errors.Join(err1, err2, err3); err != nil {
		return nil, sceau.E(sceau.Internal, "archive: item", "a stored time cannot be read", err)
	}
	return &it, nil
}

// Filter selects items for List.
type Filter struct {
	Kind  string
	From  int64 // first leaf
	Limit int   // default 100, at most 10,000
}

// List returns items in leaf order.
func (s *Service) List(ctx context.Context, f Filter) ([]Item, error) {
	if f.Limit <= 0 {
		f.Limit = 100
	}
	f.Limit = min(f.Limit, 10_000)
	var out []Item
	from := f.From
	for len(out) < f.Limit {
		rows, err := s.db.QueryContext(ctx, qItemsFrom, from, f.Limit)
		if err != nil {
			return nil, store.Classify("archive: list", err)
		}
		n := 0
		for rows.Next() {
			it, err := scanItem(rows)
			if err != nil {
				rows.Close()
				return nil, err
			}
			n++
			from = it.Leaf + 1
			if (f.Kind == "" || it.Kind == f.Kind) && len(out) < f.Limit {
				out = append(out, *it)
			}
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, store.Classify("archive: list", err)
		}
		if n < f.Limit {
			break
		}
	}
	return out, nil
}

// object reads stored bytes by their digest.
func object(ctx context.Context, q store.Querier, sum string) ([]byte, error) {
	var b []byte
	err := q.QueryRowContext(ctx, qObject, sum).Scan(&b)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, sceau.Errorf(sceau.NotFound, "archive: object", "the object %s is missing from the database", short(sum))
	}
	if err != nil {
		return nil, store.Classify("archive: object", err)
	}
	return b, nil
}

func short(sum string) string {
	if len(sum) > 16 {
		return sum[:16] + "…"
	}
	return sum
}
