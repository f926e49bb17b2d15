package fault

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/sceau/sceau/internal/sceautest"
)

// diskSize is the size of the tmpfs an installation lives on in the full
// disk trials.
const diskSize = "32m"

// TestAUD7_FullDiskRefusesCleanly puts the installation's data directory
// (SQLite database, keystore, admin credentials, the journal's export; the
// PostgreSQL data stays on its own disk) on a small tmpfs, fills it under
// load, and frees it. While it is full every refusal must be a 503 with a
// reason (never a 500, never a panic) and, on SQLite, the database refuses
// (AUD-7: what cannot be recorded durably is refused); once it is freed,
// issuance resumes without a restart, the export catches up and nothing
// acknowledged is lost.
func TestAUD7_FullDiskRefusesCleanly(t *testing.T) {
	for _, engine := range engines {
		t.Run(engine, func(t *testing.T) {
			for trial := 1; trial <= *trials; trial++ {
				ok := t.Run(fmt.Sprintf("trial-%d", trial), func(t *testing.T) {
					mnt := mountTmpfs(t, diskSize)
					in := newInstallation(t, engine, installOptions{parent: mnt})
					in.mustStart()
					before := in.snapshot()
					lost := in.fullDiskTrial(trial, mnt)
					addFigures(t, in.since("full-disk", before, lost))
					in.stop()
				})
				if !ok && !*keepGoing {
					return
				}
			}
		})
	}
}

// fullDiskTrial fills the disk under load, frees it, and checks.
func (in *installation) fullDiskTrial(trial int, mnt string) (lost int) {
	t := in.t
	t.Helper()
	l := in.startLoad(trial, loadOptions{})
	defer l.halt()
	time.Sleep(700 * time.Millisecond)
	fill := filepath.Join(mnt, "fill")
	n, err := fillDisk(fill)
	if err != nil {
		t.Fatal(err)
	}
	full := in.snapshot()
	time.Sleep(2 * time.Second)
	during := in.snapshot()
	t.Logf("trial %d: disk full (%d bytes of filler): %d issuances acknowledged, %d refusals with a 503", trial, n,
		during.issued-full.issued, during.refused-full.refused)
	if !in.proc.running() {
		t.Fatalf("trial %d: sceau serve exited on the full disk (%v):\n%s", trial, in.proc.err, tail(in.proc.log, 30))
	}
	if in.engine == sqlite && during.refused == full.refused {
		t.Errorf("trial %d: no request was refused with a 503 while the database's disk was full", trial)
	}

	if err := os.Remove(fill); err != nil {
		t.Fatal(err)
	}
	in.recovered = time.Now()
	freed := in.snapshot().issued
	deadline := time.Now().Add(30 * time.Second)
	for in.snapshot().issued == freed && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	if in.snapshot().issued == freed {
		t.Errorf("trial %d: no issuance succeeded within 30s of the disk being freed:\n%s", trial, tail(in.proc.log, 20))
	}
	time.Sleep(300 * time.Millisecond)
	l.halt()
	if err := in.waitExported(in.journalHead()); err != nil {
		t.Errorf("trial %d: the export does not catch up once the disk is freed: %v\n%s", trial, err, tail(in.proc.log, 20))
	}
	return in.verifyAll(trial)
}

// mountTmpfs mounts a tmpfs of size on a fresh directory, unmounted with
// the test. Without root, or when mount fails, the test skips (fails under
// SCEAU_TEST_REQUIRE_ALL=1).
func mountTmpfs(t *testing.T, size string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		sceautest.Missing(t, "root", "the full disk trials mount a tmpfs")
	}
	dir, err := os.MkdirTemp("", "sceau-fault-disk-")
	if err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size+",mode=0700", "tmpfs", dir).CombinedOutput(); err != nil {
		os.Remove(dir)
		sceautest.Missing(t, "a tmpfs mount", fmt.Sprintf("mount -t tmpfs: %v: %s", err, out))
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			// A process still holding a file: lazy unmount, so the
			// memory comes back when it lets go.
			t.Errorf("umount %s: %v: %s", dir, err, out)
			_ = exec.Command("umount", "-l", dir).Run()
		}
		os.Remove(dir)
	})
	return dir
}

// fillDisk writes path until the file system is full and returns how many
// bytes it took.
func fillDisk(path string) (int64, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	var n int64
	for _, size := range []int{1 << 20, 4 << 10, 512} {
		buf := make([]byte, size)
		for {
			m, err := f.Write(buf)
			n += int64(m)
			if errors.Is(err, syscall.ENOSPC) {
				break
			}
			if err != nil {
				return n, err
			}
		}
	}
	return n, nil
}
