package audit

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/store"
)

// ErrRolledBack is wrapped by the refusal of a database whose journal is
// behind, or other than, what a witness of it holds (AUD-2, AUD-5).
var ErrRolledBack = errors.New("audit: the database is behind or other than its witness")

// Witness is what an off-site copy of the journal knows of it: the last
// event it holds and the last checkpoint (the export's cursor).
type Witness struct {
	Source     string // where the witness is, for the message
	Seq        int64
	Hash       string // hex
	Checkpoint int64
}

// ExportWitness is the witness of the export directory dir: its cursor.
func ExportWitness(dir string) (Witness, error) {
	c, err := ReadExportCursor(dir)
	return Witness{Source: "the export " + dir, Seq: c.Seq, Hash: c.Hash, Checkpoint: c.Checkpoint}, err
}

// CheckWitness refuses a database whose journal does not extend what w
// holds (AUD-2, AUD-5): a database restored from an older copy ends before
// w, or holds other events at w's position. Serving from it would fork the
// journal, and an exporter appending its events after w's would hide the
// rollback. The refusal says what differs; see docs/reliability.md for the
// recovery.
func CheckWitness(ctx context.Context, q store.Querier, w Witness) error {
	if w.Seq <= 0 {
		return nil
	}
	head, _, err := Head(ctx, q)
	if err != nil {
		return err
	}
	if head < w.Seq {
		return rolledBack("the database's journal ends at event %d, but %s holds events up to %d: the database was rolled back (restored from an older copy?)",
			head, w.Source, w.Seq)
	}
	recs, err := Read(ctx, q, w.Seq-1, 1)
	if err != nil {
		return err
	}
	if len(recs) != 1 || recs[0].Seq != w.Seq {
		return rolledBack("the database holds no event %d, which %s holds", w.Seq, w.Source)
	}
	if got := hex.EncodeToString(recs[0].Hash); got != w.Hash {
		return rolledBack("event %d of the database (hash %.16s…) is not the one %s holds (hash %.16s…): the database was rolled back and written again since",
			w.Seq, got, w.Source, w.Hash)
	}
	if w.Checkpoint > 0 {
		cp, err := LastCheckpoint(ctx, q)
		if err != nil {
			return err
		}
		if cp == nil || cp.ID < w.Checkpoint {
			last := int64(0)
			if cp != nil {
				last = cp.ID
			}
			return rolledBack("%s holds checkpoint %d, the database's last is %d: its checkpoints were rolled back",
				w.Source, w.Checkpoint, last)
		}
	}
	return nil
}

// rolledBack is the refusal of a database that a witness contradicts.
func rolledBack(format string, args ...any) error {
	return sceau.E(sceau.Conflict, "audit: witness", fmt.Sprintf(format, args...), ErrRolledBack)
}
