package archive

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/hex"
	"time"

	"filippo.io/age"
	"github.com/transparency-dev/merkle/compact"

	"github.com/sceau/sceau/internal/audit"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/store"
)

// GetOptions choose where an item comes from and how it is opened.
type GetOptions struct {
	// From names a replication target to read the content from instead
	// of the database (a second site's copy, ARC-4).
	From string
	// Identities open a confidential item (ARC-3).
	Identities []age.Identity
}

// Retrieved is an item with the proofs it passed (ARC-6).
type Retrieved struct {
	Item     Item      `json:"item"`
	Content  []byte    `json:"-"`
	Head     *Head     `json:"head"`     // the signed head it is included in
	StampAt  time.Time `json:"stamp_at"` // its token's time; zero: no token yet
	Token    []byte    `json:"token"`    // its RFC 3161 token over the content's SHA-256, DER
	Checks   []string  `json:"checks"`   // what was verified, in order
	Warnings []string  `json:"warnings"` // what could not be checked yet
	From     string    `json:"from"`     // "database" or a target's name
	Sealed   bool      `json:"sealed"`   // Content is the age ciphertext (no identity given)
}

// Get retrieves an item and verifies it: the stored bytes against their
// digest, the description against its leaf, the leaf's inclusion in the
// latest signed head, the head's signature and chain, the timestamps, and
// for a confidential item the content in clear against its digest. A
// failed check is an error of kind Invalid naming the check.
func (s *Service) Get(ctx context.Context, actor sceau.Actor, leaf int64, o GetOptions) (*Retrieved, error) {
	it, err := readItem(ctx, s.db, leaf)
	if err != nil {
		return nil, err
	}
	r := &Retrieved{Item: *it, From: "database"}
	var stored []byte
	if o.From == "" {
		stored, err = object(ctx, s.db, it.Object)
	} else {
		t := s.target(o.From)
		if t == nil {
			return nil, sceau.Errorf(sceau.NotFound, "archive: get", "no replication target %q (archive.replicas)", o.From)
		}
		r.From = t.Name()
		stored, err = t.Get(ctx, objectKey(it.Object))
	}
	if err != nil {
		return nil, err
	}
	if hexSHA256(stored) != it.Object {
		return nil, failed("hash", "item %d: the stored bytes (%s) do not match their digest %s", leaf, r.From, short(it.Object))
	}
	r.Checks = append(r.Checks, "hash")
	if err := s.proveItem(ctx, s.db, it, r); err != nil {
		return nil, err
	}
	content := stored
	if it.Class == Confidential {
		if len(o.Identities) == 0 {
			r.Sealed = true
			r.Warnings = append(r.Warnings, "confidential: returned sealed (age); give --identity to open and check it in clear")
		} else {
			if content, err = open(stored, o.Identities); err != nil {
				return nil, err
			}
			if hexSHA256(content) != it.SHA256 || int64(len(content)) != it.Size {
				return nil, failed("hash", "item %d: the content in clear does not match its digest %s", leaf, short(it.SHA256))
			}
			r.Checks = append(r.Checks, "decrypt")
		}
		// ARC-3: who took a confidential item, sealed or not, is journaled.
		err := s.db.InTx(ctx, func(tx *store.Tx) error {
			return s.journal.Append(ctx, tx, audit.Event{Actor: actor, Action: audit.ActionArchiveRetrieved,
				Object: "archive:item:" + itoa(leaf), Details: map[string]any{"kind": it.Kind, "source": it.Source, "from": r.From, "sealed": r.Sealed}})
		})
		if err != nil {
			return nil, err
		}
	}
	// In clear, the stored bytes are the content: their digest, checked
	// above, must be the item's.
	if it.Class != Confidential && it.Object != it.SHA256 {
		return nil, failed("hash", "item %d: a %s item must be stored in clear under its digest", leaf, it.Class)
	}
	r.Content = content
	return r, nil
}

// proveItem checks the item's leaf, its inclusion in the latest head, the
// head and the tokens, appending to r what passed.
func (s *Service) proveItem(ctx context.Context, q store.Querier, it *Item, r *Retrieved) error {
	stored, err := nodeHashes(ctx, q, []compact.NodeID{compact.NewNodeID(0, uint64(it.Leaf))})
	if err != nil {
		return failed("index", "item %d: %v", it.Leaf, err)
	}
	leafHash := it.LeafHash()
	if !bytes.Equal(stored[0], leafHash) {
		return failed("index", "item %d: its description differs from the leaf the tree holds (changed after archiving)", it.Leaf)
	}
	h, err := latestHead(ctx, q)
	if err != nil {
		return err
	}
	if h == nil || h.Size <= it.Leaf {
		if s.o.Heads == nil {
			return sceau.Errorf(sceau.Conflict, "archive: get", "item %d is not under a signed tree head yet and no archive key can sign one", it.Leaf)
		}
		if h, err = s.IssueHead(ctx, sceau.System("archive")); err != nil {
			return err
		}
	}
	if _, err := CheckHead(h, s.roots()); err != nil {
		return err
	}
	r.Head = h
	r.Checks = append(r.Checks, "head signature", "head chain")
	p, err := inclusionProof(ctx, q, it.Leaf, h.Size)
	if err != nil {
		return failed("inclusion", "item %d: %v", it.Leaf, err)
	}
	if err := verifyInclusion(it.Leaf, h.Size, leafHash, p, h.Root); err != nil {
		return failed("inclusion", "item %d is not in head %d (size %d): %v", it.Leaf, h.Number, h.Size, err)
	}
	r.Checks = append(r.Checks, "inclusion")
	if s.o.CheckToken == nil {
		r.Warnings = append(r.Warnings, "timestamps: no time-stamping unit configured to check them")
		return nil
	}
	token, err := stamp(ctx, q, "item", it.Leaf)
	if err != nil {
		return err
	}
	if token == nil {
		r.Warnings = append(r.Warnings, "timestamp: the item has no token yet")
		return nil
	}
	digest, _ := hex.DecodeString(it.SHA256)
	at, err := s.o.CheckToken(token, digest, s.roots())
	if err != nil {
		return failed("timestamp", "item %d: %v", it.Leaf, err)
	}
	r.StampAt, r.Token = at, token
	r.Checks = append(r.Checks, "timestamp")
	return nil
}

func (s *Service) roots() *x509.CertPool {
	if s.o.Roots == nil {
		return nil
	}
	return s.o.Roots()
}

func (s *Service) target(name string) Target {
	for _, t := range s.o.Targets {
		if t.Name() == name {
			return t
		}
	}
	return nil
}

// failed is a verification failure naming its check (ARC-6).
func failed(check, format string, args ...any) error {
	return sceau.Errorf(sceau.Invalid, "archive: verify "+check, format, args...)
}
