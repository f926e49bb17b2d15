package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/sceau/sceau/internal/sceau"
)

// Engine names a database engine.
type Engine string

// The supported engines.
const (
	SQLite   Engine = "sqlite"
	Postgres Engine = "postgres"
)

// Querier is what domain packages write their SQL against: the subset shared
// by DB and Tx. Queries use '?' placeholders.
type Querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// DB is an open database.
type DB struct {
	sql    *sql.DB
	engine Engine
	// stmts caches prepared statements by query text on SQLite, where
	// parsing a statement costs about as much as running it. pgx keeps its
	// own per-connection cache, so PostgreSQL needs none.
	stmts     sync.Map // string -> *sql.Stmt
	nstmts    atomic.Int32
	preparing sync.Map // string -> true while prepared in the background
	// closeMu and closed stop the cache once Close begins, and bg counts
	// the background preparations Close waits for: a statement prepared
	// after Close would hold its connection open, and SQLite checkpoints
	// its WAL into the file only when the last connection closes.
	closeMu sync.Mutex
	closed  bool
	bg      sync.WaitGroup
	// lastFailure is the last commit refused for want of the store, nil
	// once a commit succeeds (Health).
	lastFailure atomic.Pointer[failure]
	// readOnly: opened by OpenReadOnly, every transaction is read-only.
	readOnly bool
}

// maxCachedStatements bounds the cache; queries built with a variable
// number of rows (multi-row INSERTs) stay few in practice.
const maxCachedStatements = 512

// stmt returns the cached prepared statement of q, or nil to run q as is.
// Outside a transaction it prepares q on first use.
func (db *DB) stmt(ctx context.Context, q string) *sql.Stmt {
	if db.engine != SQLite {
		return nil
	}
	if st, ok := db.stmts.Load(q); ok {
		return st.(*sql.Stmt)
	}
	return db.prepare(ctx, q)
}

// txStmt is stmt for a transaction: a query not yet prepared runs as is
// and is prepared in the background. Preparing it here would need a second
// connection while the transaction holds one, and with every connection
// held by writers waiting for the lock, that would deadlock.
func (db *DB) txStmt(q string) *sql.Stmt {
	if db.engine != SQLite {
		return nil
	}
	if st, ok := db.stmts.Load(q); ok {
		return st.(*sql.Stmt)
	}
	db.closeMu.Lock()
	defer db.closeMu.Unlock()
	if db.closed {
		return nil
	}
	if _, busy := db.preparing.LoadOrStore(q, true); !busy {
		db.bg.Add(1)
		go func() {
			defer db.bg.Done()
			defer db.preparing.Delete(q)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			db.prepare(ctx, q)
		}()
	}
	return nil
}

func (db *DB) prepare(ctx context.Context, q string) *sql.Stmt {
	if db.nstmts.Load() >= maxCachedStatements {
		return nil
	}
	prepared, err := db.sql.PrepareContext(ctx, q)
	if err != nil {
		return nil // the caller runs q directly and gets the error there
	}
	db.closeMu.Lock()
	defer db.closeMu.Unlock()
	if db.closed {
		prepared.Close()
		return nil
	}
	if st, loaded := db.stmts.LoadOrStore(q, prepared); loaded {
		prepared.Close()
		return st.(*sql.Stmt)
	}
	db.nstmts.Add(1)
	return prepared
}

// Open opens the database. For SQLite, dsn is a file path; the file is created
// with WAL journaling and synchronous=FULL so that a committed transaction
// survives a power loss. For PostgreSQL, dsn is a libpq connection string or
// URL.
func Open(ctx context.Context, engine Engine, dsn string) (*DB, error) {
	return open(ctx, engine, dsn, false)
}

func open(ctx context.Context, engine Engine, dsn string, readOnly bool) (*DB, error) {
	const op = "store: open"
	var (
		db  *sql.DB
		err error
	)
	switch {
	case readOnly:
		if db, err = openReadOnly(engine, dsn); err != nil {
			return nil, err // it says why
		}
	case engine == SQLite:
		if dsn == "" {
			return nil, sceau.Errorf(sceau.Invalid, op, "sqlite needs a file path")
		}
		if dir := filepath.Dir(dsn); dir != "" {
			if err := os.MkdirAll(dir, 0o700); err != nil {
				return nil, sceau.E(sceau.Unavailable, op, "cannot create the database directory", err)
			}
		}
		q := url.Values{}
		// mmap_size: the first GiB of the file is read through a memory
		// map instead of one pread per page; reading the archive's
		// objects back (ARC-6 verification) goes from about 0.36 to 0.60
		// of bare SHA-256. Writes still go through the WAL.
		for _, p := range []string{"journal_mode(WAL)", "synchronous(FULL)", "busy_timeout(30000)", "foreign_keys(1)", "mmap_size(1073741824)"} {
			q.Add("_pragma", p)
		}
		// Write transactions take the lock at BEGIN, so two writers never
		// deadlock upgrading a read lock.
		q.Set("_txlock", "immediate")
		db, err = sql.Open("sqlite", "file:"+dsn+"?"+q.Encode())
		if err == nil {
			db.SetMaxOpenConns(8)
			db.SetMaxIdleConns(8)
		}
	case engine == Postgres:
		db, err = sql.Open("pgx", dsn)
		if err == nil {
			db.SetMaxOpenConns(16)
			db.SetMaxIdleConns(16)
		}
	default:
		return nil, sceau.Errorf(sceau.Invalid, op, "unknown database engine %q (want sqlite or postgres)", engine)
	}
	if err != nil {
		return nil, sceau.E(sceau.Unavailable, op, "cannot open the database", err)
	}
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := db.PingContext(pctx); err != nil {
		db.Close()
		return nil, sceau.E(sceau.Unavailable, op, "cannot reach the database", err)
	}
	return &DB{sql: db, engine: engine, readOnly: readOnly}, nil
}

// Engine returns the engine of db.
func (db *DB) Engine() Engine { return db.engine }

// Close closes the database. On SQLite the WAL is checkpointed into the
// file first, so that the file alone holds every committed transaction
// (a copy of it is a whole database).
func (db *DB) Close() error {
	db.closeMu.Lock()
	db.closed = true
	db.closeMu.Unlock()
	db.bg.Wait()
	db.stmts.Range(func(_, st any) bool {
		st.(*sql.Stmt).Close()
		return true
	})
	if db.engine == SQLite && !db.readOnly {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_, _ = db.sql.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)") // best effort: closing checkpoints too
		cancel()
	}
	return db.sql.Close()
}

// SQL returns the underlying handle, for tests and tools that need it.
func (db *DB) SQL() *sql.DB { return db.sql }

// ExecContext runs a statement outside any transaction.
func (db *DB) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	if st := db.stmt(ctx, q); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return db.sql.ExecContext(ctx, db.rebind(q), args...)
}

// QueryContext runs a query outside any transaction.
func (db *DB) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	if st := db.stmt(ctx, q); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return db.sql.QueryContext(ctx, db.rebind(q), args...)
}

// QueryRowContext runs a one-row query outside any transaction.
func (db *DB) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	if st := db.stmt(ctx, q); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return db.sql.QueryRowContext(ctx, db.rebind(q), args...)
}

// Tx is a transaction; its methods rebind placeholders like DB's.
type Tx struct {
	tx     *sql.Tx
	engine Engine
	db     *DB
}

// Engine returns the engine of the transaction's database.
func (tx *Tx) Engine() Engine { return tx.engine }

// ExecContext runs a statement in the transaction.
func (tx *Tx) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	if st := tx.db.txStmt(q); st != nil {
		return tx.tx.StmtContext(ctx, st).ExecContext(ctx, args...)
	}
	return tx.tx.ExecContext(ctx, rebind(tx.engine, q), args...)
}

// QueryContext runs a query in the transaction.
func (tx *Tx) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	if st := tx.db.txStmt(q); st != nil {
		return tx.tx.StmtContext(ctx, st).QueryContext(ctx, args...)
	}
	return tx.tx.QueryContext(ctx, rebind(tx.engine, q), args...)
}

// QueryRowContext runs a one-row query in the transaction.
func (tx *Tx) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	if st := tx.db.txStmt(q); st != nil {
		return tx.tx.StmtContext(ctx, st).QueryRowContext(ctx, args...)
	}
	return tx.tx.QueryRowContext(ctx, rebind(tx.engine, q), args...)
}

// InTx runs fn in a transaction and commits it when fn returns nil. Any error,
// from fn or from the commit, rolls everything back: a state change and its
// audit event are written together or not at all (AUD-7).
func (db *DB) InTx(ctx context.Context, fn func(tx *Tx) error) error {
	stx, err := db.sql.BeginTx(ctx, nil)
	if err != nil {
		err = Classify("store: begin", err)
		db.noteOutcome(err)
		return err
	}
	tx := &Tx{tx: stx, engine: db.engine, db: db}
	if err := fn(tx); err != nil {
		_ = stx.Rollback()
		db.noteOutcome(err)
		return err
	}
	if err := stx.Commit(); err != nil {
		err = Classify("store: commit", err)
		db.noteOutcome(err)
		return err
	}
	db.noteOutcome(nil)
	return nil
}

func (db *DB) rebind(q string) string { return rebind(db.engine, q) }

var rebound sync.Map // string -> string, PostgreSQL forms of '?' queries

// rebind turns '?' placeholders into PostgreSQL's '$n'. Queries are constants
// in the domain packages, so the result is cached.
func rebind(engine Engine, q string) string {
	if engine != Postgres || !strings.Contains(q, "?") {
		return q
	}
	if r, ok := rebound.Load(q); ok {
		return r.(string)
	}
	var b strings.Builder
	n := 0
	inString := false
	for i := 0; i < len(q); i++ {
		c := q[i]
		if c == '\'' {
			inString = !inString
		}
		if c == '?' && !inString {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(c)
	}
	r := b.String()
	rebound.Store(q, r)
	return r
}

// Classify turns a driver error into a sceau.Error of the right kind: a unique
// violation is a Conflict, a full disk, a read-only file or a lost connection
// is Unavailable, a cancelled context is Unavailable too.
func Classify(op string, err error) error {
	if err == nil {
		return nil
	}
	var se *sceau.Error
	if errors.As(err, &se) {
		return err
	}
	if errors.Is(err, sql.ErrNoRows) {
		return sceau.E(sceau.NotFound, op, "not found", err)
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return sceau.E(sceau.Unavailable, op, "the request was cancelled or timed out", err)
	}
	var le *sqlite.Error
	if errors.As(err, &le) {
		switch le.Code() & 0xff {
		case sqlite3.SQLITE_CONSTRAINT:
			if le.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || le.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY {
				return sceau.E(sceau.Conflict, op, "a record with this key exists already", err)
			}
			return sceau.E(sceau.Invalid, op, "a database constraint refused the change", err)
		case sqlite3.SQLITE_FULL:
			return down(op, "the database disk is full", err)
		case sqlite3.SQLITE_READONLY:
			return down(op, "the database is read-only", err)
		case sqlite3.SQLITE_IOERR, sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB:
			return down(op, "the database file cannot be written or read", err)
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
			return sceau.E(sceau.Unavailable, op, "the database is busy", err)
		}
		return sceau.E(sceau.Internal, op, "", err)
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case pe.Code == "23505":
			return sceau.E(sceau.Conflict, op, "a record with this key exists already", err)
		case strings.HasPrefix(pe.Code, "23"):
			return sceau.E(sceau.Invalid, op, "a database constraint refused the change", err)
		case pe.Code == "53100":
			return down(op, "the database disk is full", err)
		case pe.Code == "25006" || pe.Code == "42501":
			return down(op, "the database refuses writes", err)
		case strings.HasPrefix(pe.Code, "08") || strings.HasPrefix(pe.Code, "57") || strings.HasPrefix(pe.Code, "53"):
			return down(op, LostMessage, err)
		case pe.Code == "40001" || pe.Code == "40P01":
			return sceau.E(sceau.Unavailable, op, "the database aborted a conflicting transaction; retry", err)
		}
		return sceau.E(sceau.Internal, op, "", err)
	}
	if Lost(err) {
		return down(op, LostMessage, err)
	}
	return sceau.E(sceau.Internal, op, "", err)
}

// timeLayout is fixed width so stored times sort as text.
const timeLayout = "2006-01-02T15:04:05.000000000Z"

// FormatTime renders t as stored: UTC, nanoseconds, fixed width.
func FormatTime(t time.Time) string { return t.UTC().Format(timeLayout) }

// ParseTime reads a time written by FormatTime.
func ParseTime(s string) (time.Time, error) {
	t, err := time.Parse(timeLayout, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("store: bad stored time %q: %w", s, err)
	}
	return t, nil
}

// NullTime reads an optional stored time.
func NullTime(s sql.NullString) (time.Time, error) {
	if !s.Valid || s.String == "" {
		return time.Time{}, nil
	}
	return ParseTime(s.String)
}
