//go:build unix

package audit

import (
	"os"
	"path/filepath"
	"syscall"

	"github.com/sceau/sceau/internal/sceau"
)

// lockDir takes the export directory's lock file, or says who holds it.
func lockDir(dir string) (unlock func(), err error) {
	f, err := os.OpenFile(filepath.Join(dir, ".lock"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, sceau.E(sceau.Unavailable, "audit: export", "cannot open the export lock", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, sceau.Errorf(sceau.Conflict, "audit: export", "another exporter is writing to %s (is `sceau serve` running?)", dir)
	}
	return func() {
		syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}
