package audit

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/store"
)

// Event is what a domain package records about a state change.
type Event struct {
	Actor   sceau.Actor
	Action  string // dotted, past tense: "certificate.issued"
	Object  string // "kind:id": "certificate:5f2a…", "ca:issuing"
	Details any    // marshalled to JSON; must never hold a secret
}

// Record is an event as stored, with its place in the chain.
type Record struct {
	Seq      int64
	At       string // store.FormatTime form, hashed as stored
	Actor    string
	Role     string
	Action   string
	Object   string
	Details  string // JSON
	PrevHash []byte
	Hash     []byte
}

// ComputeHash returns SHA-256 over the canonical encoding of every field but
// Hash: a domain tag, then each field length-prefixed, so no two different
// records encode alike.
func (r *Record) ComputeHash() []byte {
	h := sha256.New()
	h.Write([]byte("sceau-audit-v1"))
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(r.Seq))
	h.Write(n[:])
	for _, f := range []string{r.At, r.Actor, r.Role, r.Action, r.Object, r.Details} {
		binary.BigEndian.PutUint64(n[:], uint64(len(f)))
		h.Write(n[:])
		h.Write([]byte(f))
	}
	binary.BigEndian.PutUint64(n[:], uint64(len(r.PrevHash)))
	h.Write(n[:])
	h.Write(r.PrevHash)
	return h.Sum(nil)
}

// Appender is what domain packages need of the journal.
type Appender interface {
	Append(ctx context.Context, tx *store.Tx, events ...Event) error
}

// Journal appends events to the audit_events table.
type Journal struct {
	clock sceau.Clock
}

var _ Appender = (*Journal)(nil)

// NewJournal returns a journal; a nil clock is the real one.
func NewJournal(clock sceau.Clock) *Journal {
	return &Journal{clock: sceau.ClockOr(clock)}
}

// rowsPerInsert keeps multi-row INSERTs under SQLite's variable limit.
const rowsPerInsert = 200

// Append writes events at the head of the chain inside tx. It locks the
// chain head first, so concurrent transactions (several nodes on
// PostgreSQL) append one after another. If it fails the caller's
// transaction must roll back (AUD-7): the caller returns the error from
// its InTx function.
func (j *Journal) Append(ctx context.Context, tx *store.Tx, events ...Event) error {
	const op = "audit: append"
	if len(events) == 0 {
		return nil
	}
	q := `SELECT seq, hash FROM audit_head WHERE id = 1`
	if tx.Engine() == store.Postgres {
		q += ` FOR UPDATE`
	}
	var (
		seq  int64
		prev []byte
	)
	if err := tx.QueryRowContext(ctx, q).Scan(&seq, &prev); err != nil {
		return store.Classify(op, err)
	}
	at := store.FormatTime(j.clock.Now())
	recs := make([]Record, len(events))
	for i, ev := range events {
		details := []byte("{}")
		if ev.Details != nil {
			var err error
			if details, err = json.Marshal(ev.Details); err != nil {
				return sceau.E(sceau.Internal, op, "event details cannot be encoded", err)
			}
		}
		seq++
		recs[i] = Record{Seq: seq, At: at, Actor: ev.Actor.ID, Role: ev.Actor.Role, Action: ev.Action,
			Object: ev.Object, Details: string(details), PrevHash: prev}
		if recs[i].Actor == "" || recs[i].Action == "" {
			return sceau.Errorf(sceau.Internal, op, "event without actor or action")
		}
		recs[i].Hash = recs[i].ComputeHash()
		prev = recs[i].Hash
	}
	for start := 0; start < len(recs); start += rowsPerInsert {
		end := min(start+rowsPerInsert, len(recs))
		var b strings.Builder
		b.WriteString(`INSERT INTO audit_events (seq, at, actor, role, action, object, details, prev_hash, hash) VALUES `)
		args := make([]any, 0, 9*(end-start))
		for i := start; i < end; i++ {
			if i > start {
				b.WriteByte(',')
			}
			b.WriteString(`(?, ?, ?, ?, ?, ?, ?, ?, ?)`)
			r := &recs[i]
			args = append(args, r.Seq, r.At, r.Actor, r.Role, r.Action, r.Object, r.Details, r.PrevHash, r.Hash)
		}
		if _, err := tx.ExecContext(ctx, b.String(), args...); err != nil {
			return store.Classify(op, err)
		}
	}
	if _, err := tx.ExecContext(ctx, `UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1`, seq, prev); err != nil {
		return store.Classify(op, err)
	}
	return nil
}

// Read returns up to limit records with seq > after, in order.
func Read(ctx context.Context, q store.Querier, after int64, limit int) ([]Record, error) {
	rows, err := q.QueryContext(ctx, `SELECT seq, at, actor, role, action, object, details, prev_hash, hash
		FROM audit_events WHERE seq > ? ORDER BY seq LIMIT ?`, after, limit)
	if err != nil {
		return nil, store.Classify("audit: read", err)
	}
	defer rows.Close()
	var out []Record
	for rows.Next() {
		var r Record
		if err := rows.Scan(&r.Seq, &r.At, &r.Actor, &r.Role, &r.Action, &r.Object, &r.Details, &r.PrevHash, &r.Hash); err != nil {
			return nil, store.Classify("audit: read", err)
		}
		out = append(out, r)
	}
	return out, store.Classify("audit: read", rows.Err())
}

// VerifyResult reports a verification of the chain.
type VerifyResult struct {
	Events   int64
	HeadSeq  int64
	HeadHash []byte
	// BrokenAt is the sequence number of the first record that does not
	// follow from its predecessor, 0 when the chain is whole.
	BrokenAt int64
	Reason   string
}

// Verify walks the whole chain in db and reports the first break: a record
// whose hash does not match its content, whose prev_hash is not its
// predecessor's hash, or whose sequence number skips. It also checks the
// stored head against the last record.
func Verify(ctx context.Context, q store.Querier) (VerifyResult, error) {
	var res VerifyResult
	prev := make([]byte, sha256.Size)
	var last int64
	for {
		recs, err := Read(ctx, q, last, 5000)
		if err != nil {
			return res, err
		}
		if len(recs) == 0 {
			break
		}
		for i := range recs {
			r := &recs[i]
			switch {
			case r.Seq != last+1:
				res.BrokenAt, res.Reason = last+1, fmt.Sprintf("event %d is missing (next is %d)", last+1, r.Seq)
			case !bytes.Equal(r.PrevHash, prev):
				res.BrokenAt, res.Reason = r.Seq, fmt.Sprintf("event %d does not chain to event %d", r.Seq, last)
			case !bytes.Equal(r.ComputeHash(), r.Hash):
				res.BrokenAt, res.Reason = r.Seq, fmt.Sprintf("event %d does not match its hash", r.Seq)
			}
			if res.BrokenAt != 0 {
				return res, nil
			}
			prev, last = r.Hash, r.Seq
			res.Events++
		}
	}
	res.HeadSeq, res.HeadHash = last, prev
	var headSeq int64
	var headHash []byte
	if err := q.QueryRowContext(ctx, `SELECT seq, hash FROM audit_head WHERE id = 1`).Scan(&headSeq, &headHash); err != nil {
		return res, store.Classify("audit: verify", err)
	}
	if headSeq != last || !bytes.Equal(headHash, prev) {
		res.BrokenAt, res.Reason = last+1, fmt.Sprintf("the chain head says event %d, the journal ends at %d", headSeq, last)
	}
	return res, nil
}

// Now is a helper for callers that need the journal's notion of time.
func (j *Journal) Now() time.Time { return j.clock.Now() }
