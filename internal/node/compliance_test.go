package node_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sceau/sceau/internal/archive"
	"github.com/sceau/sceau/internal/audit"
	"github.com/sceau/sceau/internal/ca"
	"github.com/sceau/sceau/internal/compliance"
	"github.com/sceau/sceau/internal/node"
	"github.com/sceau/sceau/internal/quorum"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/sceautest"
	"github.com/sceau/sceau/internal/server"
	"github.com/sceau/sceau/internal/store"
)

// healthyInstallation is what the self-audit should pass: both CA keys
// under m-of-n activation, the clock checked against an NTP server, the
// archive signed, stamped and replicated, a certificate issued, and
// backups recorded. It returns the served node and its self-audit.
func healthyInstallation(t *testing.T, replica string) (*node.Node, server.SelfAudit) {
	t.Helper()
	ntp := sceautest.StartNTP(t, 0)
	pub, adm := freeAddr(t), freeAddr(t)
	text := string(node.RenderConfig(node.ConfigValues{Demo: true, Org: "Compliance Test", PublicListen: pub, AdminListen: adm, BaseURL: "http://" + pub}))
	for _, r := range [][2]string{
		{"  servers: []\n", "  servers: [\"" + ntp.Addr + "\"]\n"},
		{"    key_type: ecdsa-p384\n", "    key_type: ecdsa-p384\n    activation:\n      threshold: 2\n      holders: [alice, bob, carol]\n"},
		{"  replicas: []\n", "  replicas:\n    - name: second-site\n      dir: " + replica + "\n"},
		{"  replication_interval: 10s\n", "  replication_interval: 1s\n"},
		{"  max_lag: 1h\n", "  max_lag: 8s\n"},
	} {
		if !strings.Contains(text, r[0]) {
			t.Fatalf("the template lacks %q", r[0])
		}
		text = strings.Replace(text, r[0], r[1], 1)
	}
	inst, err := node.Init(t.Context(), filepath.Join(t.TempDir(), "inst"), []byte(text),
		node.InitOptions{CreateOptions: node.CreateOptions{PINs: node.DemoPIN}, People: node.People{Demo: true}})
	if err != nil {
		t.Fatal(err)
	}
	_, n := serveClock(t, inst.ConfigPath)
	ctx := t.Context()
	cust := n.Custodian(nil)
	kid := sceau.CAKeyLabel("issuing")
	prog, err := cust.Begin(ctx, sceau.System("test"), kid)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range []string{"alice", "bob", "carol"} {
		b, err := os.ReadFile(inst.Layout.ShareFile("issuing", h))
		if err != nil {
			t.Fatal(err)
		}
		pin, _ := node.DemoPIN("issuing", h)
		if _, err := quorum.PresentShare(ctx, cust.Session(kid, prog.ID), kid, quorum.HolderShare{Holder: h, File: b}, pin); err != nil {
			t.Fatal(err)
		}
	}
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	csr, _ := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "www.example.org"},
		DNSNames: []string{"www.example.org"}}, key)
	if _, err := n.Authority.IssueCSR(ctx, sceau.System("test"), ca.Request{CA: "issuing", Profile: "server", CSR: csr}); err != nil {
		t.Fatal(err)
	}
	// CONT-1: what the backup procedure journals (sceau backup create and
	// verify); the self-audit reads only these events.
	err = n.DB.InTx(ctx, func(tx *store.Tx) error {
		return n.Journal.Append(ctx, tx,
			audit.Event{Actor: sceau.System("test"), Action: "backup.created", Object: "backup:test", Details: map[string]any{"to": replica}},
			audit.Event{Actor: sceau.System("test"), Action: "backup.verified", Object: "backup:test", Details: map[string]any{"from": replica}})
	})
	if err != nil {
		t.Fatal(err)
	}
	site := n.Site()
	if err := site.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	acc, err := n.Access(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// The archive loop signs a head and stamps and replicates the items.
	waitFor(t, "a signed, stamped and replicated archive", func() bool {
		st, err := n.Archive.Status(ctx)
		return err == nil && st.Head != nil && st.Head.Size == st.Items && st.Unstamped == 0 && len(st.Targets) == 1 && st.Targets[0].Pending == 0
	})
	return n, n.SelfAudit(site, acc)
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(60 * time.Second); !ok(); time.Sleep(200 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func selfAudit(t *testing.T, run server.SelfAudit) *compliance.Report {
	t.Helper()
	r, err := run(context.Background(), sceau.Actor{ID: "auditor", Role: "system-auditor"})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func failedFindings(r *compliance.Report) string {
	var b strings.Builder
	for _, c := range r.Clauses {
		for _, f := range c.Findings {
			if f.Failed {
				b.WriteString(c.ID + ": " + f.Message + "\n")
			}
		}
	}
	return b.String()
}

// COMP-1: a healthy installation passes every automatic clause; breaking
// one item at a time (a role grant written around the service, a stale
// CRL, an edited journal row, a replica that stopped) fails exactly its
// clause, and mending it passes again.
func TestCOMP1_HealthyInstallationPassesAndEachBreakFailsItsClause(t *testing.T) {
	replica := filepath.Join(t.TempDir(), "second-site")
	n, run := healthyInstallation(t, replica)
	ctx := t.Context()
	r := selfAudit(t, run)
	if r.Verdict != compliance.Pass {
		t.Fatalf("a healthy installation: %s\n%s", r.Summary(), failedFindings(r))
	}
	if r.Confirm != len(compliance.ManualClauses()) {
		t.Errorf("%d clauses to confirm, want the %d manual ones", r.Confirm, len(compliance.ManualClauses()))
	}
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := n.DB.ExecContext(ctx, q, args...); err != nil {
			t.Fatal(err)
		}
	}
	caughtUp := func() bool {
		ts, err := n.Archive.TargetStatuses(ctx)
		return err == nil && ts[0].Pending == 0
	}
	expectOnly := func(clause string) {
		t.Helper()
		if clause != "archive.replication" {
			waitFor(t, "the replica to catch up", caughtUp)
		}
		r := selfAudit(t, run)
		if got := strings.Join(r.FailedClauses(), ","); got != clause {
			t.Fatalf("failed clauses %q, want %q\n%s", got, clause, failedFindings(r))
		}
		if c := r.Clause(clause); c.FollowUp == nil || c.FollowUp.Sub(r.At) != 30*24*time.Hour {
			t.Errorf("%s: follow-up %v, want 30 days after the report", clause, c.FollowUp)
		}
	}

	// ROLE-2: a Security Officer who is also an Auditor, written in the store.
	so := ""
	if err := n.DB.QueryRowContext(ctx, `SELECT account FROM role_assignments WHERE role = 'security-officer' AND removed_at IS NULL LIMIT 1`).Scan(&so); err != nil {
		t.Fatal(err)
	}
	exec(`INSERT INTO role_assignments (id, account, role, granted_at, granted_by, grant_approval) VALUES ('compliance-test', ?, 'system-auditor', ?, 'nobody', '')`,
		so, store.FormatTime(time.Now()))
	expectOnly("roles.separation")
	exec(`UPDATE role_assignments SET removed_at = ?, removed_by = 'test' WHERE id = 'compliance-test'`, store.FormatTime(time.Now()))

	// PUB-3: the root's CRL (its key is not activated: nothing reissues it)
	// past its nextUpdate.
	var next string
	if err := n.DB.QueryRowContext(ctx, `SELECT next_update FROM crls WHERE ca_id = 'root' ORDER BY number DESC LIMIT 1`).Scan(&next); err != nil {
		t.Fatal(err)
	}
	exec(`UPDATE crls SET next_update = ? WHERE ca_id = 'root'`, store.FormatTime(time.Now().Add(-time.Minute)))
	expectOnly("crl.freshness")
	exec(`UPDATE crls SET next_update = ? WHERE ca_id = 'root'`, next)

	// AUD-2: one journal row edited, with the guard dropped as the
	// database's owner could, once the export holds it (else the
	// export, taken after the edit, carries the edit too).
	waitFor(t, "the export to hold event 3", func() bool {
		st, err := audit.ReadStatus(ctx, n.DB, n.Layout.ExportDir(), time.Now())
		return err == nil && st.Export != nil && st.Export.Cursor.Seq >= 3
	})
	exec(`DROP TRIGGER IF EXISTS audit_events_no_update`)
	var details string
	if err := n.DB.QueryRowContext(ctx, `SELECT details FROM audit_events WHERE seq = 3`).Scan(&details); err != nil {
		t.Fatal(err)
	}
	exec(`UPDATE audit_events SET details = ? WHERE seq = 3`, strings.Replace(details, "}", `,"x":1}`, 1))
	expectOnly("journal.chain")
	exec(`UPDATE audit_events SET details = ? WHERE seq = 3`, details)

	// ARC-4: the second site's directory replaced by a file: the queue
	// stops and the lag passes archive.max_lag (8s).
	if err := os.RemoveAll(replica); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(replica, []byte("not a directory"), 0o600); err != nil {
		t.Fatal(err)
	}
	selfAudit(t, run) // archives a report: something to replicate
	waitFor(t, "the replica to lag", func() bool {
		ts, err := n.Archive.TargetStatuses(ctx)
		return err == nil && ts[0].Lag > 8*time.Second
	})
	expectOnly("archive.replication")
}

// COMP-2: each report is archived, JSON and HTML, with its verdict and
// follow-up dates, in the transaction that journals compliance.checked;
// evidence archived for a manual clause is listed under it.
func TestCOMP2_ReportsAreArchivedWithVerdictsAndEvidence(t *testing.T) {
	n, run := healthyInstallation(t, filepath.Join(t.TempDir(), "second-site"))
	ctx := t.Context()
	if _, err := n.Archive.Add(ctx, sceau.Actor{ID: "so"}, archive.New{Kind: archive.KindEvidence, Source: "compliance:personnel.vetting", MediaType: "text/plain", Content: []byte("vetting of alice, 2026-11")}); err != nil {
		t.Fatal(err)
	}
	r := selfAudit(t, run)
	if r.Archived == nil {
		t.Fatal("the report was not archived")
	}
	got, err := n.Archive.Get(ctx, sceau.Actor{ID: "auditor"}, *r.Archived, archive.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got.Item.Kind != "audit-report" || !strings.Contains(string(got.Content), `"verdict": "pass"`) || !strings.Contains(string(got.Content), `"id": "roles.separation"`) {
		t.Errorf("archived report: %s %.300s", got.Item.Kind, got.Content)
	}
	page, err := n.Archive.Get(ctx, sceau.Actor{ID: "auditor"}, *r.Archived+1, archive.GetOptions{})
	if err != nil || page.Item.MediaType != "text/html" || !strings.Contains(string(page.Content), `id="verdict">pass<`) {
		t.Fatalf("archived page: %v", err)
	}
	c := r.Clause("personnel.vetting")
	if c == nil || c.Verdict != compliance.ToConfirm || len(c.Evidence) != 1 {
		t.Fatalf("the evidence is not listed under its clause: %+v", c)
	}
	ev, err := audit.LatestOf(ctx, n.DB, audit.ActionComplianceChecked)
	if err != nil || ev == nil || !strings.Contains(ev.Details, `"verdict":"pass"`) || ev.Object != "archive:item:"+strconv.FormatInt(*r.Archived, 10) {
		t.Fatalf("compliance.checked: %+v %v", ev, err)
	}
}
