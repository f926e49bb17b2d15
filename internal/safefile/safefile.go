// Package safefile writes the files Sceau must never overwrite nor leave
// half-written: key stores, share files, backups, certificates, ceremony
// outputs, the keystore secret; and replaces whole the few state files that
// change (a session token).
//
// A crash, a kill -9, a full disk or a power cut leaves the file complete or
// absent, never in between: the bytes go to a temporary file in the same
// directory, are synced to disk, and only then does the name appear (a hard
// link for a new file, which fails rather than replace one that exists; a
// rename for a replacement), after which the directory is synced so that
// the name itself survives a power cut. A crash can leave a temporary file
// (".NAME.tmp-*") behind, never a partial NAME.
package safefile

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// ErrExists is returned, wrapped, when the file is there already.
var ErrExists = os.ErrExist

// WriteNew creates path, which must not exist, with perm and content b. It
// returns only once the file and its name are on disk. If anything fails,
// path does not exist afterwards (unless it existed before: it is never
// touched then).
func WriteNew(path string, b []byte, perm os.FileMode) error {
	if _, err := os.Lstat(path); err == nil {
		return exists(path)
	}
	tmp, err := writeTemp(path, b, perm)
	if err != nil {
		return err
	}
	defer os.Remove(tmp)
	// link(2) refuses an existing target: two writers racing for the same
	// name cannot overwrite each other.
	if err := os.Link(tmp, path); err != nil {
		if errors.Is(err, os.ErrExist) {
			return exists(path)
		}
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := syncDir(filepath.Dir(path)); err != nil {
		os.Remove(path)
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

// Replace writes path whole, replacing it if it exists: a reader sees the
// old content or the new, never a mix.
func Replace(path string, b []byte, perm os.FileMode) error {
	tmp, err := writeTemp(path, b, perm)
	if err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := syncDir(filepath.Dir(path)); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

// writeTemp writes b to a new temporary file next to path, synced, and
// returns its name; on failure nothing is left.
func writeTemp(path string, b []byte, perm os.FileMode) (string, error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return "", fmt.Errorf("writing %s: %w", path, err)
	}
	name := f.Name()
	err = f.Chmod(perm)
	if err == nil {
		_, err = f.Write(b)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(name)
		return "", fmt.Errorf("writing %s: %w", path, err)
	}
	return name, nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

func exists(path string) error {
	return fmt.Errorf("%s exists already: it is never overwritten: %w", path, ErrExists)
}
