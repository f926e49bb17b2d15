package revocation_test

import (
	"context"
	"crypto/x509"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sceau/sceau/internal/revocation"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/sceautest"
	"github.com/sceau/sceau/internal/store"
)

// insertLive writes the entries' serials as live (issued, not revoked,
// unexpired) certificates of caID, as insertRevoked does.
func insertLive(b *testing.B, db *store.DB, caID string, entries []x509.RevocationListEntry) {
	b.Helper()
	const rows = 8000
	ctx := context.Background()
	now, later := store.FormatTime(time.Now().Add(-time.Hour)), store.FormatTime(time.Now().Add(365*24*time.Hour))
	row := fmt.Sprintf(`(?, '%s', 'server', 'CN=bench', 'issued', X'00', '%s', '%s', '%s', '%s')`, caID, now, later, now, now)
	insert := func(n int) string {
		return `INSERT INTO certificates (serial, ca_id, profile, subject, status, tbs_der, not_before, not_after,
			reserved_at, issued_at) VALUES ` + strings.Repeat(row+",", n-1) + row
	}
	tx, err := db.SQL().BeginTx(ctx, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer tx.Rollback()
	args := make([]any, 0, rows)
	for start := 0; start < len(entries); start += rows {
		end := min(start+rows, len(entries))
		args = args[:0]
		for i := start; i < end; i++ {
			args = append(args, revocation.SerialHex(entries[i].SerialNumber))
		}
		if _, err := tx.ExecContext(ctx, insert(end-start), args...); err != nil {
			b.Fatalf("insert live: %v", err)
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkINC2_MassRevocationOfAMillion is the revocation that a CA
// compromise or termination carries out in its approval's transaction (a
// million live certificates, each with its journal event), then the CRL of
// a million entries that publishes it: "revoked/s" against the CRL's own
// "crl-entries/s" (the CRL-building limit, measured in the same run), and
// "approval-to-crl-s", the time from the approval to the signed CRL.
func BenchmarkINC2_MassRevocationOfAMillion(b *testing.B) {
	skipUnlessLong(b)
	entries := millionCRL()
	h := sceautest.NewHierarchy(b, sceautest.OpenSQLite(b), sceautest.HierarchyOptions{})
	start := time.Now()
	insertLive(b, h.DB, "issuing", entries)
	b.Logf("setup: %d live certificates inserted in %s", len(entries), time.Since(start).Round(time.Millisecond))
	ctx := context.Background()
	var revokeTime, crlTime time.Duration
	stop := measure(b)
	for b.Loop() {
		t0 := time.Now()
		var n int
		err := h.DB.InTx(ctx, func(tx *store.Tx) error {
			var err error
			n, err = h.Revocation.RevokeAll(ctx, tx, sceau.System("bench"), "issuing", "cACompromise", "bench-approval")
			return err
		})
		if err != nil || n != len(entries) {
			b.Fatalf("revoked %d: %v", n, err)
		}
		t1 := time.Now()
		crls, err := h.Revocation.IssueCRL(ctx, sceau.System("bench"), "issuing")
		if err != nil || crls[0].Entries != len(entries) {
			b.Fatalf("CRL: %v", err)
		}
		revokeTime += t1.Sub(t0)
		crlTime += time.Since(t1)
		b.StopTimer()
		if _, err := h.DB.ExecContext(ctx, `UPDATE certificates SET revoked_at = NULL, revocation_reason = NULL WHERE ca_id = 'issuing'`); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	stop()
	k := float64(b.N)
	b.ReportMetric(float64(len(entries))*k/revokeTime.Seconds(), "revoked/s")
	b.ReportMetric(float64(len(entries))*k/crlTime.Seconds(), "crl-entries/s")
	b.ReportMetric((revokeTime+crlTime).Seconds()/k, "approval-to-crl-s")
}
