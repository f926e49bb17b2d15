package continuity_test

import (
	"time"

	"context"
	"path/filepath"
	"strings"
	"testing"

	"filippo.io/age"

	"github.com/sceau/sceau/internal/continuity"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/sceautest"
)

// TestCONT1_S3TargetHoldsBackupsWholeAndNeverOverwrites: a backup goes to
// an S3-compatible bucket (s3rver) with its manifest, lists, comes back
// verified, is never overwritten; a bucket that is down is reported.
func TestCONT1_S3TargetHoldsBackupsWholeAndNeverOverwrites(t *testing.T) {
	ctx := context.Background()
	endpoint := sceautest.StartS3rver(t, "second-site")
	f := newFixture(t, sceautest.OpenSQLite(t))
	s3, err := continuity.NewS3(continuity.S3Options{Endpoint: endpoint, Bucket: "second-site", Prefix: "sceau/", AccessKey: "S3RVER", SecretKey: "S3RVER"})
	if err != nil {
		t.Fatal(err)
	}
	// One instant for both creates: the name is the time to the second,
	// and the second one must meet the first's object.
	f.opts.Clock = sceautest.NewClock(time.Now())
	res, err := continuity.Create(ctx, s3, f.opts)
	if err != nil {
		t.Fatal(err)
	}
	names, err := continuity.Backups(ctx, s3)
	if err != nil || len(names) != 1 || names[0] != res.Name {
		t.Fatalf("Backups: %v %v", names, err)
	}
	o, err := continuity.Extract(ctx, s3, res.Name, []age.Identity{f.id}, filepath.Join(t.TempDir(), "stage"))
	if err != nil {
		t.Fatal(err)
	}
	if o.Manifest.JournalSeq != res.Manifest.JournalSeq || o.Bytes != res.Bytes {
		t.Errorf("from the bucket: %+v, %d bytes; written %d", o.Manifest, o.Bytes, res.Bytes)
	}
	if _, err := continuity.Create(ctx, s3, f.opts); sceau.KindOf(err) != sceau.Conflict {
		t.Errorf("a second backup of the same name: %v", err)
	}
	down, _ := continuity.NewS3(continuity.S3Options{Endpoint: "http://127.0.0.1:1", Bucket: "second-site", AccessKey: "S3RVER", SecretKey: "S3RVER"})
	if _, err := continuity.Create(ctx, down, f.opts); sceau.KindOf(err) != sceau.Unavailable || !strings.Contains(err.Error(), "earlier backups are untouched") {
		t.Errorf("a bucket that is down: %v", err)
	}
}
