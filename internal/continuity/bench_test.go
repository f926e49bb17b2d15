package continuity_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/sceau/sceau/internal/continuity"
	"github.com/sceau/sceau/internal/sceautest"
	"github.com/sceau/sceau/internal/store"
)

// BenchmarkCONT1_BackupOfAMillionCertificates measures a backup of an
// installation holding a million certificates (SCEAU_BENCH_CERTS changes
// the count) against a plain file copy of the same database, made in the
// same run: copy-ratio is the backup's speed over the copy's (CONT-1 asks
// for ≥ 0.5). The database is built by direct SQL inserts.
//
//	go test -run - -bench CONT1 -benchtime 3x ./internal/continuity
func BenchmarkCONT1_BackupOfAMillionCertificates(b *testing.B) {
	ctx := context.Background()
	n := 1_000_000
	if s := os.Getenv("SCEAU_BENCH_CERTS"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	dbPath := filepath.Join(b.TempDir(), "sceau.db")
	if p := os.Getenv("SCEAU_BENCH_DB"); p != "" {
		dbPath = p // kept for another run
	}
	db, err := store.Open(ctx, store.SQLite, dbPath)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	var have int
	if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM certificates`).Scan(&have); err != nil {
		b.Fatal(err)
	}
	if have == 0 {
		fillCertificates(b, db, n)
	}
	if _, err := db.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		b.Fatal(err)
	}
	st, _ := os.Stat(dbPath)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	id, _ := age.GenerateX25519Identity()
	dataDir := b.TempDir()
	os.WriteFile(filepath.Join(dataDir, "sceau.yaml"), []byte("data_dir: .\n"), 0o600)
	clock := sceautest.NewClock(time.Now())
	opts := continuity.Options{Node: "bench", DB: db, DataDir: dataDir, Recipients: []string{id.Recipient().String()}, Signer: key, Clock: clock}
	var copyTime, backupTime time.Duration
	b.SetBytes(st.Size())
	b.ResetTimer()
	for range b.N {
		out := b.TempDir()
		start := time.Now()
		if err := copyFile(dbPath, filepath.Join(out, "copy.db")); err != nil {
			b.Fatal(err)
		}
		copyTime += time.Since(start)
		clock.Advance(time.Second)
		start = time.Now()
		if _, err := continuity.Create(ctx, continuity.Dir(out), opts); err != nil {
			b.Fatal(err)
		}
		backupTime += time.Since(start)
		os.RemoveAll(out)
	}
	b.StopTimer()
	mb := float64(st.Size()) / 1e6
	b.ReportMetric(mb, "db-MB")
	b.ReportMetric(mb/(copyTime.Seconds()/float64(b.N)), "copy-MB/s")
	b.ReportMetric(mb/(backupTime.Seconds()/float64(b.N)), "backup-MB/s")
	b.ReportMetric(copyTime.Seconds()/backupTime.Seconds(), "copy-ratio")
}

// copyFile is the baseline: the database file copied and synced.
func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// fillCertificates inserts n certificates of a realistic size and
// entropy (a 350-byte to-be-signed part, a 700-byte certificate holding
// it, a 300-byte OCSP response) under one CA.
func fillCertificates(b *testing.B, db *store.DB, n int) {
	ctx := context.Background()
	now := store.FormatTime(time.Now())
	later := store.FormatTime(time.Now().Add(365 * 24 * time.Hour))
	if _, err := db.ExecContext(ctx, `INSERT INTO cas (id, parent_id, subject, key_ref, cert_der, not_before, not_after, ocsp_key_ref, ocsp_cert_der, created_at)
		VALUES ('issuing', NULL, 'CN=Issuing', 'ca-issuing', x'00', ?, ?, 'ocsp', x'00', ?)`, now, later, now); err != nil {
		b.Fatal(err)
	}
	// Like real DER: the names, OIDs and extensions repeat from one
	// certificate to the next; the key, serial and signature do not.
	template := make([]byte, 1024)
	rand.Read(template)
	tbs, der, resp := make([]byte, 350), make([]byte, 700), make([]byte, 300)
	copy(tbs[100:], template[:250])
	copy(der[350:], template[250:528])
	copy(resp[100:], template[600:800])
	const rows = 200
	q := `INSERT INTO certificates (serial, ca_id, profile, subject, status, tbs_der, cert_der, not_before, not_after, reserved_at, issued_at,
		ocsp_response, ocsp_this_update, ocsp_next_update) VALUES ` + strings.TrimSuffix(strings.Repeat(`(?, 'issuing', 'server', ?, 'issued', ?, ?, ?, ?, ?, ?, ?, ?, ?),`, rows), ",")
	for start := 0; start < n; start += rows {
		err := db.InTx(ctx, func(tx *store.Tx) error {
			for batch := 0; batch < 25 && start < n; batch++ {
				args := make([]any, 0, rows*11)
				for i := start; i < start+rows; i++ {
					rand.Read(tbs[:100])
					copy(der, tbs)
					rand.Read(der[628:])
					rand.Read(resp[:100])
					args = append(args, fmt.Sprintf("%032x", i), fmt.Sprintf("CN=host-%d.example.org", i), tbs, der, now, later, now, now, resp, now, later)
				}
				if _, err := tx.ExecContext(ctx, q, args...); err != nil {
					return err
				}
				start += rows
			}
			start -= rows
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}
