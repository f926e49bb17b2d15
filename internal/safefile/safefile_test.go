package safefile_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/sceau/sceau/internal/safefile"
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
