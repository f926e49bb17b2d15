package audit_test

import (
	"context"
	"crypto"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sceau/sceau/internal/audit"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/sceautest"
)

// s3rver starts s3rver with one bucket (sceautest.StartS3rver).
func s3rver(t *testing.T, bucket string) string { return sceautest.StartS3rver(t, bucket) }

// failingCursor fails the first write of cursor.json, as a crash between
// a part and its cursor would.
type failingCursor struct {
	audit.ObjectStore
	failed bool
}

func (f *failingCursor) Put(ctx context.Context, key string, body []byte, ct string) error {
	if strings.HasSuffix(key, "cursor.json") && !f.failed {
		f.failed = true
		return sceau.Errorf(sceau.Unavailable, "test", "the store went away")
	}
	return f.ObjectStore.Put(ctx, key, body, ct)
}

// AUD-5: the journal goes to S3-compatible object storage, with its
// checkpoints and keys, in parts that resume after an interruption; the
// bucket's copy verifies alone, and the position shows in the status.
// Tested against s3rver, a separate S3-compatible server.
func TestAUD5_ObjectStorageExportToAnS3CompatibleServer(t *testing.T) {
	ctx := context.Background()
	endpoint := s3rver(t, "sceau-audit")
	db := sceautest.OpenSQLite(t)
	j := audit.NewJournal(nil)
	signer := newSigner(t)
	cp := checkpointer(t, db, j, signer)
	appendN(t, db, j, 2500, testActor, audit.ActionCertificateIssued, "certificate:1")
	if _, err := cp.Checkpoint(ctx, audit.KindPeriodic); err != nil {
		t.Fatal(err)
	}

	// An unknown access key is refused. (s3rver checks the key and the
	// request's form but not Version 4 signatures themselves:
	// TestAUD5_SignatureV4MatchesTheAWSExample checks those.)
	bad := &audit.S3{Endpoint: endpoint, Bucket: "sceau-audit", AccessKey: "NOT-A-KEY", SecretKey: "S3RVER"}
	if err := bad.Put(ctx, "probe", []byte("x"), "text/plain"); err == nil || !strings.Contains(err.Error(), "InvalidAccessKeyId") {
		t.Fatalf("a request with an unknown access key: %v", err)
	}
	s3 := &audit.S3{Endpoint: endpoint, Bucket: "sceau-audit", AccessKey: "S3RVER", SecretKey: "S3RVER"}
	if _, err := s3.Get(ctx, "sceau/none"); sceau.KindOf(err) != sceau.NotFound {
		t.Fatalf("Get of a missing object: %v, want not found", err)
	}

	// Interrupted after its first part, then resumed.
	flaky := &failingCursor{ObjectStore: s3}
	if _, err := audit.NewObjectExporter(db, flaky, "sceau/", nil).Export(ctx); err == nil {
		t.Fatal("Export succeeded although the cursor could not be written")
	}
	x := audit.NewObjectExporter(db, s3, "sceau/", nil)
	if n, err := x.Export(ctx); err != nil || n != 2501 {
		t.Fatalf("Export = %d, %v; want 2501 events", n, err)
	}
	appendN(t, db, j, 10, testActor, audit.ActionCertificateRevoked, "certificate:1")
	if _, err := cp.Checkpoint(ctx, audit.KindFinal); err != nil {
		t.Fatal(err)
	}
	if n, err := x.Export(ctx); err != nil || n != 10 {
		t.Fatalf("second Export = %d, %v; want 10", n, err)
	}
	oc, err := audit.ReadObjectCursor(ctx, s3, "sceau/")
	if err != nil || oc.Parts != 3 || oc.Seq != 2511 || oc.Checkpoint != 2 {
		t.Fatalf("cursor %+v, %v; want 3 parts through event 2511 and checkpoint 2", oc, err)
	}
	st, err := audit.ReadStatus(ctx, db, "", time.Now())
	if err != nil || st.Cursors["object-store"] != st.HeadSeq {
		t.Errorf("status cursors %v (head %d), %v: the object storage position is not visible", st.Cursors, st.HeadSeq, err)
	}

	// The bucket's copy verifies alone, with the key pinned.
	dir := filepath.Join(t.TempDir(), "fetched")
	if n, err := audit.FetchObjects(ctx, s3, "sceau/", dir); err != nil || n != 2511 {
		t.Fatalf("FetchObjects = %d, %v", n, err)
	}
	res, anchor, err := audit.VerifyExport(ctx, dir, audit.VerifyOptions{TrustedKeys: []crypto.PublicKey{signer.Public()}})
	if err != nil || !res.OK() || anchor.Seq != 2511 || res.Checkpoints != 2 {
		t.Fatalf("VerifyExport of the bucket = %+v, %+v, %v", res, anchor, err)
	}
	if _, err := audit.FetchObjects(ctx, s3, "sceau/", dir); err == nil {
		t.Error("FetchObjects into a directory that holds an export")
	}
}
