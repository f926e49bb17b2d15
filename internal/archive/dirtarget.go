package archive

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/sceau/sceau/internal/safefile"
	"github.com/sceau/sceau/internal/sceau"
)

// DirTarget replicates to a directory: a second disk, an NFS mount.
// Files are written once (temporary file, fsync, rename) and left
// read-only.
type DirTarget struct {
	name string
	dir  string
}

// NewDirTarget returns the directory target named name.
func NewDirTarget(name, dir string) *DirTarget { return &DirTarget{name: name, dir: dir} }

func (d *DirTarget) Name() string { return d.name }

func (d *DirTarget) Put(ctx context.Context, key string, body []byte, _ time.Time) error {
	const op = "archive: directory target"
	path := filepath.Join(d.dir, filepath.FromSlash(key))
	if old, err := os.ReadFile(path); err == nil {
		if bytes.Equal(old, body) {
			return nil
		}
		return sceau.Errorf(sceau.Conflict, op, "%s already holds other bytes: it is never overwritten", path)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return sceau.E(sceau.Unavailable, op, "cannot create "+filepath.Dir(path), err)
	}
	if err := safefile.WriteNew(path, body, 0o440); err != nil {
		return sceau.E(sceau.Unavailable, op, "cannot write "+path, err)
	}
	return nil
}

func (d *DirTarget) Get(ctx context.Context, key string) ([]byte, error) {
	path := filepath.Join(d.dir, filepath.FromSlash(key))
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, sceau.Errorf(sceau.NotFound, "archive: directory target", "%s: no such object", path)
	}
	if err != nil {
		return nil, sceau.E(sceau.Unavailable, "archive: directory target", "cannot read "+path, err)
	}
	return b, nil
}
