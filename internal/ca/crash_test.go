package ca_test

import (
	"bufio"
	"context"
	"crypto"
	"crypto/x509"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/sceau/sceau/internal/audit"
	"github.com/sceau/sceau/internal/ca"
	"github.com/sceau/sceau/internal/keys"
	"github.com/sceau/sceau/internal/revocation"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/sceautest"
	"github.com/sceau/sceau/internal/store"
)

const (
	// crashChildEnv names the directory a crash child works in; unset, the
	// child test does nothing.
	crashChildEnv = "SCEAU_CRASH_CHILD"
	// crashKillsEnv sets how many times the crash test kills its child
	// (default 15, bounded by a time budget; set, it is exact).
	crashKillsEnv = "SCEAU_CRASH_KILLS"
)

var crashSecret = []byte("crash test activation secret, not for production")

// crashInstallation opens the installation of a crash test in dir: the
// SQLite database, the keystore (created on first use) and the hierarchy
// of sceautest.Specs (bootstrapped on first use, loaded afterwards).
func crashInstallation(t testing.TB, dir string, opts ca.Options) (*store.DB, *revocation.Service, *ca.Authority) {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, store.SQLite, filepath.Join(dir, "sceau.db"))
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	ks := keys.OpenSoftStore(filepath.Join(dir, "keys"))
	first := !ks.Exists()
	if first {
		err = ks.Init(crashSecret)
	} else {
		err = ks.Activate(crashSecret)
	}
	if err != nil {
		t.Fatalf("keystore: %v", err)
	}
	journal := audit.NewJournal(nil)
	rev := revocation.New(db, journal, revocation.Options{})
	opts.URLs = ca.URLs{Base: "http://127.0.0.1:8080"}
	auth := ca.New(db, journal, ks, rev, opts)
	t.Cleanup(auth.Close)
	if first {
		err = auth.Bootstrap(ctx, sceau.System("test"), sceautest.Specs())
	} else {
		err = auth.Load(ctx, sceautest.Specs())
	}
	if err != nil {
		t.Fatalf("hierarchy: %v", err)
	}
	return db, rev, auth
}

// TestCrashChild is the process TestCA2_CrashBetweenReserveAndStoreLeavesNoUnrecordedSerial
// kills: it issues certificates from four goroutines until it is killed and
// writes "signed <serial>" on stdout right after each signature, before
// the certificate is stored. It does nothing unless SCEAU_CRASH_CHILD is set.
func TestCrashChild(t *testing.T) {
	dir := os.Getenv(crashChildEnv)
	if dir == "" {
		return
	}
	// The parent holds our stdin open; if it dies, so do we.
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		os.Exit(3)
	}()
	_, _, auth := crashInstallation(t, dir, ca.Options{
		AfterSign: func(serial string) {
			// One unbuffered write per line: a line is in the pipe whole or not at all.
			_, _ = os.Stdout.Write([]byte("signed " + serial + "\n"))
		},
	})
	const workers = 4
	csrs := make([][]byte, workers)
	for i := range csrs {
		name := fmt.Sprintf("crash-%d.example", i)
		csrs[i] = sceautest.CSR(t, sceautest.NewKey(t, keys.ECDSAP256), name, name)
	}
	for _, csr := range csrs {
		go func() {
			for {
				_, err := auth.IssueCSR(context.Background(), sceau.System("crash-test"),
					ca.Request{CA: "issuing", Profile: "server", CSR: csr})
				if err != nil {
					fmt.Fprintf(os.Stderr, "crash child: issue: %v\n", err)
					os.Exit(2)
				}
			}
		}()
	}
	select {} // until SIGKILL
}

// crashRun is what one child run reported before it was killed.
type crashRun struct {
	signed []string
	other  []string // lines that are not "signed ..." (test framework output)
	stderr string
}

// runAndKill starts a crash child on dir, waits for its first signature,
// lets it issue for a random 100-600 ms and kills it with SIGKILL.
func runAndKill(t *testing.T, dir string) crashRun {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1", "-test.timeout=2m")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+dir)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start crash child: %v", err)
	}
	lines := make(chan string, 1024)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()

	var (
		run     crashRun
		killAt  <-chan time.Time
		killed  bool
		startup = time.After(90 * time.Second)
	)
	kill := func() {
		_ = cmd.Process.Kill()
		killed, killAt = true, nil
	}
	for lines != nil {
		select {
		case line, ok := <-lines:
			if !ok {
				lines = nil
				continue
			}
			s, isSigned := strings.CutPrefix(line, "signed ")
			if !isSigned {
				run.other = append(run.other, line)
				continue
			}
			run.signed = append(run.signed, s)
			if killAt == nil && !killed {
				killAt = time.After(time.Duration(100+rand.IntN(500)) * time.Millisecond)
			}
		case <-killAt:
			kill()
		case <-startup:
			if !killed && killAt == nil {
				kill() // nothing signed in time: the caller reports it
			}
			startup = nil
		}
	}
	werr := cmd.Wait()
	if !killed {
		t.Fatalf("the crash child ended by itself (%v) after %d signatures\nstdout: %s\nstderr: %s",
			werr, len(run.signed), strings.Join(run.other, "\n"), stderr.String())
	}
	run.stderr = stderr.String()
	return run
}

// CA-2: record before sign. Killing the issuing process at any moment
// leaves every signed serial recorded; a serial reserved but never stored
// is never "good" and the recovery sweep revokes it and lists it on the CRL.
func TestCA2_CrashBetweenReserveAndStoreLeavesNoUnrecordedSerial(t *testing.T) {
	if testing.Short() {
		t.Skip("kills a child process repeatedly; skipped in -short mode")
	}
	kills, budget := 15, 30*time.Second
	if v := os.Getenv(crashKillsEnv); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("%s=%q is not a positive count", crashKillsEnv, v)
		}
		kills, budget = n, 0
	}
	dir := t.TempDir()
	start := time.Now()
	signed := map[string]bool{}
	reported, runs := 0, 0
	for runs < kills {
		if budget > 0 && runs >= 5 && time.Since(start) > budget {
			t.Logf("time budget of %s spent: stopping after %d kills", budget, runs)
			break
		}
		run := runAndKill(t, dir)
		if len(run.signed) == 0 {
			t.Fatalf("kill %d: the child signed nothing before it was killed\nstdout: %s\nstderr: %s",
				runs+1, strings.Join(run.other, "\n"), run.stderr)
		}
		for _, s := range run.signed {
			if _, ok := new(big.Int).SetString(s, 16); !ok {
				t.Fatalf("kill %d: the child reported serial %q", runs+1, s)
			}
			signed[s] = true
		}
		reported += len(run.signed)
		runs++
	}
	if reported != len(signed) {
		t.Errorf("the children reported %d signatures of %d distinct serials: a serial was signed twice", reported, len(signed))
	}

	ctx := t.Context()
	db, rev, auth := crashInstallation(t, dir, ca.Options{OrphanGrace: time.Nanosecond, Logger: slog.New(slog.DiscardHandler)})
	var rows, distinct int
	if err := db.QueryRowContext(ctx, `SELECT COUNT(*), COUNT(DISTINCT serial) FROM certificates WHERE ca_id = 'issuing'`).Scan(&rows, &distinct); err != nil {
		t.Fatal(err)
	}
	if rows != distinct {
		t.Errorf("certificates holds %d rows for %d distinct serials", rows, distinct)
	}
	records := allRecords(t, auth)
	if len(records) != rows {
		t.Fatalf("Certificates listed %d records, the table holds %d", len(records), rows)
	}
	issuing, err := auth.CA("issuing")
	if err != nil {
		t.Fatal(err)
	}
	byStatus := map[string][]*ca.Record{}
	stored := map[string]*ca.Record{}
	for _, r := range records {
		byStatus[r.Status] = append(byStatus[r.Status], r)
		stored[r.Serial] = r
	}
	for s := range signed {
		if stored[s] == nil {
			t.Errorf("serial %s was signed but has no row in certificates (CA-2: record before sign)", s)
		}
	}
	if n := len(byStatus["revoked"]); n != 0 {
		t.Errorf("%d certificates are revoked before recovery ran", n)
	}
	orphans := byStatus["reserved"]
	signedOrphans := 0
	for _, r := range orphans {
		if signed[r.Serial] {
			signedOrphans++
		}
	}
	t.Logf("%d kills in %s: %d signatures reported, %d rows (%d issued, %d reserved orphans, %d of them signed but never stored)",
		runs, time.Since(start).Round(time.Millisecond), reported, rows, len(byStatus["issued"]), len(orphans), signedOrphans)
	if len(orphans) == 0 {
		t.Logf("no kill landed between reservation and storage this time")
	}

	responder := rev.NewResponder(slog.New(slog.DiscardHandler))
	ask := func(serial string) ([]byte, string) {
		t.Helper()
		n, _ := new(big.Int).SetString(serial, 16)
		req, err := ocsp.CreateRequest(&x509.Certificate{SerialNumber: n}, issuing.Cert, &ocsp.RequestOptions{Hash: crypto.SHA1})
		if err != nil {
			t.Fatal(err)
		}
		return responder.Respond(ctx, req)
	}
	for _, r := range orphans {
		if resp, status := ask(r.Serial); status == "good" {
			t.Errorf("reserved serial %s answers %q, want anything but good", r.Serial, status)
		} else if p, err := ocsp.ParseResponse(resp, issuing.Cert); err == nil && p.Status == ocsp.Good {
			t.Errorf("reserved serial %s: the response says good", r.Serial)
		}
	}
	for i, r := range byStatus["issued"] {
		if r.DER == nil {
			t.Errorf("issued serial %s has no certificate stored", r.Serial)
			continue
		}
		resp, status := ask(r.Serial)
		if status != "good" {
			t.Errorf("issued serial %s answers %q, want good", r.Serial, status)
		}
		if i%50 != 0 {
			continue // check a sample in depth
		}
		if p, err := ocsp.ParseResponse(resp, issuing.Cert); err != nil || p.Status != ocsp.Good || revocation.SerialHex(p.SerialNumber) != r.Serial {
			t.Errorf("issued serial %s: response %+v, %v; want a good response for it", r.Serial, p, err)
		}
		cert, err := x509.ParseCertificate(r.DER)
		if err != nil || revocation.SerialHex(cert.SerialNumber) != r.Serial || cert.CheckSignatureFrom(issuing.Cert) != nil {
			t.Errorf("issued serial %s: the stored certificate does not parse, match or verify (%v)", r.Serial, err)
		}
	}

	recovered, err := auth.RecoverOrphans(ctx)
	if err != nil {
		t.Fatalf("RecoverOrphans: %v", err)
	}
	if recovered != len(orphans) {
		t.Errorf("RecoverOrphans revoked %d serials, want the %d reserved ones", recovered, len(orphans))
	}
	for _, r := range orphans {
		resp, status := ask(r.Serial)
		if status != "revoked" {
			t.Errorf("orphan %s answers %q after recovery, want revoked", r.Serial, status)
			continue
		}
		if p, err := ocsp.ParseResponse(resp, issuing.Cert); err != nil || p.Status != ocsp.Revoked {
			t.Errorf("orphan %s: response %+v, %v; want revoked", r.Serial, p, err)
		}
	}
	crls, err := rev.IssueCRL(ctx, sceau.System("test"), "issuing")
	if err != nil {
		t.Fatalf("IssueCRL: %v", err)
	}
	listed := map[string]bool{}
	for _, c := range crls {
		if c.Shard != revocation.FullCRL {
			continue
		}
		rl, err := x509.ParseRevocationList(c.DER)
		if err != nil {
			t.Fatalf("ParseRevocationList: %v", err)
		}
		if err := rl.CheckSignatureFrom(issuing.Cert); err != nil {
			t.Errorf("the CRL does not verify: %v", err)
		}
		for _, e := range rl.RevokedCertificateEntries {
			listed[revocation.SerialHex(e.SerialNumber)] = true
		}
	}
	for _, r := range orphans {
		if !listed[r.Serial] {
			t.Errorf("orphan %s is not on the CRL issued after recovery", r.Serial)
		}
	}
	if len(listed) != len(orphans) {
		t.Errorf("the CRL lists %d serials, want the %d orphans", len(listed), len(orphans))
	}

	// AUD-7: each state change committed with its event, kills or not.
	res, err := audit.Verify(ctx, db)
	if err != nil {
		t.Fatalf("audit.Verify: %v", err)
	}
	if res.BrokenAt != 0 {
		t.Errorf("the audit chain breaks at event %d after %d kills: %s", res.BrokenAt, runs, res.Reason)
	}
	events := map[string]int{}
	evRows, err := db.QueryContext(ctx, `SELECT action, COUNT(*) FROM audit_events GROUP BY action`)
	if err != nil {
		t.Fatal(err)
	}
	for evRows.Next() {
		var (
			action string
			n      int
		)
		if err := evRows.Scan(&action, &n); err != nil {
			t.Fatal(err)
		}
		events[action] = n
	}
	evRows.Close()
	for action, want := range map[string]int{
		"certificate.prepared": rows,
		"certificate.issued":   len(byStatus["issued"]),
		"certificate.revoked":  len(orphans),
	} {
		if events[action] != want {
			t.Errorf("%d %s events, want %d", events[action], action, want)
		}
	}
}

// allRecords lists every record of the issuing CA (the root's are the
// issuing CA's own certificate), page by page.
func allRecords(t *testing.T, auth *ca.Authority) []*ca.Record {
	t.Helper()
	var out []*ca.Record
	after := ""
	for {
		page, err := auth.Certificates(t.Context(), ca.ListFilter{CA: "issuing", Limit: 10000, After: after})
		if err != nil {
			t.Fatalf("Certificates: %v", err)
		}
		out = append(out, page...)
		if len(page) < 10000 {
			return out
		}
		after = page[len(page)-1].Serial
	}
}
