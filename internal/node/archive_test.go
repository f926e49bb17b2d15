package node_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sceau/sceau/internal/audit"
	"github.com/sceau/sceau/internal/node"
)

// ARC-4, AUD-6: a replica that cannot be written keeps its queue, falls
// behind by more than archive.max_lag, which is journaled once and raises
// an alert; when it comes back it catches up, which is journaled too, and
// the lag gauge returns to zero.
func TestARC4_ALaggingReplicaRaisesAnAlertAndCatchesUp(t *testing.T) {
	pub, adm := freeAddr(t), freeAddr(t)
	blocked := filepath.Join(t.TempDir(), "second-site")
	if err := os.WriteFile(blocked, []byte("a file where the replica's directory should be"), 0o600); err != nil {
		t.Fatal(err)
	}
	text := string(node.RenderConfig(node.ConfigValues{Org: "Archive Test", PublicListen: pub, AdminListen: adm, BaseURL: "http://" + pub}))
	for _, r := range [][2]string{
		{"  replicas: []\n", "  replicas:\n    - name: second-site\n      dir: " + blocked + "\n"},
		{"  replication_interval: 10s\n", "  replication_interval: 1s\n"},
		{"  max_lag: 1h\n", "  max_lag: 2s\n"},
	} {
		if !strings.Contains(text, r[0]) {
			t.Fatalf("the template lacks %q", r[0])
		}
		text = strings.Replace(text, r[0], r[1], 1)
	}
	inst, err := node.Init(t.Context(), filepath.Join(t.TempDir(), "inst"), []byte(text), node.InitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_, n := serveClock(t, inst.ConfigPath)
	waitAlert(t, n, audit.RuleArchiveLag)
	if g := gauge(t, n, "sceau_archive_replication_lag_seconds"); g < 2 {
		t.Errorf("lag gauge %.1f while the replica is down, want ≥ 2", g)
	}
	if err := os.Remove(blocked); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		page, err := audit.Search(t.Context(), n.DB, audit.Filter{Action: audit.ActionArchiveCaughtUp})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Events) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the replica did not catch up")
		}
	}
	page, _ := audit.Search(t.Context(), n.DB, audit.Filter{Action: audit.ActionArchiveLagging})
	if len(page.Events) != 1 || !strings.Contains(page.Events[0].Details, "second-site") {
		t.Errorf("lagging episodes journaled: %+v, want one naming the replica", page.Events)
	}
	if g := gauge(t, n, "sceau_archive_replication_lag_seconds"); g != 0 {
		t.Errorf("lag gauge %.1f after catching up", g)
	}
	if _, err := os.Stat(filepath.Join(blocked, "heads")); err != nil {
		t.Errorf("the replica has no head after catching up: %v", err)
	}
}
