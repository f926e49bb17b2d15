package node_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/sceau/sceau/internal/audit"
	"github.com/sceau/sceau/internal/continuity"
	"github.com/sceau/sceau/internal/node"
)

// TestCONT1_ServedBackupIsJournaledAndItsAgeIsAMetric: a served node
// exports sceau_backup_age_seconds (-1 before any backup); a backup made
// by the node is journaled as backup.created with its name, target and
// time, and brings the gauge near 0; a backup with keep 1 removes the
// older one (CONT-1).
func TestCONT1_ServedBackupIsJournaledAndItsAgeIsAMetric(t *testing.T) {
	pub, adm := freeAddr(t), freeAddr(t)
	id, _ := age.GenerateX25519Identity()
	to := filepath.Join(t.TempDir(), "second-site")
	os.MkdirAll(to, 0o700)
	text := string(node.RenderConfig(node.ConfigValues{Org: "Backup Test", PublicListen: pub, AdminListen: adm, BaseURL: "http://" + pub}))
	text = strings.Replace(text, "  to: \"\"\n", "  to: "+to+"\n", 1)
	text = strings.Replace(text, "  recipients: []\n  # serve makes", "  recipients: [\""+id.Recipient().String()+"\"]\n  # serve makes", 1)
	text = strings.Replace(text, "  keep: 0\n", "  keep: 1\n", 1)
	inst, err := node.Init(t.Context(), filepath.Join(t.TempDir(), "inst"), []byte(text), node.InitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_, n := serveClock(t, inst.ConfigPath)
	if g := gauge(t, n, "sceau_backup_age_seconds"); g != -1 {
		t.Errorf("backup age before any backup: %v, want -1", g)
	}
	first, err := n.Backup(t.Context(), "")
	if err != nil {
		t.Fatal(err)
	}
	if g := gauge(t, n, "sceau_backup_age_seconds"); g < 0 || g > 60 {
		t.Errorf("backup age after a backup: %v", g)
	}
	page, err := audit.Search(t.Context(), n.DB, audit.Filter{Action: audit.ActionBackupCreated})
	if err != nil || len(page.Events) != 1 {
		t.Fatalf("backup.created events: %v %v", page.Events, err)
	}
	d := page.Events[0].Details
	for _, want := range []string{first.Name, to, `"created_at"`, `"journal_seq"`} {
		if !strings.Contains(d, want) {
			t.Errorf("backup.created details %s lack %s", d, want)
		}
	}
	// keep: 1 leaves the newest alone.
	time.Sleep(1100 * time.Millisecond)      // names are by the second
	second, err := n.Backup(t.Context(), to) // the same target, named explicitly
	if err != nil {
		t.Fatal(err)
	}
	names, _ := continuity.Backups(t.Context(), continuity.Dir(to))
	if len(names) != 1 || names[0] != second.Name {
		t.Errorf("after a second backup with keep 1: %v", names)
	}
}
