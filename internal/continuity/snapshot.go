package continuity

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/hex"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/sceau/sceau/internal/audit"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/store"
)

// snapshot is the database as of one transaction, ready to be streamed.
type snapshot struct {
	entry       string
	size        int64
	schema      int
	journalSeq  int64
	journalHash string
	write       func(w io.Writer) error
	close       func()
}

// takeSnapshot opens the snapshot of db. The journal head it reports is
// the one inside the snapshot.
func takeSnapshot(ctx context.Context, db *store.DB, dsn, tmpDir string) (*snapshot, error) {
	if db.Engine() == store.Postgres {
		return postgresSnapshot(ctx, db, dsn, tmpDir)
	}
	return sqliteSnapshot(ctx, db)
}

func sqliteSnapshot(ctx context.Context, db *store.DB) (_ *snapshot, err error) {
	const op = "continuity: snapshot"
	conn, err := db.SQL().Conn(ctx)
	if err != nil {
		return nil, store.Classify(op, err)
	}
	// Pages read through a memory map cost no system call each; the
	// connection goes back to the pool as it was.
	_, _ = conn.ExecContext(ctx, sqlMmapOn)
	if _, err := conn.ExecContext(ctx, sqlBeginRead); err != nil {
		_, _ = conn.ExecContext(context.Background(), sqlMmapOff)
		conn.Close()
		return nil, store.Classify(op, err)
	}
	closeConn := func() {
		_, _ = conn.ExecContext(context.Background(), sqlRollback)
		_, _ = conn.ExecContext(context.Background(), sqlMmapOff)
		conn.Close()
	}
	defer func() {
		if err != nil {
			closeConn()
		}
	}()
	s := &snapshot{entry: DBEntrySQLite, close: closeConn}
	// The first read fixes the transaction's snapshot: the head and the
	// pages below are of one moment.
	if err := readHead(ctx, conn, s); err != nil {
		return nil, err
	}
	var pageSize, pages int64
	if err := conn.QueryRowContext(ctx, sqlPageSize).Scan(&pageSize); err != nil {
		return nil, store.Classify(op, err)
	}
	if err := conn.QueryRowContext(ctx, sqlPageCount).Scan(&pages); err != nil {
		return nil, store.Classify(op, err)
	}
	s.size = pageSize * pages
	s.write = func(w io.Writer) error {
		rows, err := conn.QueryContext(ctx, sqlPages)
		if err != nil {
			return store.Classify(op, err)
		}
		defer rows.Close()
		var (
			page    sql.RawBytes
			written int64
		)
		for rows.Next() {
			if err := rows.Scan(&page); err != nil {
				return store.Classify(op, err)
			}
			if int64(len(page)) != pageSize {
				return sceau.Errorf(sceau.Internal, op, "a page of %d bytes, not %d", len(page), pageSize)
			}
			if _, err := w.Write(page); err != nil {
				return err
			}
			written += pageSize
		}
		if err := rows.Err(); err != nil {
			return store.Classify(op, err)
		}
		if written != s.size {
			return sceau.Errorf(sceau.Internal, op, "the snapshot holds %d bytes, not %d", written, s.size)
		}
		return nil
	}
	return s, nil
}

func readHead(ctx context.Context, q store.Querier, s *snapshot) error {
	seq, hash, err := audit.Head(ctx, q)
	if err != nil {
		return err
	}
	s.journalSeq, s.journalHash = seq, hex.EncodeToString(hash)
	return store.Classify("continuity: snapshot", q.QueryRowContext(ctx, sqlSchemaVersion).Scan(&s.schema))
}

// postgresSnapshot exports a repeatable-read snapshot and dumps it with
// pg_dump to a file under tmpDir, which streams into the backup.
func postgresSnapshot(ctx context.Context, db *store.DB, dsn, tmpDir string) (_ *snapshot, err error) {
	const op = "continuity: snapshot"
	if _, err := exec.LookPath("pg_dump"); err != nil {
		return nil, sceau.Errorf(sceau.Unavailable, op, "pg_dump is not installed: a PostgreSQL backup needs the PostgreSQL client of the server's version")
	}
	conn, err := db.SQL().Conn(ctx)
	if err != nil {
		return nil, store.Classify(op, err)
	}
	defer func() {
		_, _ = conn.ExecContext(context.Background(), sqlRollback)
		conn.Close()
	}()
	if _, err := conn.ExecContext(ctx, sqlBeginSnapshotPG); err != nil {
		return nil, store.Classify(op, err)
	}
	var id string
	if err := conn.QueryRowContext(ctx, sqlExportSnapshot).Scan(&id); err != nil {
		return nil, store.Classify(op, err)
	}
	s := &snapshot{entry: DBEntryPostgres}
	if err := readHead(ctx, conn, s); err != nil {
		return nil, err
	}
	f, err := os.CreateTemp(tmpDir, ".sceau-pgdump-*")
	if err != nil {
		return nil, sceau.E(sceau.Unavailable, op, "cannot create the dump's temporary file", err)
	}
	path := f.Name()
	f.Close()
	cmd := exec.CommandContext(ctx, "pg_dump", "--format=custom", "--no-owner", "--no-privileges", "--snapshot="+id, "--file="+path, "--dbname="+dsn)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		os.Remove(path)
		return nil, sceau.E(sceau.Unavailable, op, "pg_dump failed: "+firstLine(stderr.String()), err)
	}
	st, err := os.Stat(path)
	if err != nil {
		os.Remove(path)
		return nil, sceau.E(sceau.Unavailable, op, "", err)
	}
	s.size = st.Size()
	s.write = func(w io.Writer) error {
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = io.Copy(w, f)
		return err
	}
	s.close = func() { os.Remove(path) }
	return s, nil
}

// RestorePostgres loads a dump (from Extract) into the empty database dsn
// names, with pg_restore.
func RestorePostgres(ctx context.Context, dump, dsn string) error {
	const op = "continuity: restore PostgreSQL"
	if _, err := exec.LookPath("pg_restore"); err != nil {
		return sceau.Errorf(sceau.Unavailable, op, "pg_restore is not installed")
	}
	cmd := exec.CommandContext(ctx, "pg_restore", "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction", "--dbname="+dsn, dump)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return sceau.E(sceau.Unavailable, op, "pg_restore failed (is the target database empty?): "+firstLine(stderr.String()), err)
	}
	return nil
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	// pg_dump repeats the DSN in some messages; keep a password out.
	if strings.Contains(s, "password") {
		return "(its message mentions a password and is not shown)"
	}
	return s
}

// snapshotPath is where a restored SQLite database goes before it is put
// in place.
func snapshotPath(stage string) string {
	return filepath.Join(stage, filepath.FromSlash(DBEntrySQLite))
}
