package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// AUD-5 (issue 11, defect 3): `audit verify --db COPY` checks the copy
// against the configured export, as --export's help says, so a copy rolled
// back to an older state does not pass for want of the witness; --no-export
// still verifies the copy alone, and a copy verified where no configuration
// can be read is checked on its own.
func TestAUD5_VerifyCopyUsesTheConfiguredExport(t *testing.T) {
	tmp := t.TempDir()
	dir := filepath.Join(tmp, "ca")
	pub, adm := freeAddr(t), freeAddr(t)
	c := cli{t: t}
	c.ok("init", "--dir", dir, "--public", pub, "--admin", adm)
	c.config = filepath.Join(dir, "sceau.yaml")
	stop := startServe(t, c.config, pub)
	stop()
	old := filepath.Join(tmp, "old.db")
	copyDB(t, filepath.Join(dir, "sceau.db"), old)
	// The journal and its export move on past the copy.
	c.ok("audit", "record", "maintenance", "--operator", "sam", "--role", "system-administrator",
		"--who", "sam", "--system", "hsm-1", "--description", "firmware", "--yes")
	stop = startServe(t, c.config, pub)
	stop()

	export := filepath.Join(dir, "audit-export")
	r := c.run("audit", "verify", "--db", old)
	if r.code != 1 || !strings.Contains(r.stdout, "Export "+export) || !strings.Contains(r.stdout, "rolled back") {
		t.Errorf("verify --db of a rolled-back copy without --export: exit %d, want 1 naming the configured export and the rollback\n%s%s",
			r.code, r.stdout, r.stderr)
	}
	if strings.Contains(r.stdout, "OK: the journal is whole.") {
		t.Errorf("a rolled-back copy passed:\n%s", r.stdout)
	}
	if r := c.ok("audit", "verify", "--db", filepath.Join(dir, "sceau.db")); !strings.Contains(r.stdout, "Export "+export) ||
		!strings.Contains(r.stdout, "OK: the journal is whole.") {
		t.Errorf("verify --db of the live database against the configured export:\n%s", r.stdout)
	}
	if r := c.ok("audit", "verify", "--db", old, "--no-export"); strings.Contains(r.stdout, "Export ") || !strings.Contains(r.stdout, "OK") {
		t.Errorf("verify --db --no-export should check the copy alone:\n%s", r.stdout)
	}
	alone := cli{t: t, config: filepath.Join(tmp, "no-such.yaml")}
	if r := alone.ok("audit", "verify", "--db", old); strings.Contains(r.stdout, "Export ") || !strings.Contains(r.stdout, "OK") {
		t.Errorf("verify --db with no configuration should check the copy alone:\n%s", r.stdout)
	}
}
