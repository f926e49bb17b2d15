package archive

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"

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
	for next := int64(0); next < r.Size; {
		leaves, err := s.leafBatch(ctx, next, verifyBatch)
		if err != nil {
			return nil, err
		}
		items, err := s.itemBatch(ctx, next, verifyBatch)
		if err != nil {
			return nil, err
		}
		end := min(next+verifyBatch, r.Size)
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
			it, ok := items[leaf]
			if !ok {
				var at string
				if s.db.QueryRowContext(ctx, qPurged, leaf).Scan(&at) == nil {
					r.Purged++
				} else {
					r.fail(leaf, "removed", "item %d was removed without a purge record", leaf)
				}
				continue
			}
			r.Items++
			r.Bytes += it.Size
			if !bytes.Equal(it.LeafHash(), lh) {
				r.fail(leaf, "index", "item %d: its description differs from its leaf (changed after archiving)", leaf)
			}
			s.verifyContent(ctx, r, it, from, o.Identities)
			s.verifyStamp(ctx, r, "item", leaf, it.SHA256)
		}
		next = end
		if o.Progress != nil {
			o.Progress(next, r.Size)
		}
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

func (s *Service) verifyContent(ctx context.Context, r *Report, it *Item, from Target, ids []age.Identity) {
	var (
		stored []byte
		err    error
	)
	if from != nil {
		stored, err = from.Get(ctx, objectKey(it.Object))
	} else {
		stored, err = object(ctx, s.db, it.Object)
	}
	if err != nil {
		r.fail(it.Leaf, "hash", "item %d: %v", it.Leaf, err)
		return
	}
	if hexSHA256(stored) != it.Object {
		r.fail(it.Leaf, "hash", "item %d: the stored bytes do not match their digest", it.Leaf)
		return
	}
	switch {
	case it.Class != Confidential && it.Object != it.SHA256:
		r.fail(it.Leaf, "hash", "item %d: a %s item must be stored in clear", it.Leaf, it.Class)
	case it.Class == Confidential && len(ids) > 0:
		clear, err := open(stored, ids)
		if err != nil || hexSHA256(clear) != it.SHA256 {
			r.fail(it.Leaf, "decrypt", "item %d: the sealed content does not open to its digest (%v)", it.Leaf, err)
		}
	}
}

func (s *Service) verifyStamp(ctx context.Context, r *Report, what string, id int64, sum string) {
	token, err := stamp(ctx, s.db, what, id)
	if err != nil || token == nil {
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

func (s *Service) itemBatch(ctx context.Context, from int64, n int) (map[int64]*Item, error) {
	rows, err := s.db.QueryContext(ctx, qItemsFrom, from, n)
	if err != nil {
		return nil, store.Classify("archive: verify", err)
	}
	defer rows.Close()
	out := make(map[int64]*Item, n)
	for rows.Next() {
		it, err := scanItem(rows)
		if err != nil {
			return nil, err
		}
		if it.Leaf < from+int64(n) {
			out[it.Leaf] = it
		}
	}
	return out, store.Classify("archive: verify", rows.Err())
}
