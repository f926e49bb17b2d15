package continuity

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/sceau/sceau/internal/sceau"
)

// S3Options describe a bucket target.
type S3Options struct {
	Endpoint  string // https://host:port or http://host:port
	Region    string // default us-east-1
	Bucket    string
	Prefix    string // default "sceau-backup/"
	AccessKey string
	SecretKey string
	Transport http.RoundTripper // nil: minio's default
}

// S3 is a bucket target on S3-compatible storage.
//
// Security caveat: the secret key stays in memory for the life of the
// client; give it a key that may only put, get, list and delete objects
// under the prefix.
type S3 struct {
	bucket, prefix, endpoint string
	client                   *minio.Client
}

var _ Target = (*S3)(nil)

// NewS3 returns the bucket target o describes.
func NewS3(o S3Options) (*S3, error) {
	const op = "continuity: S3 target"
	u, err := url.Parse(o.Endpoint)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, sceau.Errorf(sceau.Invalid, op, "endpoint %q is not an http(s)://host[:port] URL", o.Endpoint)
	}
	if o.Region == "" {
		o.Region = "us-east-1"
	}
	if o.Prefix == "" {
		o.Prefix = "sceau-backup/"
	}
	c, err := minio.New(u.Host, &minio.Options{Creds: credentials.NewStaticV4(o.AccessKey, o.SecretKey, ""), Secure: u.Scheme == "https",
		Region: o.Region, Transport: o.Transport, BucketLookup: minio.BucketLookupPath})
	if err != nil {
		return nil, sceau.E(sceau.Invalid, op, "", err)
	}
	return &S3{bucket: o.Bucket, prefix: o.Prefix, endpoint: u.Host, client: c}, nil
}

func (s *S3) String() string { return "s3://" + s.bucket + "/" + s.prefix }

func (s *S3) unavailable(what string, err error) error {
	return sceau.E(sceau.Unavailable, "continuity: S3 target", what+" "+s.String()+" (at "+s.endpoint+"); nothing was left there, earlier backups are untouched", err)
}

// Put implements Target: the object is written to a temporary file, then
// uploaded with its length and MD5, so that a failed upload leaves no
// object.
func (s *S3) Put(ctx context.Context, name string, write func(w io.Writer) error) error {
	if _, err := s.client.StatObject(ctx, s.bucket, s.prefix+name, minio.StatObjectOptions{}); err == nil {
		return sceau.Errorf(sceau.Conflict, "continuity: S3 target", "%s%s exists already: a backup is never overwritten", s, name)
	} else if r := minio.ToErrorResponse(err); r.StatusCode != http.StatusNotFound && r.Code != "NoSuchKey" {
		return s.unavailable("cannot reach", err)
	}
	f, err := os.CreateTemp("", ".sceau-backup-upload-*")
	if err != nil {
		return sceau.E(sceau.Unavailable, "continuity: S3 target", "cannot create the upload's temporary file", err)
	}
	defer os.Remove(f.Name())
	defer f.Close()
	if err := write(f); err != nil {
		return targetError("continuity: write the backup", Dir(os.TempDir()), err)
	}
	size, err := f.Seek(0, io.SeekCurrent)
	if err != nil {
		return err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	opts := minio.PutObjectOptions{ContentType: "application/octet-stream", SendContentMd5: true, DisableContentSha256: true}
	if _, err := s.client.PutObject(ctx, s.bucket, s.prefix+name, f, size, opts); err != nil {
		return s.unavailable("cannot write "+name+" to", err)
	}
	return nil
}

// Get implements Target.
func (s *S3) Get(ctx context.Context, name string) (io.ReadCloser, error) {
	obj, err := s.client.GetObject(ctx, s.bucket, s.prefix+name, minio.GetObjectOptions{})
	if err != nil {
		return nil, s.unavailable("cannot read", err)
	}
	if _, err := obj.Stat(); err != nil {
		obj.Close()
		if r := minio.ToErrorResponse(err); r.Code == "NoSuchKey" || r.StatusCode == http.StatusNotFound {
			return nil, sceau.Errorf(sceau.NotFound, "continuity: S3 target", "%s holds no %s", s, name)
		}
		return nil, s.unavailable("cannot read", err)
	}
	return obj, nil
}

// List implements Target.
func (s *S3) List(ctx context.Context) ([]string, error) {
	var out []string
	for o := range s.client.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Prefix: s.prefix}) {
		if o.Err != nil {
			return nil, s.unavailable("cannot list", o.Err)
		}
		if n := strings.TrimPrefix(o.Key, s.prefix); n != "" && !strings.Contains(n, "/") {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return out, nil
}

// Remove implements Target.
func (s *S3) Remove(ctx context.Context, name string) error {
	if err := s.client.RemoveObject(ctx, s.bucket, s.prefix+name, minio.RemoveObjectOptions{}); err != nil {
		return s.unavailable("cannot remove "+name+" from", err)
	}
	return nil
}
