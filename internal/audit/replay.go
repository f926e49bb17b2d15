package audit

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/store"
)

// ReplayExport puts back into a database restored from an older copy the
// journal that the export in dir holds beyond it (CONT-1; the export of
// AUD-5 is the off-site witness of everything after the copy). Inside tx it
// appends, verbatim (their sequence numbers, times and hashes), the events,
// signing keys and checkpoints of the export that follow the database's
// head, and calls fn with each appended event in order, so that the
// packages owning the state the events record can recreate it in the same
// transaction.
//
// It refuses an export that does not extend the database: the event at the
// database's head must be in the export with the same hash, and every
// appended event must chain and hash. The caller verifies the export's
// checkpoint signatures first (VerifyExport). An export that ends at or
// before the database's head appends nothing. It returns the number of
// events appended.
func ReplayExport(ctx context.Context, tx *store.Tx, dir string, fn func(r *Record) error) (int64, error) {
	const op = "audit: replay export"
	head, headHash, err := Head(ctx, tx)
	if err != nil {
		return 0, err
	}
	lastCP := int64(0)
	if cp, err := LastCheckpoint(ctx, tx); err != nil {
		return 0, err
	} else if cp != nil {
		lastCP = cp.ID
	}
	known := map[string]bool{}
	ks, err := Keys(ctx, tx)
	if err != nil {
		return 0, err
	}
	for _, k := range ks {
		known[k.ID] = true
	}
	var (
		seq      = head
		prev     = headHash
		sawHead  = head == 0
		appended int64
		lineNo   int
	)
	err = scanExport(dir, func(line []byte) error {
		lineNo++
		switch lineType(line) {
		case "event":
			var ev exportEvent
			if err := json.Unmarshal(line, &ev); err != nil {
				return sceau.Errorf(sceau.Invalid, op, "line %d: an event line cannot be read", lineNo)
			}
			hash, err1 := hex.DecodeString(ev.Hash)
			prevHash, err2 := hex.DecodeString(ev.PrevHash)
			if err1 != nil || err2 != nil {
				return sceau.Errorf(sceau.Invalid, op, "line %d: event %d has a damaged hash", lineNo, ev.Seq)
			}
			if ev.Seq < head {
				return nil
			}
			if ev.Seq == head {
				if !bytes.Equal(hash, headHash) {
					return sceau.Errorf(sceau.Conflict, op, "event %d of the export is not the one the restored database ends with: "+
						"the export is not this installation's, or the database was written again since", head)
				}
				sawHead = true
				return nil
			}
			if !sawHead {
				return sceau.Errorf(sceau.Conflict, op, "the export does not hold event %d, where the restored database ends", head)
			}
			if ev.Seq != seq+1 || !bytes.Equal(prevHash, prev) {
				return sceau.Errorf(sceau.Invalid, op, "line %d: event %d does not follow event %d of the chain", lineNo, ev.Seq, seq)
			}
			details := string(ev.Details)
			if ev.DetailsRaw != nil {
				details = *ev.DetailsRaw
			}
			r := Record{Seq: ev.Seq, At: ev.At, Actor: ev.Actor, Role: ev.Role, Action: ev.Action, Object: ev.Object,
				Details: details, PrevHash: prevHash, Hash: hash}
			if !bytes.Equal(r.ComputeHash(), hash) {
				return sceau.Errorf(sceau.Invalid, op, "line %d: event %d does not hash as its line says: the export was altered", lineNo, ev.Seq)
			}
			if _, err := tx.ExecContext(ctx, insertStatement(1), r.Seq, r.At, r.Actor, r.Role, r.Action, r.Object, r.Details, r.PrevHash, r.Hash); err != nil {
				return store.Classify(op, err)
			}
			seq, prev = r.Seq, hash
			appended++
			if fn != nil {
				if err := fn(&r); err != nil {
					return fmt.Errorf("%s: event %d (%s %s): %w", op, r.Seq, r.Action, r.Object, err)
				}
			}
		case "key":
			var k exportKey
			if err := json.Unmarshal(line, &k); err != nil {
				return sceau.Errorf(sceau.Invalid, op, "line %d: a key line cannot be read", lineNo)
			}
			if known[k.KeyID] || k.Seq <= head {
				return nil
			}
			if _, err := tx.ExecContext(ctx, sqlInsertKey, k.KeyID, k.Algorithm, k.PublicKey, k.Label, k.RegisteredAt, k.Seq); err != nil {
				return store.Classify(op, err)
			}
			known[k.KeyID] = true
		case "checkpoint":
			var c exportCheckpoint
			if err := json.Unmarshal(line, &c); err != nil {
				return sceau.Errorf(sceau.Invalid, op, "line %d: a checkpoint line cannot be read", lineNo)
			}
			if c.ID <= lastCP {
				return nil
			}
			cp := Checkpoint{ID: c.ID, Seq: c.Seq, At: c.At, Kind: c.Kind, ArchivedThrough: c.ArchivedThrough, KeyID: c.KeyID, Signature: c.Signature}
			cp.Hash, _ = hex.DecodeString(c.Hash)
			cp.PrevDigest, _ = hex.DecodeString(c.PrevDigest)
			if err := insertCheckpoint(ctx, tx, &cp); err != nil {
				return err
			}
			lastCP = c.ID
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	if appended == 0 {
		return 0, nil
	}
	if _, err := tx.ExecContext(ctx, sqlSetHead, seq, prev); err != nil {
		return 0, store.Classify(op, err)
	}
	return appended, nil
}
