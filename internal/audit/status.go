package audit

import (
	"context"
	"time"

	"github.com/sceau/sceau/internal/store"
)

// Status is the state of the journal and of its workers' positions.
type Status struct {
	HeadSeq         int64
	HeadAt          string
	LiveFrom        int64 // the first event still in the live journal, 0 when it is empty
	ArchivedThrough int64 // events up to here may be in the archive (AUD-4)
	ArchivedEvents  int64
	LiveEvents      int64
	LastCheckpoint  *Checkpoint
	// Unsigned counts the events after the last checkpoint; CheckpointAge
	// is how old that checkpoint is.
	Unsigned      int64
	CheckpointAge time.Duration
	Keys          []SigningKey
	// Cursors: how far the syslog forwarder and the analysis went.
	Cursors map[string]int64
	// Export is the export's position and lag, when a directory is given.
	Export *ExportStatus
}

// ReadStatus reads the status of the journal in q and, if exportDir is not
// empty, of its export there.
func ReadStatus(ctx context.Context, q store.Querier, exportDir string, now time.Time) (Status, error) {
	const op = "audit: status"
	var st Status
	var err error
	if st.HeadSeq, _, err = Head(ctx, q); err != nil {
		return st, err
	}
	if st.HeadSeq > 0 {
		if err := q.QueryRowContext(ctx, sqlEventAt, st.HeadSeq, st.HeadSeq).Scan(&st.HeadAt); err != nil {
			return st, store.Classify(op, err)
		}
	}
	for _, x := range []struct {
		q   string
		dst *int64
	}{{sqlLiveFirst, &st.LiveFrom}, {sqlArchivedThrough, &st.ArchivedThrough}, {sqlCountArchived, &st.ArchivedEvents},
		{sqlCountLive, &st.LiveEvents}} {
		if err := q.QueryRowContext(ctx, x.q).Scan(x.dst); err != nil {
			return st, store.Classify(op, err)
		}
	}
	if st.LastCheckpoint, err = LastCheckpoint(ctx, q); err != nil {
		return st, err
	}
	st.Unsigned = st.HeadSeq
	if c := st.LastCheckpoint; c != nil {
		st.Unsigned = st.HeadSeq - c.Seq
		if t, err := store.ParseTime(c.At); err == nil {
			st.CheckpointAge = now.Sub(t)
		}
	}
	if st.Keys, err = Keys(ctx, q); err != nil {
		return st, err
	}
	if st.Cursors, err = Cursors(ctx, q); err != nil {
		return st, err
	}
	if exportDir != "" {
		es, err := ReadExportStatus(ctx, q, exportDir, now)
		if err != nil {
			return st, err
		}
		st.Export = &es
	}
	return st, nil
}
