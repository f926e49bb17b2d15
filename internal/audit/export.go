package audit

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/store"
)

// The export directory (AUD-5) stands for the backup site. It holds:
//
//	journal-<first seq, 16 digits>.jsonl   segments of JSON lines, in order
//	cursor.json                            how far the export went
//	.lock                                  held by the exporter while it writes
//
// Each line is one object whose first member "type" says what it is:
// "event" (a journal record, hashes in hex, details as the JSON object
// stored), "checkpoint" (a signed checkpoint, after the event it covers),
// or "key" (a checkpoint signing key, after the event that registered it).
// An export verifies alone (VerifyExport), and anchors the verification of
// the database it came from.

const (
	cursorFile     = "cursor.json"
	segmentPrefix  = "journal-"
	segmentSuffix  = ".jsonl"
	exportPageSize = 2000
)

// segmentMax is the number of events per segment; tests make it smaller.
var segmentMax int64 = 100_000

type exportEvent struct {
	Type       string          `json:"type"`
	Seq        int64           `json:"seq"`
	At         string          `json:"at"`
	Actor      string          `json:"actor"`
	Role       string          `json:"role"`
	Action     string          `json:"action"`
	Object     string          `json:"object"`
	Details    json.RawMessage `json:"details,omitempty"`
	DetailsRaw *string         `json:"details_raw,omitempty"` // details that are not compact JSON, as stored
	PrevHash   string          `json:"prev_hash"`
	Hash       string          `json:"hash"`
}

type exportCheckpoint struct {
	Type            string `json:"type"`
	ID              int64  `json:"id"`
	Seq             int64  `json:"seq"`
	Hash            string `json:"hash"`
	At              string `json:"at"`
	Kind            string `json:"kind"`
	ArchivedThrough int64  `json:"archived_through"`
	KeyID           string `json:"key_id"`
	PrevDigest      string `json:"prev_digest"`
	Signature       []byte `json:"signature"`
}

type exportKey struct {
	Type         string `json:"type"`
	KeyID        string `json:"key_id"`
	Algorithm    string `json:"algorithm"`
	PublicKey    []byte `json:"public_key"`
	Label        string `json:"label"`
	RegisteredAt string `json:"registered_at"`
	Seq          int64  `json:"seq"`
}

// ExportCursor is how far an export went; it is rewritten atomically after
// every durable batch, so an interrupted export resumes where it stopped.
type ExportCursor struct {
	Version       int    `json:"version"`
	Segment       string `json:"segment"`        // the segment being written
	Offset        int64  `json:"offset"`         // its durable length
	SegmentEvents int64  `json:"segment_events"` // events in it
	Seq           int64  `json:"seq"`            // the last exported event
	Hash          string `json:"hash"`           // its hash, hex
	At            string `json:"at"`             // its time
	Checkpoint    int64  `json:"checkpoint"`     // the last exported checkpoint
	UpdatedAt     string `json:"updated_at"`
}

// ReadExportCursor reads the cursor of the export in dir; a directory
// never exported to has the zero cursor.
func ReadExportCursor(dir string) (ExportCursor, error) {
	var c ExportCursor
	b, err := os.ReadFile(filepath.Join(dir, cursorFile))
	if errors.Is(err, fs.ErrNotExist) {
		return c, nil
	}
	if err != nil {
		return c, sceau.E(sceau.Unavailable, "audit: export", "cannot read the export cursor", err)
	}
	if err := json.Unmarshal(b, &c); err != nil || c.Version != 1 {
		return c, sceau.Errorf(sceau.Invalid, "audit: export", "the export cursor %s is damaged", filepath.Join(dir, cursorFile))
	}
	return c, nil
}

// Exporter copies the journal to a directory as JSON lines (AUD-5):
// events, checkpoints and keys, in order, resumable. One exporter writes
// to a directory at a time (a lock file says so).
type Exporter struct {
	db    store.Querier
	dir   string
	clock sceau.Clock
}

// NewExporter returns an exporter of the journal in db to dir.
func NewExporter(db store.Querier, dir string, clock sceau.Clock) *Exporter {
	return &Exporter{db: db, dir: dir, clock: sceau.ClockOr(clock)}
}

// Dir is the export directory.
func (e *Exporter) Dir() string { return e.dir }

// Export writes what the journal holds beyond the cursor and returns the
// number of events written. Each batch is made durable (fsync) before the
// cursor moves past it; a batch cut short is cut off the segment at the
// next run.
func (e *Exporter) Export(ctx context.Context) (int64, error) {
	const op = "audit: export"
	// Never start a new export over a lost one (an empty mount point).
	if err := CheckExportPresent(ctx, e.db, e.dir); err != nil {
		return 0, err
	}
	if err := mkdirExport(e.dir); err != nil {
		return 0, err
	}
	unlock, err := lockDir(e.dir)
	if err != nil {
		return 0, err
	}
	defer unlock()
	cur, err := ReadExportCursor(e.dir)
	if err != nil {
		return 0, err
	}
	// AUD-2, AUD-5: never write past a witness the database contradicts:
	// appending a rolled-back database's events after the export's own
	// would fork the evidence and hide the rollback.
	if err := CheckWitness(ctx, e.db, Witness{Source: "the export " + e.dir, Seq: cur.Seq, Hash: cur.Hash, Checkpoint: cur.Checkpoint}); err != nil {
		return 0, err
	}
	cur.Version = 1
	var seg *os.File
	defer func() {
		if seg != nil {
			seg.Close()
		}
	}()
	openSegment := func() error {
		if cur.Segment == "" {
			cur.Segment = segmentName(cur.Seq + 1)
			cur.Offset, cur.SegmentEvents = 0, 0
		}
		f, err := openSegmentAt(e.dir, cur.Segment, cur.Offset)
		seg = f
		return err
	}
	if err := openSegment(); err != nil {
		return 0, err
	}
	var total int64
	var line bytes.Buffer
	for {
		line.Reset()
		pos, err := WriteExportPage(ctx, e.db, &line, ExportPosition{Seq: cur.Seq, Hash: cur.Hash, At: cur.At, Checkpoint: cur.Checkpoint}, exportPageSize)
		if err != nil {
			return total, err
		}
		if line.Len() == 0 {
			return total, nil
		}
		if _, err := seg.Write(line.Bytes()); err != nil {
			return total, sceau.E(sceau.Unavailable, op, "cannot write the export segment", err)
		}
		if err := seg.Sync(); err != nil {
			return total, sceau.E(sceau.Unavailable, op, "cannot make the export durable (fsync)", err)
		}
		cur.Offset += int64(line.Len())
		cur.SegmentEvents += pos.Events
		total += pos.Events
		cur.Seq, cur.Hash, cur.At, cur.Checkpoint = pos.Seq, pos.Hash, pos.At, pos.Checkpoint
		cur.UpdatedAt = store.FormatTime(e.clock.Now())
		if err := writeCursor(e.dir, &cur); err != nil {
			return total, err
		}
		if err := recordExportMark(ctx, e.db, e.dir, cur.Seq, e.clock.Now()); err != nil {
			return total, err
		}
		if cur.SegmentEvents >= segmentMax {
			seg.Close()
			seg = nil
			cur.Segment = ""
			if err := openSegment(); err != nil {
				return total, err
			}
			if err := writeCursor(e.dir, &cur); err != nil {
				return total, err
			}
		}
		if err := ctx.Err(); err != nil {
			return total, sceau.E(sceau.Unavailable, op, "cancelled", err)
		}
	}
}

func segmentName(first int64) string {
	return fmt.Sprintf("%s%016d%s", segmentPrefix, first, segmentSuffix)
}

func mkdirExport(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return sceau.E(sceau.Unavailable, "audit: export", "cannot create the export directory "+dir, err)
	}
	return nil
}

// openSegmentAt opens a segment for writing at offset, cutting off what a
// run that was interrupted wrote past the cursor.
func openSegmentAt(dir, name string, offset int64) (*os.File, error) {
	const op = "audit: export"
	f, err := os.OpenFile(filepath.Join(dir, name), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, sceau.E(sceau.Unavailable, op, "cannot open the export segment", err)
	}
	if err := f.Truncate(offset); err != nil {
		f.Close()
		return nil, sceau.E(sceau.Unavailable, op, "cannot truncate the export segment", err)
	}
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		f.Close()
		return nil, sceau.E(sceau.Unavailable, op, "cannot seek in the export segment", err)
	}
	return f, nil
}

// appendSegment writes b at offset of a segment and makes it durable.
func appendSegment(dir, name string, offset int64, b []byte) error {
	f, err := openSegmentAt(dir, name, offset)
	if err != nil {
		return err
	}
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return sceau.E(sceau.Unavailable, "audit: export", "cannot write the export segment durably", err)
	}
	return nil
}

func checkpointsAfter(ctx context.Context, q store.Querier, id int64) ([]Checkpoint, error) {
	const op = "audit: export"
	rows, err := q.QueryContext(ctx, sqlCheckpointsAfter, id)
	if err != nil {
		return nil, store.Classify(op, err)
	}
	defer rows.Close()
	var out []Checkpoint
	for rows.Next() {
		c, err := scanCheckpoint(rows)
		if err != nil {
			return nil, store.Classify(op, err)
		}
		out = append(out, c)
	}
	return out, store.Classify(op, rows.Err())
}

func writeEventLine(w *bytes.Buffer, r *Record) {
	l := exportEvent{Type: "event", Seq: r.Seq, At: r.At, Actor: r.Actor, Role: r.Role, Action: r.Action, Object: r.Object,
		PrevHash: hex.EncodeToString(r.PrevHash), Hash: hex.EncodeToString(r.Hash)}
	if isCompactJSON(r.Details) {
		l.Details = json.RawMessage(r.Details)
	} else {
		l.DetailsRaw = &r.Details
	}
	writeLine(w, l)
}

func writeCheckpointLine(w *bytes.Buffer, c *Checkpoint) {
	writeLine(w, exportCheckpoint{Type: "checkpoint", ID: c.ID, Seq: c.Seq, Hash: hex.EncodeToString(c.Hash), At: c.At, Kind: c.Kind,
		ArchivedThrough: c.ArchivedThrough, KeyID: c.KeyID, PrevDigest: hex.EncodeToString(c.PrevDigest), Signature: c.Signature})
}

func writeKeyLine(w *bytes.Buffer, k *SigningKey) {
	writeLine(w, exportKey{Type: "key", KeyID: k.ID, Algorithm: k.Algorithm, PublicKey: k.DER, Label: k.Label,
		RegisteredAt: k.RegisteredAt, Seq: k.Seq})
}

func writeLine(w *bytes.Buffer, v any) {
	enc := json.NewEncoder(w) // Encode ends the line
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v) // our own types always encode
}

// isCompactJSON reports whether s is valid JSON that an encoder writes
// back byte for byte, so it can be embedded in an export line and still
// hash as stored.
func isCompactJSON(s string) bool {
	if !json.Valid([]byte(s)) {
		return false
	}
	var b bytes.Buffer
	if err := json.Compact(&b, []byte(s)); err != nil {
		return false
	}
	return b.String() == s
}

func writeCursor(dir string, c *ExportCursor) error {
	const op = "audit: export"
	b, _ := json.MarshalIndent(c, "", "  ")
	tmp := filepath.Join(dir, cursorFile+".tmp")
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return sceau.E(sceau.Unavailable, op, "cannot write the export cursor", err)
	}
	_, err = f.Write(append(b, '\n'))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, filepath.Join(dir, cursorFile))
	}
	if err == nil {
		err = syncDir(dir)
	}
	if err != nil {
		return sceau.E(sceau.Unavailable, op, "cannot write the export cursor", err)
	}
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, os.ErrInvalid) {
		return err
	}
	return nil
}

// ExportStatus is where an export stands against the journal (AUD-5: its
// lag is visible).
type ExportStatus struct {
	Dir        string
	Cursor     ExportCursor
	HeadSeq    int64         // the journal's last event
	LagEvents  int64         // events not exported yet
	Lag        time.Duration // age of the oldest event not exported yet
	Checkpoint int64         // the last exported checkpoint
}

// ReadExportStatus compares the export in dir with the journal in q.
func ReadExportStatus(ctx context.Context, q store.Querier, dir string, now time.Time) (ExportStatus, error) {
	st := ExportStatus{Dir: dir}
	cur, err := ReadExportCursor(dir)
	if err != nil {
		return st, err
	}
	st.Cursor, st.Checkpoint = cur, cur.Checkpoint
	head, _, err := Head(ctx, q)
	if err != nil {
		return st, err
	}
	st.HeadSeq = head
	if head > cur.Seq {
		st.LagEvents = head - cur.Seq
		var at string
		if err := q.QueryRowContext(ctx, sqlEventAt, cur.Seq+1, cur.Seq+1).Scan(&at); err == nil {
			if t, err := store.ParseTime(at); err == nil && now.After(t) {
				st.Lag = now.Sub(t)
			}
		}
	}
	return st, nil
}

// segments lists the segment files of an export, in order.
func segments(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, sceau.E(sceau.NotFound, "audit: export", "cannot read the export directory "+dir, err)
	}
	var out []string
	for _, e := range entries {
		if n := e.Name(); strings.HasPrefix(n, segmentPrefix) && strings.HasSuffix(n, segmentSuffix) && !e.IsDir() {
			out = append(out, filepath.Join(dir, n))
		}
	}
	slices.Sort(out)
	return out, nil
}

// scanExport calls fn with every line of the export in order, stopping at
// the cursor's offset in its segment: what lies beyond was never made
// durable and is not part of the export.
func scanExport(dir string, fn func(line []byte) error) error {
	const op = "audit: read export"
	cur, err := ReadExportCursor(dir)
	if err != nil {
		return err
	}
	segs, err := segments(dir)
	if err != nil {
		return err
	}
	for _, path := range segs {
		f, err := os.Open(path)
		if err != nil {
			return sceau.E(sceau.Unavailable, op, "cannot open "+path, err)
		}
		var r io.Reader = f
		if filepath.Base(path) == cur.Segment {
			r = io.LimitReader(f, cur.Offset)
		}
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
		for sc.Scan() {
			if err := fn(sc.Bytes()); err != nil {
				f.Close()
				return err
			}
		}
		err = sc.Err()
		f.Close()
		if err != nil {
			return sceau.E(sceau.Unavailable, op, "cannot read "+path, err)
		}
	}
	return nil
}

func lineType(line []byte) string {
	var t struct {
		Type string `json:"type"`
	}
	// The type comes first; decoding the whole line is the fallback.
	for _, k := range []string{"event", "checkpoint", "key"} {
		if bytes.HasPrefix(line, []byte(`{"type":"`+k+`"`)) {
			return k
		}
	}
	if json.Unmarshal(line, &t) != nil {
		return ""
	}
	return t.Type
}

// VerifyExport verifies the export in dir as VerifyWith verifies a
// database: its chain from event 1, its checkpoints and their signatures.
// It also returns the export's Anchor, to verify the database against.
func VerifyExport(ctx context.Context, dir string, opts VerifyOptions) (VerifyResult, *Anchor, error) {
	const op = "audit: verify export"
	cur, err := ReadExportCursor(dir)
	if err != nil {
		return VerifyResult{}, nil, err
	}
	if cur.Segment == "" {
		return VerifyResult{}, nil, sceau.Errorf(sceau.NotFound, op, "%s holds no export (no %s)", dir, cursorFile)
	}
	// Pass 1: keys and checkpoints.
	var (
		keys []SigningKey
		cps  []Checkpoint
		bad  error
	)
	lineNo := 0
	err = scanExport(dir, func(line []byte) error {
		lineNo++
		switch lineType(line) {
		case "key":
			var k exportKey
			if err := json.Unmarshal(line, &k); err != nil {
				return sceau.Errorf(sceau.Invalid, op, "line %d: a key line cannot be read", lineNo)
			}
			pub, err := ParseSigningKey(k.KeyID, k.PublicKey)
			if err != nil && bad == nil {
				bad = err
			}
			keys = append(keys, SigningKey{ID: k.KeyID, Algorithm: k.Algorithm, DER: k.PublicKey, Label: k.Label,
				RegisteredAt: k.RegisteredAt, Seq: k.Seq, Public: pub})
		case "checkpoint":
			var c exportCheckpoint
			if err := json.Unmarshal(line, &c); err != nil {
				return sceau.Errorf(sceau.Invalid, op, "line %d: a checkpoint line cannot be read", lineNo)
			}
			cp := Checkpoint{ID: c.ID, Seq: c.Seq, At: c.At, Kind: c.Kind, ArchivedThrough: c.ArchivedThrough,
				KeyID: c.KeyID, Signature: c.Signature}
			cp.Hash, _ = hex.DecodeString(c.Hash)
			cp.PrevDigest, _ = hex.DecodeString(c.PrevDigest)
			cps = append(cps, cp)
		case "event":
		default:
			return sceau.Errorf(sceau.Invalid, op, "line %d is not an export line", lineNo)
		}
		return nil
	})
	if err != nil {
		return VerifyResult{}, nil, err
	}
	v := newVerifier(opts)
	v.total = cur.Seq
	v.load(keys, cps)
	if bad != nil {
		v.res.Warnings = append(v.res.Warnings, bad.Error())
	}
	// Pass 2: events.
	var (
		ev       exportEvent
		prevHash []byte
		hash     []byte
	)
	lineNo = 0
	st := v.newStream(0)
	st.progress = true
	errStop := errors.New("stop")
	err = scanExport(dir, func(line []byte) error {
		lineNo++
		if lineType(line) != "event" {
			return nil
		}
		ev = exportEvent{}
		if err := json.Unmarshal(line, &ev); err != nil {
			return sceau.Errorf(sceau.Invalid, op, "line %d: an event line cannot be read", lineNo)
		}
		details := []byte(ev.Details)
		if ev.DetailsRaw != nil {
			details = []byte(*ev.DetailsRaw)
		}
		prevHash, _ = hex.AppendDecode(prevHash[:0], []byte(ev.PrevHash))
		hash, _ = hex.AppendDecode(hash[:0], []byte(ev.Hash))
		st.event(ev.Seq, []byte(ev.At), []byte(ev.Actor), []byte(ev.Role), []byte(ev.Action), []byte(ev.Object), details, prevHash, hash, false)
		if st.stopped {
			return errStop
		}
		if lineNo&0xfff == 0 {
			return ctx.Err()
		}
		return nil
	})
	if err != nil && !errors.Is(err, errStop) {
		return v.res, nil, err
	}
	if !st.stopped && st.last < cur.Seq {
		st.breakAt(st.last+1, fmt.Sprintf("the export's cursor says event %d, its files end at event %d", cur.Seq, st.last))
	}
	v.finish(st)
	a := &Anchor{Seq: v.res.HeadSeq, Hash: v.res.HeadHash, Checkpoint: v.res.LastCheckpoint}
	for id := range v.trusted {
		a.Keys = append(a.Keys, id)
	}
	slices.Sort(a.Keys)
	return v.res, a, nil
}
