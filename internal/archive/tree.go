package archive

import (
	"context"
	"database/sql"
	"errors"

	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"

	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/store"
)

// The index is an RFC 6962 tree whose perfect subtrees are rows of
// archive_tree, written as leaves arrive: any proof is a few row reads,
// whatever the size.

var (
	hasher  = rfc6962.DefaultHasher
	factory = &compact.RangeFactory{Hash: hasher.HashChildren}
)

// nodeHashes reads the stored hashes of ids, in order.
func nodeHashes(ctx context.Context, q store.Querier, ids []compact.NodeID) ([][]byte, error) {
	out := make([][]byte, len(ids))
	for i, id := range ids {
		err := q.QueryRowContext(ctx, qTreeNode, id.Level, int64(id.Index)).Scan(&out[i])
		if errors.Is(err, sql.ErrNoRows) {
			return nil, sceau.Errorf(sceau.Conflict, "archive: index", "the index lacks node %d/%d: it was cut or rolled back", id.Level, id.Index)
		}
		if err != nil {
			return nil, store.Classify("archive: index", err)
		}
	}
	return out, nil
}

// border is the compact range of the first size leaves.
func border(ctx context.Context, q store.Querier, size int64) (*compact.Range, error) {
	hashes, err := nodeHashes(ctx, q, compact.RangeNodes(0, uint64(size), nil))
	if err != nil {
		return nil, err
	}
	return factory.NewRange(0, uint64(size), hashes)
}

// rootAt is the root of the tree of the first size leaves.
func rootAt(ctx context.Context, q store.Querier, size int64) ([]byte, error) {
	if size == 0 {
		return hasher.EmptyRoot(), nil
	}
	r, err := border(ctx, q, size)
	if err != nil {
		return nil, err
	}
	return r.GetRootHash(nil)
}

// inclusionProof proves leaf in the tree of size leaves.
func inclusionProof(ctx context.Context, q store.Querier, leaf, size int64) ([][]byte, error) {
	n, err := proof.Inclusion(uint64(leaf), uint64(size))
	if err != nil {
		return nil, sceau.E(sceau.Invalid, "archive: inclusion proof", "", err)
	}
	h, err := nodeHashes(ctx, q, n.IDs)
	if err != nil {
		return nil, err
	}
	return n.Rehash(h, hasher.HashChildren)
}

// consistencyProof proves the tree of size2 leaves extends that of size1.
func consistencyProof(ctx context.Context, q store.Querier, size1, size2 int64) ([][]byte, error) {
	n, err := proof.Consistency(uint64(size1), uint64(size2))
	if err != nil {
		return nil, sceau.E(sceau.Invalid, "archive: consistency proof", "", err)
	}
	h, err := nodeHashes(ctx, q, n.IDs)
	if err != nil {
		return nil, err
	}
	return n.Rehash(h, hasher.HashChildren)
}

// appendLeaves adds leaf hashes after the first begin leaves, storing
// every node they complete.
func appendLeaves(ctx context.Context, tx *store.Tx, begin int64, leaves [][]byte) error {
	r, err := border(ctx, tx, begin)
	if err != nil {
		return err
	}
	var werr error
	visit := func(id compact.NodeID, hash []byte) {
		if werr == nil {
			_, werr = tx.ExecContext(ctx, qInsertNode, id.Level, int64(id.Index), hash)
		}
	}
	for _, l := range leaves {
		if err := r.Append(l, visit); err != nil {
			return sceau.E(sceau.Internal, "archive: index", "", err)
		}
	}
	if werr != nil {
		return store.Classify("archive: index", werr)
	}
	return nil
}

func verifyInclusion(leaf, size int64, leafHash []byte, p [][]byte, root []byte) error {
	return proof.VerifyInclusion(hasher, uint64(leaf), uint64(size), leafHash, p, root)
}

func verifyConsistency(size1, size2 int64, p [][]byte, root1, root2 []byte) error {
	return proof.VerifyConsistency(hasher, uint64(size1), uint64(size2), p, root1, root2)
}
