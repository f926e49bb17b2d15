package audit

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/store"
)

// The object storage export (AUD-5: "S3-compatible object storage where
// configured") puts the journal in a bucket as the export directory holds
// it, in objects that are written once:
//
//	<prefix>journal-<part, 8 digits>-<first event, 16 digits>.jsonl
//	<prefix>cursor.json
//
// Part n holds the export lines after those of parts 1..n-1 (events,
// checkpoints, keys; see WriteExportPage). cursor.json says how many parts
// there are and where they end; it is written after the part it counts, so
// a run that stops between the two writes part n again, under the same
// name, at the next run. The database keeps a copy of the position (cursor
// "object-store"), so that the lag shows in `sceau audit status` without a
// request to the store.

// ObjectStore is what the object storage export needs of a bucket.
type ObjectStore interface {
	// Put writes an object whole.
	Put(ctx context.Context, key string, body []byte, contentType string) error
	// Get reads an object; a missing one is sceau.NotFound.
	Get(ctx context.Context, key string) ([]byte, error)
}

// ObjectCursor is the object storage export's position, in cursor.json.
type ObjectCursor struct {
	Version    int    `json:"version"`
	Parts      int64  `json:"parts"`      // parts written: 1..Parts
	Seq        int64  `json:"seq"`        // the last exported event
	Hash       string `json:"hash"`       // its hash, hex
	At         string `json:"at"`         // its time
	Checkpoint int64  `json:"checkpoint"` // the last exported checkpoint
	UpdatedAt  string `json:"updated_at"`
}

const (
	objectCursor       = "cursor.json"
	cursorObjectExport = "object-store"
)

// partName is the key of part n, whose first line follows event seq.
func partName(prefix string, n, seq int64) string {
	return fmt.Sprintf("%sjournal-%08d-%016d.jsonl", prefix, n, seq+1)
}

// ObjectExporter copies the journal to object storage (AUD-5).
type ObjectExporter struct {
	db     *store.DB
	st     ObjectStore
	prefix string
	clock  sceau.Clock
}

// NewObjectExporter returns an exporter of the journal in db to st, under
// prefix ("sceau-audit/").
func NewObjectExporter(db *store.DB, st ObjectStore, prefix string, clock sceau.Clock) *ObjectExporter {
	return &ObjectExporter{db: db, st: st, prefix: prefix, clock: sceau.ClockOr(clock)}
}

// ReadObjectCursor reads the export's cursor from the store; an empty
// bucket has the zero cursor.
func ReadObjectCursor(ctx context.Context, st ObjectStore, prefix string) (ObjectCursor, error) {
	var c ObjectCursor
	b, err := st.Get(ctx, prefix+objectCursor)
	if sceau.KindOf(err) == sceau.NotFound {
		return ObjectCursor{Version: 1}, nil
	}
	if err != nil {
		return c, err
	}
	if err := json.Unmarshal(b, &c); err != nil || c.Version != 1 {
		return c, sceau.Errorf(sceau.Invalid, "audit: object export", "the object %s%s is damaged", prefix, objectCursor)
	}
	return c, nil
}

// Export writes what the journal holds beyond the store's cursor, one part
// per page, and returns the number of events written.
func (x *ObjectExporter) Export(ctx context.Context) (int64, error) {
	const op = "audit: object export"
	cur, err := ReadObjectCursor(ctx, x.st, x.prefix)
	if err != nil {
		return 0, err
	}
	// AUD-2, AUD-5: as for the directory export, never past a witness
	// the database contradicts.
	if err := CheckWitness(ctx, x.db, Witness{Source: "the object store export " + x.prefix, Seq: cur.Seq, Hash: cur.Hash, Checkpoint: cur.Checkpoint}); err != nil {
		return 0, err
	}
	var total int64
	var buf bytes.Buffer
	for {
		buf.Reset()
		pos, err := WriteExportPage(ctx, x.db, &buf, ExportPosition{Seq: cur.Seq, Hash: cur.Hash, At: cur.At, Checkpoint: cur.Checkpoint}, exportPageSize)
		if err != nil {
			return total, err
		}
		if buf.Len() == 0 {
			return total, nil
		}
		if err := x.st.Put(ctx, partName(x.prefix, cur.Parts+1, cur.Seq), buf.Bytes(), "application/x-ndjson"); err != nil {
			return total, err
		}
		cur.Parts++
		cur.Seq, cur.Hash, cur.At, cur.Checkpoint = pos.Seq, pos.Hash, pos.At, pos.Checkpoint
		cur.UpdatedAt = store.FormatTime(x.clock.Now())
		b, _ := json.MarshalIndent(cur, "", "  ")
		if err := x.st.Put(ctx, x.prefix+objectCursor, append(b, '\n'), "application/json"); err != nil {
			return total, err
		}
		total += pos.Events
		if err := x.db.InTx(ctx, func(tx *store.Tx) error {
			if _, err := tx.ExecContext(ctx, sqlCursorCreate, cursorObjectExport, cur.UpdatedAt); err != nil {
				return store.Classify(op, err)
			}
			return setCursor(ctx, tx, cursorObjectExport, cur.Seq, x.clock.Now())
		}); err != nil {
			return total, err
		}
		if err := ctx.Err(); err != nil {
			return total, sceau.E(sceau.Unavailable, op, "cancelled", err)
		}
	}
}

// FetchObjects copies the object storage export under prefix into dir, a
// new export directory, so that VerifyExport checks what the bucket holds.
// It returns the number of events copied.
func FetchObjects(ctx context.Context, st ObjectStore, prefix, dir string) (int64, error) {
	if dc, err := ReadExportCursor(dir); err != nil || dc.Segment != "" {
		return 0, sceau.Errorf(sceau.Invalid, "audit: object export", "%s holds an export already: fetch into a new directory", dir)
	}
	oc, err := ReadObjectCursor(ctx, st, prefix)
	if err != nil {
		return 0, err
	}
	var total int64
	for part := int64(1); part <= oc.Parts; part++ {
		dc, err := ReadExportCursor(dir)
		if err != nil {
			return total, err
		}
		name := partName(prefix, part, dc.Seq)
		b, err := st.Get(ctx, name)
		if err != nil {
			return total, err
		}
		n, err := AppendExport(dir, b, time.Now())
		if err != nil {
			return total, fmt.Errorf("audit: object %s: %w", name, err)
		}
		total += n
	}
	return total, nil
}

// S3 is a client of an S3-compatible object store: path-style requests
// (https://endpoint/bucket/key) signed with AWS Signature Version 4. It
// does only what the export needs: PUT and GET of whole objects.
//
// Security caveat: the secret key stays in memory for the life of the
// client; give it a key that may only put and get objects under the
// export's prefix.
type S3 struct {
	Endpoint  string // scheme and host, e.g. https://s3.example.org:9000
	Region    string // default us-east-1
	Bucket    string
	AccessKey string
	SecretKey string
	Client    *http.Client // nil: a client with a 60s timeout
	Clock     sceau.Clock  // nil: the real clock
}

var _ ObjectStore = (*S3)(nil)

// Put implements ObjectStore.
func (s *S3) Put(ctx context.Context, key string, body []byte, contentType string) error {
	_, err := s.do(ctx, http.MethodPut, key, body, contentType)
	return err
}

// Get implements ObjectStore.
func (s *S3) Get(ctx context.Context, key string) ([]byte, error) {
	return s.do(ctx, http.MethodGet, key, nil, "")
}

func (s *S3) do(ctx context.Context, method, key string, body []byte, contentType string) ([]byte, error) {
	const op = "audit: object store"
	u, err := url.Parse(strings.TrimSuffix(s.Endpoint, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, sceau.Errorf(sceau.Invalid, op, "endpoint %q is not an http(s) URL", s.Endpoint)
	}
	path := "/" + s.Bucket + "/" + key
	req, err := http.NewRequestWithContext(ctx, method, u.Scheme+"://"+u.Host+s3Escape(path), bytes.NewReader(body))
	if err != nil {
		return nil, sceau.E(sceau.Invalid, op, "", err)
	}
	if body == nil {
		req.Body, req.ContentLength = http.NoBody, 0
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	region := s.Region
	if region == "" {
		region = "us-east-1"
	}
	signS3(req, body, s.AccessKey, s.SecretKey, region, sceau.ClockOr(s.Clock).Now())
	c := s.Client
	if c == nil {
		c = &http.Client{Timeout: 60 * time.Second}
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, sceau.E(sceau.Unavailable, op, "cannot reach "+u.Host, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<30))
	if err != nil {
		return nil, sceau.E(sceau.Unavailable, op, "cannot read the answer of "+u.Host, err)
	}
	switch {
	case resp.StatusCode == http.StatusNotFound:
		return nil, sceau.Errorf(sceau.NotFound, op, "%s %s: no such object", method, key)
	case resp.StatusCode/100 != 2:
		return nil, sceau.Errorf(sceau.Unavailable, op, "%s %s: %s: %s", method, key, resp.Status, s3Error(b))
	}
	return b, nil
}

// s3Error extracts the code and message of an S3 error document.
func s3Error(b []byte) string {
	s := string(b)
	pick := func(tag string) string {
		_, rest, ok := strings.Cut(s, "<"+tag+">")
		v, _, ok2 := strings.Cut(rest, "</"+tag+">")
		if ok && ok2 {
			return v
		}
		return ""
	}
	if c := pick("Code"); c != "" {
		return c + " " + pick("Message")
	}
	return "no error document"
}

// s3Escape encodes a path as Signature V4 wants it: every byte but the
// unreserved characters and '/' percent-encoded.
func s3Escape(p string) string {
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		c := p[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' || c == '/' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// signS3 adds the x-amz-date, x-amz-content-sha256 and Authorization
// headers of AWS Signature Version 4 to req, signing every header it
// carries besides User-Agent, Accept-Encoding and Content-Length.
func signS3(req *http.Request, body []byte, accessKey, secretKey, region string, now time.Time) {
	sum := sha256.Sum256(body)
	payload := hex.EncodeToString(sum[:])
	amzDate := now.UTC().Format("20060102T150405Z")
	date := amzDate[:8]
	req.Header.Set("X-Amz-Date", amzDate)
	req.Header.Set("X-Amz-Content-Sha256", payload)

	headers := map[string]string{"host": req.URL.Host}
	for k, v := range req.Header {
		switch lk := strings.ToLower(k); lk {
		case "user-agent", "accept-encoding", "content-length", "authorization":
		default:
			headers[lk] = strings.Join(v, ",")
		}
	}
	names := make([]string, 0, len(headers))
	for k := range headers {
		names = append(names, k)
	}
	sort.Strings(names)
	var canon strings.Builder
	for _, k := range names {
		canon.WriteString(k + ":" + strings.Join(strings.Fields(headers[k]), " ") + "\n")
	}
	signed := strings.Join(names, ";")
	path := req.URL.EscapedPath()
	if path == "" {
		path = "/"
	}
	query := canonicalQuery(req.URL.Query())
	creq := strings.Join([]string{req.Method, path, query, canon.String(), signed, payload}, "\n")
	scope := date + "/" + region + "/s3/aws4_request"
	h := sha256.Sum256([]byte(creq))
	toSign := "AWS4-HMAC-SHA256\n" + amzDate + "\n" + scope + "\n" + hex.EncodeToString(h[:])
	key := hmacSHA256([]byte("AWS4"+secretKey), date)
	for _, part := range []string{region, "s3", "aws4_request"} {
		key = hmacSHA256(key, part)
	}
	sig := hex.EncodeToString(hmacSHA256(key, toSign))
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential="+accessKey+"/"+scope+", SignedHeaders="+signed+", Signature="+sig)
}

func canonicalQuery(q url.Values) string {
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		vs := append([]string(nil), q[k]...)
		sort.Strings(vs)
		for _, v := range vs {
			parts = append(parts, s3Escape(k)+"="+strings.ReplaceAll(s3Escape(v), "/", "%2F"))
		}
	}
	return strings.Join(parts, "&")
}

func hmacSHA256(key []byte, msg string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(msg))
	return m.Sum(nil)
}
