package continuity

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"github.com/sceau/sceau/internal/sceau"
)

// Target is where backups go: a directory or a bucket.
type Target interface {
	String() string
	// Put stores the object name with what write writes: it appears whole
	// or not at all, and never replaces an object of that name.
	Put(ctx context.Context, name string, write func(w io.Writer) error) error
	// Get opens the object name.
	Get(ctx context.Context, name string) (io.ReadCloser, error)
	// List names the objects, in order.
	List(ctx context.Context) ([]string, error)
	// Remove deletes the object name.
	Remove(ctx context.Context, name string) error
}

// Dir is a directory target: another disk, or the second site's mount.
type Dir string

var _ Target = Dir("")

func (d Dir) String() string { return string(d) }

// Put implements Target: a temporary file, synced, then linked to its name.
func (d Dir) Put(ctx context.Context, name string, write func(w io.Writer) error) (err error) {
	const op = "continuity: write the backup"
	if err := d.present(); err != nil {
		return err
	}
	final := filepath.Join(string(d), name)
	if _, err := os.Lstat(final); err == nil {
		return sceau.Errorf(sceau.Conflict, op, "%s exists already: a backup is never overwritten", final)
	}
	var rnd [6]byte
	_, _ = rand.Read(rnd[:])
	tmp := filepath.Join(string(d), "."+name+".tmp-"+hex.EncodeToString(rnd[:]))
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return targetError(op, d, err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	bw := bufio.NewWriterSize(&writeback{f: f}, 1<<20)
	if err := write(bw); err != nil {
		return targetError(op, d, err)
	}
	if err := bw.Flush(); err != nil {
		return targetError(op, d, err)
	}
	if err := f.Sync(); err != nil {
		return targetError(op, d, err)
	}
	if err := f.Close(); err != nil {
		return targetError(op, d, err)
	}
	if err := os.Link(tmp, final); err != nil {
		return targetError(op, d, err)
	}
	os.Remove(tmp)
	if df, err := os.Open(string(d)); err == nil {
		_ = df.Sync()
		df.Close()
	}
	return nil
}

// writeback writes to f and starts its writeback every 16 MiB.
type writeback struct {
	f        *os.File
	off, run int64
}

func (w *writeback) Write(p []byte) (int, error) {
	n, err := w.f.Write(p)
	w.run += int64(n)
	if w.run >= 16<<20 {
		startWriteback(w.f, w.off, w.run)
		w.off, w.run = w.off+w.run, 0
	}
	return n, err
}

// present refuses a target directory that is not there: an unmounted
// second site is reported, not filled on the local disk.
func (d Dir) present() error {
	st, err := os.Stat(string(d))
	if err != nil || !st.IsDir() {
		return sceau.Errorf(sceau.Unavailable, "continuity: target", "the backup target %s is not a directory that exists (is the second site mounted?)", d)
	}
	return nil
}

// targetError says what went wrong with the target, precisely: full,
// read-only, gone.
func targetError(op string, d Dir, err error) error {
	var se *sceau.Error
	if errors.As(err, &se) {
		return err // a refusal of the backup itself, already precise
	}
	msg := fmt.Sprintf("cannot write to the backup target %s", d)
	switch {
	case errors.Is(err, syscall.ENOSPC):
		msg += ": the target is full (no space left on device); nothing was left there, earlier backups are untouched"
	case errors.Is(err, syscall.EROFS), errors.Is(err, fs.ErrPermission):
		msg += ": the target is read-only or not writable by this user"
	default:
		msg += "; nothing was left there, earlier backups are untouched"
	}
	return sceau.E(sceau.Unavailable, op, msg, err)
}

// Get implements Target.
func (d Dir) Get(ctx context.Context, name string) (io.ReadCloser, error) {
	if strings.ContainsAny(name, `/\`) {
		return nil, sceau.Errorf(sceau.Invalid, "continuity: read the backup", "%q is not a backup name", name)
	}
	f, err := os.Open(filepath.Join(string(d), name))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, sceau.Errorf(sceau.NotFound, "continuity: read the backup", "%s holds no %s", d, name)
	}
	if err != nil {
		return nil, sceau.E(sceau.Unavailable, "continuity: read the backup", "cannot open "+filepath.Join(string(d), name), err)
	}
	return f, nil
}

// List implements Target.
func (d Dir) List(ctx context.Context) ([]string, error) {
	if err := d.present(); err != nil {
		return nil, err
	}
	entries, err := os.ReadDir(string(d))
	if err != nil {
		return nil, sceau.E(sceau.Unavailable, "continuity: list", "cannot read "+string(d), err)
	}
	var out []string
	for _, e := range entries {
		if !e.IsDir() && !strings.HasPrefix(e.Name(), ".") {
			out = append(out, e.Name())
		}
	}
	slices.Sort(out)
	return out, nil
}

// Remove implements Target.
func (d Dir) Remove(ctx context.Context, name string) error {
	err := os.Remove(filepath.Join(string(d), name))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return sceau.E(sceau.Unavailable, "continuity: remove", "cannot remove "+name, err)
	}
	return nil
}

// Backups lists the backups of t, oldest first: the objects that have
// their signed manifest beside them.
func Backups(ctx context.Context, t Target) ([]string, error) {
	names, err := t.List(ctx)
	if err != nil {
		return nil, err
	}
	have := map[string]bool{}
	for _, n := range names {
		have[n] = true
	}
	var out []string
	for _, n := range names {
		if strings.HasSuffix(n, ObjectSuffix) && have[n+SidecarSuffix] {
			out = append(out, n)
		}
	}
	return out, nil
}

// ReadSidecar reads and checks the clear signed manifest of backup name.
func ReadSidecar(ctx context.Context, t Target, name string) (*Manifest, *Signed, error) {
	rc, err := t.Get(ctx, name+SidecarSuffix)
	if err != nil {
		return nil, nil, err
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, 64<<20))
	if err != nil {
		return nil, nil, sceau.E(sceau.Unavailable, "continuity: manifest", "cannot read "+name+SidecarSuffix, err)
	}
	return ParseSigned(b)
}
