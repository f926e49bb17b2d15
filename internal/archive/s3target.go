package archive

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/sceau/sceau/internal/sceau"
)

// S3Target replicates to S3-compatible object storage
// (github.com/minio/minio-go/v7). When the bucket has object lock enabled,
// every object is written with retention in compliance mode until its
// retention date (ARC-2): not even the bucket's owner deletes it earlier.
// A bucket without object lock still receives the copies; Lock says which.
type S3Target struct {
	name, bucket, prefix string
	client               *minio.Client

	once sync.Once
	lock bool
	lerr error
}

// S3Options describe a bucket.
type S3Options struct {
	Endpoint  string // https://host:port or http://host:port
	Region    string
	Bucket    string
	Prefix    string // default "sceau-archive/"
	AccessKey string
	SecretKey string
	Transport http.RoundTripper // nil: minio's default
}

// NewS3Target returns the bucket target named name.
func NewS3Target(name string, o S3Options) (*S3Target, error) {
	const op = "archive: S3 target"
	u, err := url.Parse(o.Endpoint)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, sceau.Errorf(sceau.Invalid, op, "endpoint %q is not an http(s)://host[:port] URL", o.Endpoint)
	}
	if o.Region == "" {
		o.Region = "us-east-1"
	}
	if o.Prefix == "" {
		o.Prefix = "sceau-archive/"
	}
	c, err := minio.New(u.Host, &minio.Options{Creds: credentials.NewStaticV4(o.AccessKey, o.SecretKey, ""), Secure: u.Scheme == "https",
		Region: o.Region, Transport: o.Transport, BucketLookup: minio.BucketLookupPath})
	if err != nil {
		return nil, sceau.E(sceau.Invalid, op, "", err)
	}
	return &S3Target{name: name, bucket: o.Bucket, prefix: o.Prefix, client: c}, nil
}

func (s *S3Target) Name() string { return s.name }

// Lock says whether the bucket enforces object lock (asked once).
func (s *S3Target) Lock(ctx context.Context) (bool, error) {
	s.once.Do(func() {
		enabled, _, _, _, err := s.client.GetObjectLockConfig(ctx, s.bucket)
		switch {
		case err == nil:
			s.lock = enabled == "Enabled"
		case minio.ToErrorResponse(err).StatusCode == http.StatusNotFound || minio.ToErrorResponse(err).Code == "ObjectLockConfigurationNotFoundError" ||
			minio.ToErrorResponse(err).StatusCode == http.StatusNotImplemented:
			// No lock configuration, or a server without object lock.
		default:
			s.lerr = err
		}
	})
	return s.lock, s.lerr
}

func (s *S3Target) Put(ctx context.Context, key string, body []byte, retainUntil time.Time) error {
	const op = "archive: S3 target"
	if old, err := s.Get(ctx, key); err == nil {
		if bytes.Equal(old, body) {
			return nil
		}
		return sceau.Errorf(sceau.Conflict, op, "%s/%s%s already holds other bytes: it is never overwritten", s.bucket, s.prefix, key)
	} else if sceau.KindOf(err) != sceau.NotFound {
		return err
	}
	// The payload is not streamed in signed chunks (aws-chunked), which some
	// S3-compatible servers store as sent; its MD5 guards it instead.
	opts := minio.PutObjectOptions{ContentType: "application/octet-stream", SendContentMd5: true, DisableContentSha256: true}
	lock, err := s.Lock(ctx)
	if err != nil {
		s.once = sync.Once{} // ask again next time
		return sceau.E(sceau.Unavailable, op, "bucket "+s.bucket+": cannot read its object lock configuration", err)
	}
	if lock && retainUntil.After(time.Now()) {
		opts.Mode, opts.RetainUntilDate = minio.Compliance, retainUntil.UTC()
	}
	if _, err := s.client.PutObject(ctx, s.bucket, s.prefix+key, bytes.NewReader(body), int64(len(body)), opts); err != nil {
		return sceau.E(sceau.Unavailable, op, "cannot write "+s.bucket+"/"+s.prefix+key, err)
	}
	return nil
}

func (s *S3Target) Get(ctx context.Context, key string) ([]byte, error) {
	const op = "archive: S3 target"
	obj, err := s.client.GetObject(ctx, s.bucket, s.prefix+key, minio.GetObjectOptions{})
	if err != nil {
		return nil, sceau.E(sceau.Unavailable, op, "cannot read "+s.bucket+"/"+s.prefix+key, err)
	}
	defer obj.Close()
	b, err := io.ReadAll(obj)
	if err != nil {
		if r := minio.ToErrorResponse(err); r.Code == "NoSuchKey" || r.StatusCode == http.StatusNotFound {
			return nil, sceau.Errorf(sceau.NotFound, op, "%s/%s%s: no such object", s.bucket, s.prefix, key)
		}
		return nil, sceau.E(sceau.Unavailable, op, "cannot read "+s.bucket+"/"+s.prefix+key, err)
	}
	return b, nil
}
