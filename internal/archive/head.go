package archive

import (
	"context"
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strconv"
	"time"

	"github.com/sceau/sceau/internal/audit"
	"github.com/sceau/sceau/internal/cms"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/store"
)

// Head is a signed tree head: the archive key's signature over the root of
// the first Size items at a time (ARC-3).
type Head struct {
	Number    int64     `json:"number"`
	Size      int64     `json:"size"`
	Root      []byte    `json:"root"`
	At        time.Time `json:"at"`
	Body      []byte    `json:"body"`      // the signed JSON (HeadBody)
	Signature []byte    `json:"signature"` // detached CMS, DER
}

// HeadBody is what a head's signature covers.
type HeadBody struct {
	Archive string `json:"archive"`
	Number  int64  `json:"number"`
	Size    int64  `json:"size"`
	Root    string `json:"root"` // hex, RFC 6962 SHA-256
	At      string `json:"at"`   // RFC 3339, UTC
}

// IssueHead signs a head over every item archived so far, after checking
// by a consistency proof that the tree extends the last head: a tree cut
// or rolled back since is refused, never signed over.
func (s *Service) IssueHead(ctx context.Context, actor sceau.Actor) (*Head, error) {
	const op = "archive: issue head"
	if s.o.Heads == nil {
		return nil, sceau.Errorf(sceau.Unavailable, op, "no archive key: archive.signer_ca is not set")
	}
	// A signer that must first get its key certified does it now: that
	// is a transaction of its own, which cannot wait inside this one.
	if p, ok := s.o.Heads.(interface{ Prepare() error }); ok {
		if err := p.Prepare(); err != nil {
			return nil, err
		}
	}
	var h *Head
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		var size int64
		if err := tx.QueryRowContext(ctx, qLockSize).Scan(&size); err != nil {
			return store.Classify(op, err)
		}
		root, err := rootAt(ctx, tx, size)
		if err != nil {
			return err
		}
		prev, err := latestHead(ctx, tx)
		if err != nil {
			return err
		}
		number := int64(1)
		if prev != nil {
			if err := s.extends(ctx, tx, prev, size, root); err != nil {
				return err
			}
			number = prev.Number + 1
		}
		now := s.o.Clock.Now().UTC().Truncate(time.Second)
		body, _ := json.Marshal(HeadBody{Archive: s.o.Name, Number: number, Size: size, Root: hex.EncodeToString(root), At: now.Format(time.RFC3339)})
		sig, err := s.o.Heads.SignHead(body)
		if err != nil {
			return err
		}
		h = &Head{Number: number, Size: size, Root: root, At: now, Body: body, Signature: sig}
		if _, err := tx.ExecContext(ctx, qInsertHead, h.Number, h.Size, h.Root, store.FormatTime(h.At), h.Body, h.Signature); err != nil {
			return store.Classify(op, err)
		}
		for _, t := range s.o.Targets {
			if _, err := tx.ExecContext(ctx, qQueue, t.Name(), "head", h.Number, store.FormatTime(now)); err != nil {
				return store.Classify(op, err)
			}
		}
		return s.journal.Append(ctx, tx, audit.Event{Actor: actor, Action: audit.ActionArchiveHead, Object: "archive:head",
			Details: map[string]any{"number": h.Number, "size": h.Size, "root": hex.EncodeToString(h.Root)}})
	})
	if err != nil {
		return nil, err
	}
	if s.o.Stamper != nil {
		if _, err := s.StampPending(ctx, 1); err != nil {
			s.o.Log.Warn("archive: head signed but not yet timestamped", "number", h.Number, "err", err)
		}
	}
	return h, nil
}

// extends checks that the tree of size leaves and root extends prev.
func (s *Service) extends(ctx context.Context, q store.Querier, prev *Head, size int64, root []byte) error {
	const op = "archive: consistency"
	if size < prev.Size {
		return sceau.Errorf(sceau.Conflict, op, "the index holds %d items but head %d signed %d: the index was rolled back", size, prev.Number, prev.Size)
	}
	p, err := consistencyProof(ctx, q, prev.Size, size)
	if err != nil {
		return err
	}
	if err := verifyConsistency(prev.Size, size, p, prev.Root, root); err != nil {
		return sceau.E(sceau.Conflict, op, "the index does not extend the last signed head: an item was removed or replaced", err)
	}
	return nil
}

// LatestHead is the last signed head; NotFound before the first.
func (s *Service) LatestHead(ctx context.Context) (*Head, error) {
	h, err := latestHead(ctx, s.db)
	if err == nil && h == nil {
		return nil, sceau.Errorf(sceau.NotFound, "archive: head", "no tree head was signed yet")
	}
	return h, err
}

func latestHead(ctx context.Context, q store.Querier) (*Head, error) {
	h, err := scanHead(q.QueryRowContext(ctx, qLatestHead))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return h, err
}

func scanHead(r scanner) (*Head, error) {
	var (
		h  Head
		at string
	)
	if err := r.Scan(&h.Number, &h.Size, &h.Root, &at, &h.Body, &h.Signature); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, err
		}
		return nil, store.Classify("archive: head", err)
	}
	t, err := store.ParseTime(at)
	if err != nil {
		return nil, sceau.E(sceau.Internal, "archive: head", "a stored time cannot be read", err)
	}
	h.At = t
	return &h, nil
}

// CheckHead verifies a head on its own: the body says what the row says,
// the CMS signature verifies, and its signer chains to one of roots with
// the documentSigning usage.
func CheckHead(h *Head, roots *x509.CertPool) (*x509.Certificate, error) {
	const op = "archive: verify head signature" // ARC-6: a retrieval names the check that failed
	var b HeadBody
	if err := json.Unmarshal(h.Body, &b); err != nil {
		return nil, sceau.E(sceau.Invalid, op, "head body is not JSON", err)
	}
	if b.Number != h.Number || b.Size != h.Size || b.Root != hex.EncodeToString(h.Root) {
		return nil, sceau.Errorf(sceau.Invalid, op, "head %d: the signed body says number %d, size %d, root %s", h.Number, b.Number, b.Size, short(b.Root))
	}
	signed, err := cms.VerifyDetached(h.Signature, h.Body)
	if err != nil {
		return nil, sceau.E(sceau.Invalid, op, "head "+itoa(h.Number)+": the signature does not verify", err)
	}
	if roots == nil {
		return nil, sceau.Errorf(sceau.Internal, op, "no roots to check the archive key's chain against")
	}
	inter := x509.NewCertPool()
	for _, c := range signed.Certificates {
		inter.AddCert(c)
	}
	if _, err := signed.Signer.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, CurrentTime: h.At,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil {
		return nil, sceau.E(sceau.Invalid, "archive: verify head chain", "head "+itoa(h.Number)+": the archive key does not chain to the installation's roots", err)
	}
	return signed.Signer, nil
}

// StampPending timestamps up to limit items and heads that have no token
// yet (ARC-5), returning how many it stamped.
func (s *Service) StampPending(ctx context.Context, limit int) (int, error) {
	const op = "archive: timestamp"
	if s.o.Stamper == nil {
		return 0, sceau.Errorf(sceau.Unavailable, op, "no time-stamping unit: set timestamping.signer_ca or timestamping.external_url")
	}
	type job struct {
		what   string
		id     int64
		digest []byte
	}
	var jobs []job
	rows, err := s.db.QueryContext(ctx, qUnstampedItem, limit)
	if err != nil {
		return 0, store.Classify(op, err)
	}
	for rows.Next() {
		var (
			j   = job{what: "item"}
			sum string
		)
		if err := rows.Scan(&j.id, &sum); err != nil {
			rows.Close()
			return 0, store.Classify(op, err)
		}
		j.digest, _ = hex.DecodeString(sum)
		jobs = append(jobs, j)
	}
	rows.Close()
	rows, err = s.db.QueryContext(ctx, qUnstampedHead, limit)
	if err != nil {
		return 0, store.Classify(op, err)
	}
	for rows.Next() {
		var (
			j    = job{what: "head"}
			body []byte
		)
		if err := rows.Scan(&j.id, &body); err != nil {
			rows.Close()
			return 0, store.Classify(op, err)
		}
		d := sha256.Sum256(body)
		j.digest = d[:]
		jobs = append(jobs, j)
	}
	rows.Close()
	if len(jobs) == 0 {
		return 0, nil
	}
	tokens := make([][]byte, 0, len(jobs))
	var serr error
	for _, j := range jobs {
		t, err := s.o.Stamper.Stamp(ctx, j.digest, crypto.SHA256)
		if err != nil {
			serr = err
			break
		}
		tokens = append(tokens, t)
	}
	now := store.FormatTime(s.o.Clock.Now())
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		for i, t := range tokens {
			if _, err := tx.ExecContext(ctx, qInsertStamp, jobs[i].what, jobs[i].id, now, t); err != nil {
				return store.Classify(op, err)
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return len(tokens), serr
}

// stamp reads the token of an item or head; nil when there is none yet.
func stamp(ctx context.Context, q store.Querier, what string, id int64) ([]byte, error) {
	var t []byte
	err := q.QueryRowContext(ctx, qStamp, what, id).Scan(&t)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, store.Classify("archive: timestamp", err)
	}
	return t, nil
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
