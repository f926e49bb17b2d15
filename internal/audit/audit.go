package audit

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/store"
)

// Event is what a domain package records about a state change.
type Event struct {
	Actor   sceau.Actor
	Action  string // dotted, past tense: "certificate.issued"; see Catalogue
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

// hashTag opens the canonical encoding of a record.
const hashTag = "sceau-audit-v1"

// ComputeHash returns SHA-256 over the canonical encoding of every field but
// Hash: a domain tag, then each field length-prefixed, so no two different
// records encode alike.
func (r *Record) ComputeHash() []byte {
	var buf [512]byte
	b := appendCanonical(buf[:0], r.Seq, r.At, r.Actor, r.Role, r.Action, r.Object, r.Details, r.PrevHash)
	h := sha256.Sum256(b)
	return h[:]
}

// appendCanonical appends the encoding ComputeHash hashes: the tag, seq as
// a big-endian uint64, then at, actor, role, action, object, details and
// prev_hash, each as a big-endian uint64 length and its bytes. It takes
// strings or byte slices, so that Verify hashes rows without copying them.
func appendCanonical[S string | []byte](dst []byte, seq int64, at, actor, role, action, object, details S, prev []byte) []byte {
	dst = append(dst, hashTag...)
	dst = binary.BigEndian.AppendUint64(dst, uint64(seq))
	for _, f := range [...]S{at, actor, role, action, object, details} {
		dst = binary.BigEndian.AppendUint64(dst, uint64(len(f)))
		dst = append(dst, f...)
	}
	dst = binary.BigEndian.AppendUint64(dst, uint64(len(prev)))
	return append(dst, prev...)
}

// Appender is what domain packages need of the journal.
type Appender interface {
	Append(ctx context.Context, tx *store.Tx, events ...Event) error
}

// Journal appends events to the audit_events table.
type Journal struct {
	clock sceau.Clock
	// every and kick tell the checkpointer that a batch crossed a multiple
	// of every events (0: never), and the sequence number it reached. The
	// kick comes before the batch commits: the checkpointer waits for the
	// head to get there, and gives up if the batch rolls back.
	every atomic.Int64
	kick  chan int64
}

var _ Appender = (*Journal)(nil)

// NewJournal returns a journal; a nil clock is the real one.
func NewJournal(clock sceau.Clock) *Journal {
	return &Journal{clock: sceau.ClockOr(clock), kick: make(chan int64, 1)}
}

// rowsPerInsert keeps multi-row INSERTs under SQLite's variable limit.
const rowsPerInsert = 200

// insertSQL caches the multi-row INSERT text for each row count, so that
// the store's prepared-statement cache sees few distinct statements.
var insertSQL sync.Map // int -> string

func insertStatement(rows int) string {
	if s, ok := insertSQL.Load(rows); ok {
		return s.(string)
	}
	var b strings.Builder
	b.WriteString(qInsertEventsHead)
	for i := range rows {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(qInsertEventRow)
	}
	s := b.String()
	insertSQL.Store(rows, s)
	return s
}

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
	q := sqlHead
	if tx.Engine() == store.Postgres {
		q = sqlHeadForUpdate
	}
	var (
		seq  int64
		prev []byte
	)
	if err := tx.QueryRowContext(ctx, q).Scan(&seq, &prev); err != nil {
		return store.Classify(op, err)
	}
	first := seq
	at := store.FormatTime(j.clock.Now())
	recs := make([]Record, len(events))
	hashes := make([]byte, sha256.Size*len(events))
	var buf []byte
	for i, ev := range events {
		details := "{}"
		if ev.Details != nil {
			b, err := json.Marshal(ev.Details)
			if err != nil {
				return sceau.E(sceau.Internal, op, "event details cannot be encoded", err)
			}
			details = string(b)
		}
		seq++
		r := &recs[i]
		*r = Record{Seq: seq, At: at, Actor: ev.Actor.ID, Role: ev.Actor.Role, Action: ev.Action,
			Object: ev.Object, Details: details, PrevHash: prev}
		if r.Actor == "" || r.Action == "" {
			return sceau.Errorf(sceau.Internal, op, "event without actor or action")
		}
		buf = appendCanonical(buf[:0], r.Seq, r.At, r.Actor, r.Role, r.Action, r.Object, r.Details, r.PrevHash)
		sum := sha256.Sum256(buf)
		r.Hash = hashes[i*sha256.Size : (i+1)*sha256.Size : (i+1)*sha256.Size]
		copy(r.Hash, sum[:])
		prev = r.Hash
	}
	args := make([]any, 0, 9*min(len(recs), rowsPerInsert))
	for start := 0; start < len(recs); start += rowsPerInsert {
		end := min(start+rowsPerInsert, len(recs))
		args = args[:0]
		for i := start; i < end; i++ {
			r := &recs[i]
			args = append(args, r.Seq, r.At, r.Actor, r.Role, r.Action, r.Object, r.Details, r.PrevHash, r.Hash)
		}
		if _, err := tx.ExecContext(ctx, insertStatement(end-start), args...); err != nil {
			return store.Classify(op, err)
		}
	}
	if _, err := tx.ExecContext(ctx, sqlSetHead, seq, prev); err != nil {
		return store.Classify(op, err)
	}
	if every := j.every.Load(); every > 0 && first/every != seq/every {
		select {
		case j.kick <- seq:
		default: // a kick is pending already
		}
	}
	return nil
}

// Now is a helper for callers that need the journal's notion of time.
func (j *Journal) Now() time.Time { return j.clock.Now() }

// Head returns the sequence number and hash of the last event.
func Head(ctx context.Context, q store.Querier) (int64, []byte, error) {
	var (
		seq  int64
		hash []byte
	)
	err := q.QueryRowContext(ctx, sqlHead).Scan(&seq, &hash)
	return seq, hash, store.Classify("audit: head", err)
}

// Read returns up to limit records with seq > after, in order, from the
// archive (AUD-4) and the live journal alike.
func Read(ctx context.Context, q store.Querier, after int64, limit int) ([]Record, error) {
	const op = "audit: read"
	rows, err := q.QueryContext(ctx, sqlReadAfter, after, after, limit)
	if err != nil {
		return nil, store.Classify(op, err)
	}
	defer rows.Close()
	var out []Record
	for rows.Next() {
		var r Record
		if err := rows.Scan(&r.Seq, &r.At, &r.Actor, &r.Role, &r.Action, &r.Object, &r.Details, &r.PrevHash, &r.Hash); err != nil {
			return nil, store.Classify(op, err)
		}
		out = append(out, r)
	}
	return out, store.Classify(op, rows.Err())
}

// LatestOf returns the newest event of action in the live journal, or nil
// when it holds none (events older than audit.retention are archived).
func LatestOf(ctx context.Context, q store.Querier, action string) (*Record, error) {
	var r Record
	err := q.QueryRowContext(ctx, sqlLatestOf, action).Scan(&r.Seq, &r.At, &r.Actor, &r.Role, &r.Action, &r.Object, &r.Details, &r.PrevHash, &r.Hash)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, store.Classify("audit: latest event", err)
	}
	return &r, nil
}

// object formats "kind:id".
func object(kind string, id int64) string { return kind + ":" + strconv.FormatInt(id, 10) }
