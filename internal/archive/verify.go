package archive

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"runtime"
	"sync"

	"filippo.io/age"

	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/store"
)

// VerifyOptions tune VerifyAll.
type VerifyOptions struct {
	// Identities also open and check confidential items in clear.
	Identities []age.Identity
	// From checks a target's copies instead of the database's bytes.
	From string
	// Progress, if set, is called after each batch with the leaves done
	// and the total.
	Progress func(done, total int64)
}

// Failure is one check that failed.
type Failure struct {
	Leaf    int64  `json:"leaf"` // -1: not about one item
	Check   string `json:"check"`
	Message string `json:"message"`
}

// Report is what VerifyAll found (ARC-6).
type Report struct {
	Size      int64     `json:"size"`
	Items     int64     `json:"items"`
	Purged    int64     `json:"purged"`
	Heads     int64     `json:"heads"`
	Bytes     int64     `json:"bytes"`
	Stamped   int64     `json:"stamped"`
	Unstamped int64     `json:"unstamped"`
	Failures  []Failure `json:"failures"`
}

// OK says whether every check passed.
func (r *Report) OK() bool { return len(r.Failures) == 0 }

func (r *Report) fail(leaf int64, check, format string, args ...any) {
	if len(r.Failures) < 1000 {
		r.Failures = append(r.Failures, Failure{Leaf: leaf, Check: check, Message: fmt.Sprintf(format, args...)})
	}
}

const verifyBatch = 1000

// VerifyAll checks the whole archive: every leaf against its item's
// description, every stored object against its digest, every removed item
// against a purge record, the tree recomputed from the leaves against each
// signed head's root, each head's signature and chain, the tokens, and
// that no target holds a newer head than the database (an index put back
// to an older state). A failed check is in the report, not an error; an
// error means the verification could not run.
func (s *Service) VerifyAll(ctx context.Context, o VerifyOptions) (*Report, error) {
	const op = "archive: verify"
	r := &Report{}
	if err := s.db.QueryRowContext(ctx, qSize).Scan(&r.Size); err != nil {
		return nil, store.Classify(op, err)
	}
	var from Target
	if o.From != "" {
		if from = s.target(o.From); from == nil {
			return nil, sceau.Errorf(sceau.NotFound, op, "no replication target %q", o.From)
		}
	}
	heads, err := s.heads(ctx)
	if err != nil {
		return nil, err
	}
	r.Heads = int64(len(heads))
	bySize := map[int64][]*Head{}
	for _, h := range heads {
		bySize[h.Size] = append(bySize[h.Size], h)
	}
	tree := factory.NewEmptyRange(0)
	checkRoots := func() {
		for _, h := range bySize[int64(tree.End())] {
			root, _ := tree.GetRootHash(nil)
			if int64(tree.End()) == 0 {
				root = hasher.EmptyRoot()
			}
			if !bytes.Equal(root, h.Root) {
				r.fail(-1, "consistency", "head %d: the tree recomputed from the leaves has another root at size %d: the index was changed", h.Number, h.Size)
			}
		}
	}
	checkRoots()
	// The database is read one batch ahead while the previous one is
	// hashed, so reading and hashing overlap.
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	reads := s.readAhead(rctx, r.Size)
	for rd := range reads {
		if rd.err != nil {
			return nil, rd.err
		}
		next, end, leaves, batch := rd.next, rd.end, rd.leaves, rd.batch
		s.checkContents(ctx, batch, from, o.Identities)
		for leaf := next; leaf < end; leaf++ {
			lh, ok := leaves[leaf]
			if !ok {
				r.fail(leaf, "index", "leaf %d is missing from the tree", leaf)
				lh = make([]byte, 32)
			}
			if err := tree.Append(lh, nil); err != nil {
				return nil, sceau.E(sceau.Internal, op, "", err)
			}
			checkRoots()
			v, ok := batch.items[leaf]
			if !ok {
				if batch.purged[leaf] {
					r.Purged++
				} else {
					r.fail(leaf, "removed", "item %d was removed without a purge record", leaf)
				}
				continue
			}
			r.Items++
			r.Bytes += v.item.Size
			if !bytes.Equal(v.item.LeafHash(), lh) {
				r.fail(leaf, "index", "item %d: its description differs from its leaf (changed after archiving)", leaf)
			}
			if v.problem != nil {
				r.fail(leaf, v.problem.check, "%s", v.problem.msg)
			}
			s.checkToken(r, "item", leaf, v.item.SHA256, v.token)
		}
		if o.Progress != nil {
			o.Progress(end, r.Size)
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, sceau.E(sceau.Unavailable, op, "interrupted", err)
	}
	if got := int64(tree.End()); got == r.Size && r.Size > 0 {
		stored, err := rootAt(ctx, s.db, r.Size)
		root, _ := tree.GetRootHash(nil)
		if err != nil || !bytes.Equal(stored, root) {
			r.fail(-1, "index", "the tree's stored nodes do not match its leaves (%v)", err)
		}
	}
	for _, h := range heads {
		if h.Size > r.Size {
			r.fail(-1, "rollback", "head %d signs %d items but the index holds %d: the index was rolled back", h.Number, h.Size, r.Size)
		}
		if _, err := CheckHead(h, s.roots()); err != nil {
			r.fail(-1, "head signature", "%v", err)
		}
		d := sha256.Sum256(h.Body)
		s.verifyStamp(ctx, r, "head", h.Number, hex.EncodeToString(d[:]))
	}
	s.verifyTargets(ctx, r, heads)
	return r, nil
}

type readBatch struct {
	next, end int64
	leaves    map[int64][]byte
	batch     *batchRead
	err       error
}

// readAhead reads the leaves and items of [0, size) batch by batch, on
// as many connections as there are cores (reading the bytes is the
// larger part of the work), delivering the batches in order.
func (s *Service) readAhead(ctx context.Context, size int64) <-chan readBatch {
	readers := max(1, min(runtime.GOMAXPROCS(0), 4))
	lanes := make([]chan readBatch, readers)
	for w := range lanes {
		lanes[w] = make(chan readBatch, 1)
		go func(w int) {
			defer close(lanes[w])
			for next := int64(w) * verifyBatch; next < size; next += int64(readers) * verifyBatch {
				rd := readBatch{next: next, end: min(next+verifyBatch, size)}
				rd.leaves, rd.err = s.leafBatch(ctx, next, verifyBatch)
				if rd.err == nil {
					rd.batch, rd.err = s.verifyBatch(ctx, next, rd.end)
				}
				select {
				case lanes[w] <- rd:
				case <-ctx.Done():
					return
				}
				if rd.err != nil {
					return
				}
			}
		}(w)
	}
	out := make(chan readBatch)
	go func() {
		defer close(out)
		for i := 0; ; i++ {
			rd, ok := <-lanes[i%readers]
			if !ok {
				return
			}
			select {
			case out <- rd:
			case <-ctx.Done():
				return
			}
			if rd.err != nil {
				return
			}
		}
	}()
	return out
}

// verified is one item of a batch with what its checks found.
type verified struct {
	item    *Item
	stored  []byte // nil: the object is missing
	token   []byte
	problem *problem
}

type problem struct{ check, msg string }

type batchRead struct {
	items  map[int64]*verified
	purged map[int64]bool
}

// verifyBatch reads the items of [from, end) with their bytes and tokens,
// and the purges of the range, in two queries.
func (s *Service) verifyBatch(ctx context.Context, from, end int64) (*batchRead, error) {
	const op = "archive: verify"
	b := &batchRead{items: make(map[int64]*verified, end-from), purged: map[int64]bool{}}
	rows, err := s.db.QueryContext(ctx, qVerifyBatch, from, end)
	if err != nil {
		return nil, store.Classify(op, err)
	}
	for rows.Next() {
		var (
			it                          Item
			eventAt, addedAt, retain, c string
			v                           = &verified{item: &it}
		)
		if err := rows.Scan(&it.Leaf, &it.Kind, &it.Source, &eventAt, &addedAt, &it.AddedBy, &it.MediaType, &it.Size, &it.SHA256, &c,
			&it.Object, &retain, &v.stored, &v.token); err != nil {
			rows.Close()
			return nil, store.Classify(op, err)
		}
		it.Class = Class(c)
		it.EventAt, _ = store.ParseTime(eventAt)
		it.AddedAt, _ = store.ParseTime(addedAt)
		it.RetainUntil, _ = store.ParseTime(retain)
		b.items[it.Leaf] = v
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, store.Classify(op, err)
	}
	rows, err = s.db.QueryContext(ctx, qPurgedRange, from, end)
	if err != nil {
		return nil, store.Classify(op, err)
	}
	defer rows.Close()
	for rows.Next() {
		var l int64
		if err := rows.Scan(&l); err != nil {
			return nil, store.Classify(op, err)
		}
		b.purged[l] = true
	}
	return b, store.Classify(op, rows.Err())
}

// checkContents hashes a batch's bytes on every core: the digest checks
// are verification's real work (ARC-6).
func (s *Service) checkContents(ctx context.Context, b *batchRead, from Target, ids []age.Identity) {
	work := make(chan *verified, len(b.items))
	for _, v := range b.items {
		work <- v
	}
	close(work)
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for v := range work {
				v.problem = s.checkContent(ctx, v, from, ids)
			}
		}()
	}
	wg.Wait()
}

func (s *Service) checkContent(ctx context.Context, v *verified, from Target, ids []age.Identity) *problem {
	it := v.item
	stored := v.stored
	if from != nil {
		var err error
		if stored, err = from.Get(ctx, objectKey(it.Object)); err != nil {
			return &problem{"hash", fmt.Sprintf("item %d: %v", it.Leaf, err)}
		}
	}
	if stored == nil {
		return &problem{"hash", fmt.Sprintf("item %d: the object %s is missing", it.Leaf, short(it.Object))}
	}
	if hexSHA256(stored) != it.Object {
		return &problem{"hash", fmt.Sprintf("item %d: the stored bytes do not match their digest", it.Leaf)}
	}
	switch {
	case it.Class != Confidential && it.Object != it.SHA256:
		return &problem{"hash", fmt.Sprintf("item %d: a %s item must be stored in clear", it.Leaf, it.Class)}
	case it.Class == Confidential && len(ids) > 0:
		clear, err := open(stored, ids)
		if err != nil || hexSHA256(clear) != it.SHA256 {
			return &problem{"decrypt", fmt.Sprintf("item %d: the sealed content does not open to its digest (%v)", it.Leaf, err)}
		}
	}
	return nil
}

func (s *Service) verifyStamp(ctx context.Context, r *Report, what string, id int64, sum string) {
	token, err := stamp(ctx, s.db, what, id)
	if err != nil {
		token = nil
	}
	s.checkToken(r, what, id, sum, token)
}

func (s *Service) checkToken(r *Report, what string, id int64, sum string, token []byte) {
	if token == nil {
		r.Unstamped++
		return
	}
	r.Stamped++
	if s.o.CheckToken == nil {
		return
	}
	digest, _ := hex.DecodeString(sum)
	if _, err := s.o.CheckToken(token, digest, s.roots()); err != nil {
		leaf := id
		if what == "head" {
			leaf = -1
		}
		r.fail(leaf, "timestamp", "%s %d: %v", what, id, err)
	}
}

// verifyTargets looks on each target for a head the database lacks.
func (s *Service) verifyTargets(ctx context.Context, r *Report, heads []*Head) {
	next := int64(1)
	if len(heads) > 0 {
		next = heads[len(heads)-1].Number + 1
	}
	for _, t := range s.o.Targets {
		b, err := t.Get(ctx, headKey(next))
		if err != nil {
			continue // NotFound is the good case; a target down is for status
		}
		var h Head
		if json.Unmarshal(b, &h) == nil {
			r.fail(-1, "rollback", "target %s holds head %d (size %d) that the database lacks: the index was put back to an older state", t.Name(), h.Number, h.Size)
		}
	}
}

func (s *Service) heads(ctx context.Context) ([]*Head, error) {
	var out []*Head
	for from := int64(0); ; {
		rows, err := s.db.QueryContext(ctx, qHeadsFrom, from, 1000)
		if err != nil {
			return nil, store.Classify("archive: heads", err)
		}
		n := 0
		for rows.Next() {
			h, err := scanHead(rows)
			if err != nil {
				rows.Close()
				return nil, err
			}
			out = append(out, h)
			from = h.Number + 1
			n++
		}
		rows.Close()
		if n < 1000 {
			return out, nil
		}
	}
}

func (s *Service) leafBatch(ctx context.Context, from int64, n int) (map[int64][]byte, error) {
	rows, err := s.db.QueryContext(ctx, qLeaves, from, n)
	if err != nil {
		return nil, store.Classify("archive: verify", err)
	}
	defer rows.Close()
	out := make(map[int64][]byte, n)
	for rows.Next() {
		var (
			i int64
			h []byte
		)
		if err := rows.Scan(&i, &h); err != nil {
			return nil, store.Classify("archive: verify", err)
		}
		out[i] = h
	}
	return out, store.Classify("archive: verify", rows.Err())
}
