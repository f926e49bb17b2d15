// Package safefile writes the files Sceau must never overwrite nor leave
// half-written: key stores, share files, backups, certificates, ceremony
// outputs.
package safefile

import (
	"errors"
	"fmt"
	"os"
)

// ErrExists is returned, wrapped, when the file is there already.
var ErrExists = os.ErrExist

// WriteNew creates path, which must not exist, with perm, writes b and
// syncs it to disk before returning. On any failure after creating it, it
// removes the file: a crash or a full disk leaves either the whole file or
// none (a file that exists was complete when WriteNew returned).
func WriteNew(path string, b []byte, perm os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		if errors.Is(err, os.ErrExist) {
			return fmt.Errorf("%s exists already: it is never overwritten: %w", path, ErrExists)
		}
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
		os.Remove(path)
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}
