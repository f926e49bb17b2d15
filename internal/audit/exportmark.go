package audit

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/store"
)

// ErrExportLost is wrapped by the refusal of an export directory that holds
// less than the database knows it exported there (AUD-2, AUD-5).
var ErrExportLost = errors.New("audit: the export holds less than was exported to it")

// The database remembers, per export directory, the last event it exported
// there: an export found empty or behind it was lost, unmounted (an empty
// mount point) or rolled back. Without this mark, an exporter would fill an
// empty directory from event 1 and a rolled-back database would pass
// against it, since an empty export witnesses nothing.
func exportMarkName(dir string) string {
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs
	}
	return "export-mark:" + dir
}

// ExportMark returns the last event the database exported to dir, 0 if none.
func ExportMark(ctx context.Context, q store.Querier, dir string) (int64, error) {
	var seq int64
	err := q.QueryRowContext(ctx, sqlCursor, exportMarkName(dir)).Scan(&seq)
	if err = store.Classify("audit: export mark", err); sceau.KindOf(err) == sceau.NotFound {
		return 0, nil
	}
	return seq, err
}

// recordExportMark moves dir's mark forward to seq, never back.
func recordExportMark(ctx context.Context, q store.Querier, dir string, seq int64, now time.Time) error {
	name := exportMarkName(dir)
	if _, err := q.ExecContext(ctx, sqlCursorCreate, name, store.FormatTime(now)); err != nil {
		return store.Classify("audit: export mark", err)
	}
	_, err := q.ExecContext(ctx, sqlCursorForward, seq, store.FormatTime(now), name, seq)
	return store.Classify("audit: export mark", err)
}

// CheckExportPresent refuses an export directory that holds fewer events
// than the database exported to it (AUD-2, AUD-5); see docs/reliability.md,
// "A lost export".
func CheckExportPresent(ctx context.Context, q store.Querier, dir string) error {
	mark, err := ExportMark(ctx, q, dir)
	if err != nil || mark == 0 {
		return err
	}
	cur, err := ReadExportCursor(dir)
	if err != nil {
		return err
	}
	if cur.Seq >= mark {
		return nil
	}
	return sceau.E(sceau.Conflict, "audit: export", fmt.Sprintf("the export %s holds events up to %d, but this database exported events up to %d there: "+
		"the export was lost, unmounted or rolled back (docs/reliability.md, \"A lost export\")", dir, cur.Seq, mark), ErrExportLost)
}
