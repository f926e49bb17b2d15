package safefile_test

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sceau/sceau/internal/safefile"
	"github.com/sceau/sceau/internal/sceautest"
)

func TestWriteNewNeverOverwrites(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f")
	if err := safefile.WriteNew(path, []byte("first"), 0o600); err != nil {
		t.Fatal(err)
	}
	err := safefile.WriteNew(path, []byte("second"), 0o600)
	if !errors.Is(err, safefile.ErrExists) {
		t.Fatalf("second write: %v, want ErrExists", err)
	}
	b, _ := os.ReadFile(path)
	if string(b) != "first" {
		t.Fatalf("the file holds %q after a refused write", b)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v, %v", fi.Mode(), err)
	}
}

func TestWriteNewRefusesAMissingDirectory(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "missing")
	if err := safefile.WriteNew(filepath.Join(dir, "f"), []byte("x"), 0o600); err == nil {
		t.Fatal("wrote into a missing directory")
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("the missing directory was created: %v", err)
	}
}

func TestReplaceSwapsTheWholeFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "session")
	for _, s := range []string{"first", "second, longer", "3"} {
		if err := safefile.Replace(path, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
		if b, _ := os.ReadFile(path); string(b) != s {
			t.Fatalf("after Replace(%q) the file holds %q", s, b)
		}
	}
	if left, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".*tmp*")); len(left) != 0 {
		t.Fatalf("temporary files left: %v", left)
	}
}

// A full disk: the write fails with the reason, and neither the file nor a
// temporary one is left (a small tmpfs; mounting one needs root, which CI
// is).
func TestWriteNewOnAFullDiskLeavesNothing(t *testing.T) {
	if os.Geteuid() != 0 {
		sceautest.Missing(t, "root", "mounting a small tmpfs for a full disk needs root")
	}
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", dir).CombinedOutput(); err != nil {
		sceautest.Missing(t, "tmpfs", fmt.Sprintf("mount: %v: %s", err, out))
	}
	t.Cleanup(func() { exec.Command("umount", dir).Run() })
	path := filepath.Join(dir, "backup")
	err := safefile.WriteNew(path, bytes.Repeat([]byte{1}, 1<<20), 0o600)
	if err == nil || !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("a 1 MiB file on a 256 KiB disk: %v, want ENOSPC", err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 0 {
		t.Fatalf("left on the full disk: %v", entries)
	}
	// Once there is room, the same write succeeds.
	if err := safefile.WriteNew(path, []byte("fits"), 0o600); err != nil {
		t.Fatal(err)
	}
}

// kill -9 in the middle of writes: every file that has its name is whole.
// The child process writes 4 MiB files one after another until it is
// killed at a random moment.
func TestWriteNewIsWholeOrAbsentUnderSIGKILL(t *testing.T) {
	if dir := os.Getenv("SAFEFILE_WRITER_DIR"); dir != "" {
		payload := bytes.Repeat([]byte("sceau-"), 4<<20/6)
		for i := 0; ; i++ {
			if err := safefile.WriteNew(filepath.Join(dir, fmt.Sprintf("f%04d", i)), payload, 0o600); err != nil {
				os.Exit(3)
			}
		}
	}
	want := len(bytes.Repeat([]byte("sceau-"), 4<<20/6))
	for trial := range 5 {
		dir := t.TempDir()
		cmd := exec.Command(os.Args[0], "-test.run=^TestWriteNewIsWholeOrAbsentUnderSIGKILL$")
		cmd.Env = append(os.Environ(), "SAFEFILE_WRITER_DIR="+dir)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Duration(50+rand.IntN(250)) * time.Millisecond)
		cmd.Process.Kill()
		cmd.Wait()
		entries, _ := os.ReadDir(dir)
		whole := 0
		for _, e := range entries {
			if strings.HasPrefix(e.Name(), ".") {
				continue // a temporary file the kill interrupted
			}
			fi, err := e.Info()
			if err != nil || fi.Size() != int64(want) {
				t.Fatalf("trial %d: %s has %d bytes, want %d: a partial file has its name", trial, e.Name(), fi.Size(), want)
			}
			whole++
		}
		t.Logf("trial %d: %d whole files, %d entries", trial, whole, len(entries))
	}
}
