package audit

import (
	"bytes"
	"context"
	"crypto"
	"crypto/sha256"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"io"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/sceau/sceau/internal/store"
)

// VerifyOptions tunes a verification.
type VerifyOptions struct {
	// TrustedKeys pins the keys whose checkpoints are believed. Keys
	// registered later are trusted once a checkpoint signed by a trusted
	// key covers their registration event (key rotation). When there are
	// no pins (here or in Anchor), the key of checkpoint 1 is trusted on
	// first use and the result warns about it.
	TrustedKeys []crypto.PublicKey
	// TrustedKeyIDs pins keys by ID (the hex SHA-256 of the public key,
	// as `sceau audit status` prints it), as TrustedKeys does.
	TrustedKeyIDs []string
	// Anchor, from a verified export (VerifyExport), is what the journal
	// must still hold: a database rolled back to an older copy, or whose
	// tail was rewritten after the export, fails against it.
	Anchor *Anchor
	// Progress, if set, is called now and then with the number of events
	// verified and the number expected (0 when unknown).
	Progress func(done, total int64)
}

// Anchor is what an export proves the journal held.
type Anchor struct {
	Seq        int64       // the last exported event
	Hash       []byte      // its hash
	Checkpoint *Checkpoint // the latest exported checkpoint, nil if none
	Keys       []string    // the key IDs the export's verification trusted
}

// VerifyResult reports a verification of the journal.
type VerifyResult struct {
	Events   int64 // events verified, archive and live
	HeadSeq  int64 // the last event
	HeadHash []byte
	// Checkpoints is the number of checkpoints that verified, the latest
	// of them LastCheckpoint.
	Checkpoints    int
	LastCheckpoint *Checkpoint
	// Unsigned counts the events after the last good checkpoint: they are
	// protected by the chain only, until the next checkpoint.
	Unsigned int64
	// TrustedKeys are the IDs of the keys whose checkpoints were believed.
	TrustedKeys []string
	// BrokenAt is the sequence number of the first position where the
	// evidence fails (an event that does not follow from its predecessor,
	// or the first event a failing checkpoint should prove), 0 when the
	// journal is whole.
	BrokenAt int64
	Reason   string
	// Warnings are limits of this verification that are not breaks.
	Warnings []string
}

// OK reports whether nothing was found broken.
func (r *VerifyResult) OK() bool { return r.BrokenAt == 0 }

// Verify walks the whole chain in q, archive and live, with its
// checkpoints, and reports the first break; see VerifyWith.
func Verify(ctx context.Context, q store.Querier) (VerifyResult, error) {
	return VerifyWith(ctx, q, VerifyOptions{})
}

// VerifyWith walks the whole chain in q and reports the first break (AUD-2):
// a record whose hash does not match its content, whose prev_hash is not
// its predecessor's hash, or whose sequence number skips or repeats; a
// checkpoint that is missing, out of order, badly signed, signed by an
// untrusted key, or that signed another hash than the journal holds; a
// chain head (audit_head) or anchor that the journal does not reach.
//
// It streams the journal and keeps no record in memory. On a database
// (not a transaction) it verifies ranges of events on several connections
// at once and joins them in order: events never change once written, so
// ranges read at slightly different moments still make one chain.
func VerifyWith(ctx context.Context, q store.Querier, opts VerifyOptions) (VerifyResult, error) {
	const op = "audit: verify"
	headSeq, headHash, err := Head(ctx, q)
	if err != nil {
		return VerifyResult{}, err
	}
	v := newVerifier(opts)
	v.head, v.headSeq, v.headHash, v.total = true, headSeq, headHash, headSeq
	var n int
	legacy := q.QueryRowContext(ctx, sqlArchiveVersion).Scan(&n) != nil || n == 0
	if legacy {
		v.res.Warnings = append(v.res.Warnings, "the database predates signed checkpoints (schema before migration 4): only the hash chain is verified")
	} else {
		keys, err := Keys(ctx, q)
		if err != nil {
			return v.res, err
		}
		cps, err := Checkpoints(ctx, q)
		if err != nil {
			return v.res, err
		}
		v.load(keys, cps)
	}
	st := v.newStream(0)
	var covered int64
	if db, ok := q.(*store.DB); ok && !legacy {
		upTo := headSeq
		if v.cpBreak != 0 {
			upTo = min(upTo, v.cpBreak-1)
		}
		if upTo >= 4*verifyChunk {
			if covered, err = v.parallel(ctx, db, upTo, st); err != nil {
				return v.res, err
			}
		}
	}
	if !st.stopped {
		st.progress = true
		var err error
		switch {
		case legacy:
			err = st.scan(ctx, q, sqlReadLiveFrom, covered)
		case engineOf(q) == store.SQLite:
			err = st.scanPacked(ctx, q, sqlPackedFrom, covered, covered)
		default:
			err = st.scan(ctx, q, sqlReadFrom, covered, covered)
		}
		if err != nil {
			return v.res, store.Classify(op, err)
		}
	}
	v.finish(st)
	return v.res, nil
}

// verifyChunk is the number of events one worker verifies at a time;
// journals shorter than four chunks are verified in one stream. Tests make
// it smaller.
var verifyChunk int64 = 16384

// parallel verifies events 1..upTo in chunks on several connections and
// joins them into st, in order. It returns how far it got.
func (v *verifier) parallel(ctx context.Context, db *store.DB, upTo int64, st *stream) (int64, error) {
	workers := min(runtime.GOMAXPROCS(0), 4)
	chunks := int((upTo + verifyChunk - 1) / verifyChunk)
	type result struct {
		s    *stream
		err  error
		done chan struct{}
	}
	results := make([]result, chunks)
	for i := range results {
		results[i].done = make(chan struct{})
	}
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		next atomic.Int64
		wg   sync.WaitGroup
	)
	for range workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= chunks || wctx.Err() != nil {
					return
				}
				lo := int64(i) * verifyChunk
				hi := min(lo+verifyChunk, upTo)
				s := v.newStream(lo)
				results[i].s = s
				if db.Engine() == store.SQLite {
					results[i].err = s.scanPacked(wctx, db, sqlPackedRange, lo, hi, lo, hi)
				} else {
					results[i].err = s.scan(wctx, db, sqlReadRange, lo, hi, lo, hi)
				}
				close(results[i].done)
			}
		})
	}
	defer wg.Wait()
	for i := range results {
		select {
		case <-results[i].done:
		case <-ctx.Done():
			return 0, store.Classify("audit: verify", ctx.Err())
		}
		if err := results[i].err; err != nil {
			return 0, store.Classify("audit: verify", err)
		}
		if st.join(results[i].s) {
			return st.last, nil
		}
		if v.opts.Progress != nil {
			v.opts.Progress(st.events, v.total)
		}
	}
	return upTo, nil
}

// stream verifies a run of events in order. A stream that starts at 0
// knows the previous hash (zero); one that starts later leaves its first
// event's link to join.
type stream struct {
	v        *verifier
	known    bool // prev is the previous event's hash
	last     int64
	prev     [sha256.Size]byte
	first    int64 // the first event seen, 0 before
	firstPrv [sha256.Size]byte
	events   int64
	buf      []byte
	progress bool // report progress (the stream that runs alone)

	brokenAt int64
	reason   string
	stopped  bool
}

func (v *verifier) newStream(lo int64) *stream {
	s := &stream{v: v, known: lo == 0, last: lo, buf: make([]byte, 0, 1024)}
	if lo == 0 {
		// Checkpoints of the empty journal come before the first event.
		s.meetCheckpoints(0, s.prev[:])
	}
	return s
}

func (s *stream) breakAt(seq int64, reason string) {
	if s.brokenAt == 0 || seq < s.brokenAt {
		s.brokenAt, s.reason = seq, reason
	}
	s.stopped = true
}

// scan reads rows of (seq, at, actor, role, action, object, details,
// prev_hash, hash) and verifies them until the end or a break.
func (s *stream) scan(ctx context.Context, q store.Querier, query string, args ...any) error {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	var (
		seq                                                         int64
		at, actor, role, action, object, details, prevHash, rowHash sql.RawBytes
	)
	for !s.stopped && rows.Next() {
		if err := rows.Scan(&seq, &at, &actor, &role, &action, &object, &details, &prevHash, &rowHash); err != nil {
			return err
		}
		s.event(seq, at, actor, role, action, object, details, prevHash, rowHash, false)
		if seq&0xffff == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	return rows.Close()
}

// scanPacked is scan over rows of sqlPackedFrom or sqlPackedRange. On a
// database it reads the driver's rows directly, which spares database/sql
// a conversion per column and row (about 15% of the time).
func (s *stream) scanPacked(ctx context.Context, q store.Querier, query string, args ...any) error {
	if db, ok := q.(*store.DB); ok {
		conn, err := db.SQL().Conn(ctx)
		if err != nil {
			return err
		}
		defer conn.Close()
		raw := false
		err = conn.Raw(func(dc any) error {
			qc, ok := dc.(driver.QueryerContext)
			if !ok {
				return nil
			}
			raw = true
			nv := make([]driver.NamedValue, len(args))
			for i, a := range args {
				nv[i] = driver.NamedValue{Ordinal: i + 1, Value: a}
			}
			rows, err := qc.QueryContext(ctx, query, nv)
			if err != nil {
				return err
			}
			defer rows.Close()
			dest := make([]driver.Value, 4)
			for !s.stopped {
				if err := rows.Next(dest); err == io.EOF {
					break
				} else if err != nil {
					return err
				}
				seq, _ := dest[0].(int64)
				p1, ok1 := dest[1].(int64)
				p2, ok2 := dest[2].(int64)
				blob, ok3 := dest[3].([]byte)
				if !ok1 || !ok2 || !ok3 {
					p1 = -1 // read it column by column
				}
				if err := s.packedRow(ctx, q, seq, p1, p2, blob); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil || raw {
			return err
		}
	}
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	var (
		seq, p1, p2 int64
		blob        sql.RawBytes
	)
	for !s.stopped && rows.Next() {
		if err := rows.Scan(&seq, &p1, &p2, &blob); err != nil {
			return err
		}
		if err := s.packedRow(ctx, q, seq, p1, p2, blob); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	return rows.Close()
}

// packedRow unpacks one row of packedColumns and verifies it. Anything
// that does not unpack — lengths beyond a slot, a hash of another size, a
// record that does not match its hash — is read again column by column
// and judged on that.
func (s *stream) packedRow(ctx context.Context, q store.Querier, seq, p1, p2 int64, blob []byte) error {
	const slot = 1<<21 - 1
	var (
		lens   = [7]int{int(p1 & slot), int(p1 >> 21 & slot), int(p1 >> 42 & slot), int(p2 & slot), int(p2 >> 21 & slot), 0, int(p2 >> 42 & slot)}
		fields [8][]byte
	)
	rest := len(blob) - sha256.Size
	for i, l := range lens {
		if i != 5 {
			rest -= l
		}
	}
	ok := rest >= 0 && p1 >= 0 && p2 >= 0
	if ok {
		lens[5] = rest // details
		off := 0
		for i, l := range lens {
			fields[i] = blob[off : off+l]
			off += l
		}
		fields[7] = blob[off:]
		s.buf = appendCanonical(s.buf[:0], seq, fields[0], fields[1], fields[2], fields[3], fields[4], fields[5], fields[6])
		sum := sha256.Sum256(s.buf)
		ok = bytes.Equal(sum[:], fields[7])
	}
	if !ok {
		return s.scan(ctx, q, sqlReadOne, seq, seq)
	}
	s.event(seq, fields[0], fields[1], fields[2], fields[3], fields[4], fields[5], fields[6], fields[7], true)
	if seq&0xffff == 0 {
		return ctx.Err()
	}
	return nil
}

// engineOf returns the engine under q, SQLite when it cannot tell.
func engineOf(q store.Querier) store.Engine {
	switch x := q.(type) {
	case *store.DB:
		return x.Engine()
	case *store.Tx:
		return x.Engine()
	}
	return ""
}

// event checks one record; hashed says its hash was checked already.
func (s *stream) event(seq int64, at, actor, role, action, object, details, prevHash, hash []byte, hashed bool) {
	v := s.v
	if s.first == 0 {
		s.first = seq
		copy(s.firstPrv[:], prevHash)
	}
	switch {
	case !s.known:
		// The first event of a later range: its link is checked on joining.
		s.known = true
	case seq > s.last+1:
		s.breakAt(s.last+1, fmt.Sprintf("event %d is missing (next is %d)", s.last+1, seq))
		return
	case seq <= s.last:
		s.breakAt(seq, fmt.Sprintf("event %d appears twice, or out of order after event %d", seq, s.last))
		return
	case !bytes.Equal(prevHash, s.prev[:]):
		s.breakAt(seq, fmt.Sprintf("event %d does not chain to event %d", seq, s.last))
		return
	}
	if !hashed {
		s.buf = appendCanonical(s.buf[:0], seq, at, actor, role, action, object, details, prevHash)
		if sum := sha256.Sum256(s.buf); !bytes.Equal(sum[:], hash) {
			s.breakAt(seq, fmt.Sprintf("event %d does not match its hash", seq))
			return
		}
	}
	if k := v.keyAt[seq]; k != nil && !registers(action, details, k.ID) {
		s.breakAt(seq, fmt.Sprintf("event %d does not register key %s, which the journal says it does", seq, short(k.ID)))
		return
	}
	if s.meetCheckpoints(seq, hash) {
		return
	}
	if v.head && seq == v.headSeq && !bytes.Equal(hash, v.headHash) {
		s.breakAt(seq+1, fmt.Sprintf("the chain head says event %d has hash %x…, the journal's event %d has %x…",
			seq, v.headHash[:min(8, len(v.headHash))], seq, hash[:min(8, len(hash))]))
		return
	}
	if a := v.opts.Anchor; a != nil && seq == a.Seq && !bytes.Equal(hash, a.Hash) {
		s.breakAt(seq, fmt.Sprintf("event %d differs from its exported copy: the database was rewritten or rolled back after the export", seq))
		return
	}
	copy(s.prev[:], hash)
	s.last = seq
	s.events++
	if v.cpBreak != 0 && seq+1 >= v.cpBreak {
		s.breakAt(v.cpBreak, v.cpReason)
		return
	}
	if s.progress && v.opts.Progress != nil && seq&0xffff == 0 {
		v.opts.Progress(s.events, v.total)
	}
}

// meetCheckpoints compares the checkpoints that cover event seq with the
// event's hash.
func (s *stream) meetCheckpoints(seq int64, hash []byte) bool {
	for _, i := range s.v.cpAt[seq] {
		c := s.v.cps[i]
		if !bytes.Equal(c.Hash, hash) {
			from := int64(1)
			if i > 0 {
				from = s.v.cps[i-1].Seq + 1
			}
			s.breakAt(from, fmt.Sprintf("checkpoint %d signed hash %x… for event %d, the journal has %x…: events %d to %d were rewritten",
				c.ID, c.Hash[:min(8, len(c.Hash))], seq, hash[:min(8, len(hash))], from, seq))
			return true
		}
	}
	return false
}

// join appends the verified range c to s and reports whether s stopped.
func (s *stream) join(c *stream) bool {
	if c.first != 0 {
		switch {
		case c.first != s.last+1:
			s.breakAt(s.last+1, fmt.Sprintf("event %d is missing (next is %d)", s.last+1, c.first))
		case !bytes.Equal(c.firstPrv[:], s.prev[:]):
			s.breakAt(c.first, fmt.Sprintf("event %d does not chain to event %d", c.first, s.last))
		}
	}
	if c.brokenAt != 0 {
		s.breakAt(c.brokenAt, c.reason)
	}
	if s.stopped {
		return true
	}
	if c.first != 0 {
		s.last, s.prev = c.last, c.prev
	}
	s.events += c.events
	return false
}

// registers reports whether an event registers key id.
func registers(action, details []byte, id string) bool {
	if string(action) != ActionKeyRegistered {
		return false
	}
	var d struct {
		KeyID string `json:"key_id"`
	}
	return json.Unmarshal(details, &d) == nil && d.KeyID == id
}

// finish runs the checks that need the whole stream and fills the result.
func (v *verifier) finish(st *stream) {
	last := st.last
	v.res.Events = st.events
	v.res.HeadSeq = last
	v.res.HeadHash = append([]byte(nil), st.prev[:]...)
	if st.brokenAt != 0 {
		v.breakAt(st.brokenAt, st.reason)
	}
	if v.opts.Progress != nil {
		v.opts.Progress(v.res.Events, v.total)
	}
	for id := range v.trusted {
		v.res.TrustedKeys = append(v.res.TrustedKeys, id)
	}
	slices.Sort(v.res.TrustedKeys)
	for _, c := range v.cps {
		if c.Seq <= last && (v.cpBreak == 0 || c.Seq < v.cpBreak) {
			v.res.Checkpoints++
			v.res.LastCheckpoint = c
		}
	}
	if st.stopped {
		return
	}
	for _, c := range v.cps {
		if c.Seq > last {
			v.breakAt(last+1, fmt.Sprintf("checkpoint %d covers event %d, but the journal ends at event %d: it was truncated", c.ID, c.Seq, last))
			break
		}
	}
	for _, k := range v.keys {
		if k.Seq > last {
			v.breakAt(last+1, fmt.Sprintf("key %s is said to be registered by event %d, but the journal ends at event %d", short(k.ID), k.Seq, last))
		}
	}
	if v.head && last < v.headSeq {
		v.breakAt(last+1, fmt.Sprintf("the chain head says event %d, the journal ends at %d", v.headSeq, last))
	}
	if a := v.opts.Anchor; a != nil {
		if last < a.Seq {
			v.breakAt(last+1, fmt.Sprintf("the export holds events up to %d, the database ends at %d: it was rolled back or truncated", a.Seq, last))
		}
		if c := a.Checkpoint; c != nil {
			var mine *Checkpoint
			if c.ID >= 1 && int(c.ID) <= len(v.cps) {
				mine = v.cps[c.ID-1]
			}
			switch {
			case mine == nil:
				v.breakAt(min(last, c.Seq)+1, fmt.Sprintf("the export holds checkpoint %d (event %d, %s), the database's verified checkpoints end at %d: it was rolled back",
					c.ID, c.Seq, c.At, len(v.cps)))
			case !bytes.Equal(mine.Digest(), c.Digest()):
				v.breakAt(min(last, c.Seq)+1, fmt.Sprintf("checkpoint %d differs from its exported copy: the database was rolled back or rewritten", c.ID))
			}
		}
	}
	if v.cpBreak != 0 {
		v.breakAt(v.cpBreak, v.cpReason)
	}
	if v.res.BrokenAt != 0 {
		return
	}
	v.res.Unsigned = last
	if c := v.res.LastCheckpoint; c != nil {
		v.res.Unsigned = last - c.Seq
	} else if last > 0 && v.checkpointed {
		v.res.Warnings = append(v.res.Warnings, "no signed checkpoint yet: the journal is protected by its hash chain only")
	}
}

// verifier holds what every stream of a verification shares, read-only
// once load has run: keys, checkpoints, the chain head and the anchor.
type verifier struct {
	opts VerifyOptions
	res  VerifyResult

	keys    map[string]*SigningKey
	keyAt   map[int64]*SigningKey // by registration event
	trusted map[string]bool
	cps     []*Checkpoint   // those that passed their own checks, in order
	cpAt    map[int64][]int // indexes into cps by the event they cover

	cpBreak  int64 // where the first failing checkpoint breaks the proof
	cpReason string

	head     bool // check the chain head
	headSeq  int64
	headHash []byte
	total    int64

	checkpointed bool // the journal has a checkpoints table
}

func newVerifier(opts VerifyOptions) *verifier {
	return &verifier{opts: opts, keys: map[string]*SigningKey{}, keyAt: map[int64]*SigningKey{}, trusted: map[string]bool{},
		cpAt: map[int64][]int{}}
}

// breakAt records the first break; a lower position wins.
func (v *verifier) breakAt(seq int64, reason string) {
	if v.res.BrokenAt == 0 || seq < v.res.BrokenAt {
		v.res.BrokenAt, v.res.Reason = seq, reason
	}
}

// load checks the checkpoints among themselves, in order: numbering,
// chaining, monotonic positions, signatures, and trust in the signing key.
// It stops at the first failure and remembers where it breaks the proof.
func (v *verifier) load(keys []SigningKey, cps []Checkpoint) {
	v.checkpointed = true
	for i := range keys {
		k := &keys[i]
		v.keys[k.ID] = k
		if k.Seq > 0 {
			v.keyAt[k.Seq] = k
		}
	}
	for _, pub := range v.opts.TrustedKeys {
		if id, err := KeyID(pub); err == nil {
			v.trusted[id] = true
		}
	}
	for _, id := range v.opts.TrustedKeyIDs {
		v.trusted[strings.ToLower(strings.TrimSpace(id))] = true
	}
	if v.opts.Anchor != nil {
		for _, id := range v.opts.Anchor.Keys {
			v.trusted[id] = true
		}
	}
	tofu := len(v.trusted) == 0
	prevDigest := make([]byte, sha256.Size)
	var prevSeq, prevArch, good int64
	for i := range cps {
		c := &cps[i]
		var reason string
		switch {
		case c.ID != int64(i+1):
			reason = fmt.Sprintf("checkpoint %d is missing (next is %d)", i+1, c.ID)
		case !bytes.Equal(c.PrevDigest, prevDigest):
			reason = fmt.Sprintf("checkpoint %d does not chain to checkpoint %d", c.ID, c.ID-1)
		case c.Seq < prevSeq:
			reason = fmt.Sprintf("checkpoint %d goes back from event %d to event %d", c.ID, prevSeq, c.Seq)
		case c.Kind != KindPeriodic && c.Kind != KindArchive && c.Kind != KindFinal:
			reason = fmt.Sprintf("checkpoint %d is of unknown kind %q", c.ID, c.Kind)
		case c.ArchivedThrough < prevArch || c.ArchivedThrough > c.Seq || (c.Kind != KindArchive && c.ArchivedThrough != prevArch):
			reason = fmt.Sprintf("checkpoint %d moves the archive boundary from event %d to %d", c.ID, prevArch, c.ArchivedThrough)
		}
		if reason == "" {
			k := v.keys[c.KeyID]
			switch {
			case k == nil || k.Public == nil:
				reason = fmt.Sprintf("checkpoint %d is signed by key %s, which the journal does not record", c.ID, short(c.KeyID))
			case !verifySignature(k.Public, c.Message(), c.Signature):
				reason = fmt.Sprintf("checkpoint %d: its signature does not verify with key %s", c.ID, short(c.KeyID))
			default:
				if tofu && i == 0 {
					v.trusted[c.KeyID] = true
					v.res.Warnings = append(v.res.Warnings, fmt.Sprintf("no key pinned: trusting key %s, which signed checkpoint 1 "+
						"(pin it with --key, or verify against an export)", short(c.KeyID)))
				}
				if !v.trusted[c.KeyID] {
					reason = fmt.Sprintf("checkpoint %d is signed by key %s, which is not trusted", c.ID, short(c.KeyID))
				}
			}
		}
		if reason != "" {
			v.cpBreak = good + 1
			v.cpReason = fmt.Sprintf("%s: events from %d on are not proven", reason, good+1)
			return
		}
		// Rotation: a key registered by an event that a trusted key's
		// checkpoint covers is trusted from now on. The registration event
		// itself is checked in the stream.
		for _, k := range v.keys {
			if k.Seq > 0 && k.Seq <= c.Seq {
				v.trusted[k.ID] = true
			}
		}
		v.cpAt[c.Seq] = append(v.cpAt[c.Seq], len(v.cps))
		v.cps = append(v.cps, c)
		prevDigest, prevSeq, prevArch, good = c.Digest(), c.Seq, c.ArchivedThrough, c.Seq
	}
}
