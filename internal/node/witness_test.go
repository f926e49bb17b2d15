package node_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/sceau/sceau/internal/audit"
	"github.com/sceau/sceau/internal/config"
	"github.com/sceau/sceau/internal/node"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/store"
)

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	src, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dst, err := os.Create(to)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		t.Fatal(err)
	}
	if err := dst.Close(); err != nil {
		t.Fatal(err)
	}
}

// restore puts the database copy back in place of the live one.
func restore(t *testing.T, copyPath, dbPath string) {
	t.Helper()
	for _, suffix := range []string{"-wal", "-shm"} {
		os.Remove(dbPath + suffix)
	}
	copyFile(t, copyPath, dbPath)
}

// TestAUD5_RolledBackDatabaseIsRefusedAndTheExportKeptIntact is issue
// 11's second defect: a database put back from an older copy must not be
// served, and the exporter must never write past the export's own events:
// (1) the copy ends before the export: Open refuses, naming both ends;
// (2) the copy was written again since, so it is as long as the export but
// holds other events: the exporter refuses and writes nothing.
func TestAUD5_RolledBackDatabaseIsRefusedAndTheExportKeptIntact(t *testing.T) {
	ctx := t.Context()
	dir := filepath.Join(t.TempDir(), "inst")
	inst, err := node.Init(ctx, dir, demoConfig(), node.InitOptions{CreateOptions: node.CreateOptions{PINs: node.DemoPIN}})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(inst.ConfigPath)
	if err != nil {
		t.Fatal(err)
	}
	l := inst.Layout
	backup := filepath.Join(t.TempDir(), "sceau.db.bak")
	copyFile(t, l.DatabaseFile(), backup) // Init closed the database: the file is whole

	// The installation lives on and its journal is exported.
	n, err := node.Open(ctx, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := n.Revocation.IssueCRL(ctx, sceau.System("test"), "root"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := audit.NewExporter(n.DB, l.ExportDir(), nil).Export(ctx); err != nil {
		t.Fatal(err)
	}
	w, err := audit.ExportWitness(l.ExportDir())
	if err != nil || w.Seq == 0 {
		t.Fatalf("export cursor: %+v, %v", w, err)
	}
	n.Close()
	cursor := func() []byte {
		b, err := os.ReadFile(filepath.Join(l.ExportDir(), "cursor.json"))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	before := cursor()

	// (1) The older copy is put back: Open refuses, and says why.
	restore(t, backup, l.DatabaseFile())
	_, err = node.Open(ctx, cfg, nil)
	if !errors.Is(err, audit.ErrRolledBack) || sceau.KindOf(err) != sceau.Conflict {
		t.Fatalf("Open on a rolled-back database: %v, want a Conflict wrapping audit.ErrRolledBack", err)
	}
	t.Logf("refusal: %v", err)

	// (2) The copy is written again past the export's end (as a service
	// that did not check would have done): the exporter refuses.
	db, err := node.OpenMigratedStore(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	j := audit.NewJournal(nil)
	head, _, _ := audit.Head(ctx, db)
	for seq := head; seq <= w.Seq; seq++ {
		if err := db.InTx(ctx, func(tx *store.Tx) error {
			return j.Append(ctx, tx, audit.Event{Actor: sceau.System("test"), Action: "service.started", Object: "service:sceau"})
		}); err != nil {
			t.Fatal(err)
		}
	}
	if h, _, _ := audit.Head(ctx, db); h <= w.Seq {
		t.Fatalf("head %d, want past the export's %d", h, w.Seq)
	}
	if _, err := audit.NewExporter(db, l.ExportDir(), nil).Export(ctx); !errors.Is(err, audit.ErrRolledBack) {
		t.Fatalf("export of a rewritten database: %v, want audit.ErrRolledBack", err)
	}
	if !bytes.Equal(cursor(), before) {
		t.Fatal("the export's cursor moved after a refused export")
	}
	if _, err := node.Open(ctx, cfg, nil); !errors.Is(err, audit.ErrRolledBack) {
		t.Fatalf("Open on a rewritten database: %v, want audit.ErrRolledBack", err)
	}
}

// AUD-2, AUD-5 (issue 11, found by the fault suite): a database rolled back
// from a copy that had already exported is refused even when the export
// directory is found empty (an unmounted backup site), and the exporter
// does not fill an empty directory from event 1 over a lost export.
func TestAUD5_EmptyExportDoesNotHideARollback(t *testing.T) {
	ctx := t.Context()
	dir := filepath.Join(t.TempDir(), "inst")
	inst, err := node.Init(ctx, dir, demoConfig(), node.InitOptions{CreateOptions: node.CreateOptions{PINs: node.DemoPIN}})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(inst.ConfigPath)
	if err != nil {
		t.Fatal(err)
	}
	l := inst.Layout
	n, err := node.Open(ctx, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := audit.NewExporter(n.DB, l.ExportDir(), nil).Export(ctx); err != nil {
		t.Fatal(err)
	}
	n.Close()
	backup := filepath.Join(t.TempDir(), "sceau.db.bak")
	copyFile(t, l.DatabaseFile(), backup) // a copy that had exported

	n, err = node.Open(ctx, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.Revocation.IssueCRL(ctx, sceau.System("test"), "root"); err != nil {
		t.Fatal(err)
	}
	if _, err := audit.NewExporter(n.DB, l.ExportDir(), nil).Export(ctx); err != nil {
		t.Fatal(err)
	}
	n.Close()

	// The old copy is put back and the backup site is not mounted: the
	// export directory is an empty mount point.
	restore(t, backup, l.DatabaseFile())
	if err := os.Rename(l.ExportDir(), l.ExportDir()+".unmounted"); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(l.ExportDir(), 0o700); err != nil {
		t.Fatal(err)
	}
	if _, err := node.Open(ctx, cfg, nil); !errors.Is(err, audit.ErrExportLost) || sceau.KindOf(err) != sceau.Conflict {
		t.Fatalf("Open with an empty export: %v, want a Conflict wrapping audit.ErrExportLost", err)
	}
	db, err := node.OpenMigratedStore(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := audit.NewExporter(db, l.ExportDir(), nil).Export(ctx); !errors.Is(err, audit.ErrExportLost) {
		t.Fatalf("export into an empty directory over a lost export: %v, want audit.ErrExportLost", err)
	}
	if entries, _ := os.ReadDir(l.ExportDir()); len(entries) != 0 {
		t.Errorf("the exporter wrote %d files into the empty directory", len(entries))
	}
}
