package audit

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"strings"
	"time"

	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/store"
)

// Filter selects journal events for reading (AUD-3). Empty fields select
// everything.
type Filter struct {
	After  int64  // events with seq > After
	Limit  int    // at most this many (default 100, at most MaxPage)
	Action string // action starts with this ("certificate.", "login.failed")
	Actor  string // actor is exactly this
	Role   string // role is exactly this
	Object string // object starts with this ("certificate:5f2a")
	Since  time.Time
	Until  time.Time // excluded
}

// MaxPage bounds the events of one Search answer.
const MaxPage = 1000

// searchScan bounds the events one Search looks at, so that a filter that
// matches nothing does not walk the whole journal in one request; the
// answer's Next says where to go on.
const searchScan = 50_000

// Page is an answer of Search.
type Page struct {
	Events []Record
	// Next is the sequence number to give as After to go on; More says
	// whether the journal holds events after it.
	Next int64
	More bool
}

// Search returns the events after f.After that match f, in order.
func Search(ctx context.Context, q store.Querier, f Filter) (Page, error) {
	if f.Limit <= 0 {
		f.Limit = 100
	}
	f.Limit = min(f.Limit, MaxPage)
	var since, until string
	if !f.Since.IsZero() {
		since = store.FormatTime(f.Since)
	}
	if !f.Until.IsZero() {
		until = store.FormatTime(f.Until)
	}
	p := Page{Next: f.After}
	for scanned := 0; scanned < searchScan; {
		recs, err := Read(ctx, q, p.Next, 1000)
		if err != nil {
			return p, err
		}
		if len(recs) == 0 {
			return p, nil
		}
		scanned += len(recs)
		for i := range recs {
			r := &recs[i]
			p.Next = r.Seq
			// store.FormatTime is fixed width, so times compare as strings.
			if strings.HasPrefix(r.Action, f.Action) && strings.HasPrefix(r.Object, f.Object) &&
				(f.Actor == "" || r.Actor == f.Actor) && (f.Role == "" || r.Role == f.Role) &&
				(since == "" || r.At >= since) && (until == "" || r.At < until) {
				p.Events = append(p.Events, *r)
				if len(p.Events) == f.Limit {
					p.More = i < len(recs)-1 || len(recs) == 1000
					return p, nil
				}
			}
		}
		if len(recs) < 1000 {
			return p, nil
		}
		p.More = true
	}
	return p, nil
}

// ReadEvent returns event seq, from the archive or the live journal.
func ReadEvent(ctx context.Context, q store.Querier, seq int64) (Record, error) {
	recs, err := Read(ctx, q, seq-1, 1)
	if err != nil {
		return Record{}, err
	}
	if len(recs) == 0 || recs[0].Seq != seq {
		return Record{}, sceau.Errorf(sceau.NotFound, "audit: read", "the journal holds no event %d", seq)
	}
	return recs[0], nil
}

// Search returns the events that match f (OpRead).
func (g Guard) Search(ctx context.Context, actor sceau.Actor, f Filter) (Page, error) {
	if err := g.check(ctx, actor, OpRead); err != nil {
		return Page{}, err
	}
	return Search(ctx, g.DB, f)
}

// Event returns event seq (OpRead).
func (g Guard) Event(ctx context.Context, actor sceau.Actor, seq int64) (Record, error) {
	if err := g.check(ctx, actor, OpRead); err != nil {
		return Record{}, err
	}
	return ReadEvent(ctx, g.DB, seq)
}

// ExportPage writes to w, as export lines (the format of the export
// directory), the events after seq, at most limit, with the keys they
// register and the checkpoints after checkpoint that cover them, and
// returns the position reached (OpExport). A client that writes the lines
// it receives with AppendExport to a directory, and asks again from the
// position reached, holds an export that VerifyExport checks (AUD-5).
func (g Guard) ExportPage(ctx context.Context, actor sceau.Actor, w *bytes.Buffer, seq, checkpoint int64, limit int) (ExportPosition, error) {
	if err := g.check(ctx, actor, OpExport); err != nil {
		return ExportPosition{}, err
	}
	return WriteExportPage(ctx, g.DB, w, ExportPosition{Seq: seq, Checkpoint: checkpoint}, limit)
}

// ExportPosition is how far a run of export lines goes: the last event,
// its hash and time, and the last checkpoint.
type ExportPosition struct {
	Seq        int64  `json:"seq"`
	Hash       string `json:"hash,omitempty"`
	At         string `json:"at,omitempty"`
	Checkpoint int64  `json:"checkpoint"`
	Events     int64  `json:"events"` // events written in this run
}

// WriteExportPage writes the export lines that follow from: at most limit
// events after from.Seq, the key lines after the events that register
// them, and the checkpoints after from.Checkpoint that cover events up to
// the last one written, each after the event it covers. It is the unit of
// every export: the directory, object storage and the admin API.
func WriteExportPage(ctx context.Context, q store.Querier, w *bytes.Buffer, from ExportPosition, limit int) (ExportPosition, error) {
	pos := from
	pos.Events = 0
	recs, err := Read(ctx, q, from.Seq, limit)
	if err != nil {
		return pos, err
	}
	cps, err := checkpointsAfter(ctx, q, from.Checkpoint)
	if err != nil {
		return pos, err
	}
	var keyAt map[int64]*SigningKey
	next := 0
	flush := func(upTo int64) {
		for next < len(cps) && cps[next].Seq <= upTo {
			writeCheckpointLine(w, &cps[next])
			pos.Checkpoint = cps[next].ID
			next++
		}
	}
	flush(pos.Seq)
	for i := range recs {
		r := &recs[i]
		writeEventLine(w, r)
		if r.Action == ActionKeyRegistered {
			if keyAt == nil {
				keys, err := Keys(ctx, q)
				if err != nil {
					return from, err
				}
				keyAt = map[int64]*SigningKey{}
				for i := range keys {
					keyAt[keys[i].Seq] = &keys[i]
				}
			}
			if k := keyAt[r.Seq]; k != nil {
				writeKeyLine(w, k)
			}
		}
		pos.Seq, pos.Hash, pos.At = r.Seq, hex.EncodeToString(r.Hash), r.At
		pos.Events++
		flush(pos.Seq)
	}
	return pos, nil
}

// AppendExport appends export lines received from elsewhere (the admin
// API) to the export directory dir and moves its cursor, as the exporter
// does: the lines must follow the cursor (the next event, the next
// checkpoint), and they are made durable before the cursor moves. It
// returns the number of events appended.
func AppendExport(dir string, lines []byte, now time.Time) (int64, error) {
	const op = "audit: export"
	if len(lines) == 0 {
		return 0, nil
	}
	if lines[len(lines)-1] != '\n' {
		return 0, sceau.Errorf(sceau.Invalid, op, "the export lines are cut short")
	}
	if err := mkdirExport(dir); err != nil {
		return 0, err
	}
	unlock, err := lockDir(dir)
	if err != nil {
		return 0, err
	}
	defer unlock()
	cur, err := ReadExportCursor(dir)
	if err != nil {
		return 0, err
	}
	cur.Version = 1
	// Check that the lines follow the cursor before writing any.
	var n int64
	seq, cp := cur.Seq, cur.Checkpoint
	hash, at := cur.Hash, cur.At
	for rest := lines; len(rest) > 0; {
		i := bytes.IndexByte(rest, '\n')
		line := rest[:i]
		rest = rest[i+1:]
		var pos struct {
			Seq  int64  `json:"seq"`
			ID   int64  `json:"id"`
			Hash string `json:"hash"`
			At   string `json:"at"`
		}
		switch lineType(line) {
		case "event":
			if err := json.Unmarshal(line, &pos); err != nil || pos.Seq != seq+1 {
				return 0, sceau.Errorf(sceau.Conflict, op, "the lines do not continue the export: event %d after event %d", pos.Seq, seq)
			}
			seq, hash, at = pos.Seq, pos.Hash, pos.At
			n++
		case "checkpoint":
			if err := json.Unmarshal(line, &pos); err != nil || pos.ID != cp+1 {
				return 0, sceau.Errorf(sceau.Conflict, op, "the lines do not continue the export: checkpoint %d after checkpoint %d", pos.ID, cp)
			}
			cp = pos.ID
		case "key":
		default:
			return 0, sceau.Errorf(sceau.Invalid, op, "a line is not an export line")
		}
	}
	if cur.Segment == "" || cur.SegmentEvents >= segmentMax {
		cur.Segment = segmentName(cur.Seq + 1)
		cur.Offset, cur.SegmentEvents = 0, 0
	}
	if err := appendSegment(dir, cur.Segment, cur.Offset, lines); err != nil {
		return 0, err
	}
	cur.Offset += int64(len(lines))
	cur.SegmentEvents += n
	cur.Seq, cur.Checkpoint, cur.Hash, cur.At = seq, cp, hash, at
	cur.UpdatedAt = store.FormatTime(now)
	return n, writeCursor(dir, &cur)
}
