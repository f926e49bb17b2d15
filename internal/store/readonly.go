package store

import (
	"context"
	"database/sql"
	"net/url"
	"os"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/sceau/sceau/internal/sceau"
)

// OpenReadOnly opens a database that exists for reading only: every
// transaction of the returned DB is read-only in the database itself, so a
// write that slipped in fails there instead of changing anything. It is
// the store of a public-only node (docs/scaling.md), which serves what the
// signing nodes wrote and writes nothing (SYS-2: the public side exposes
// nothing writable, down to its database session).
//
// PostgreSQL: every session sets default_transaction_read_only, which is
// also what a hot standby imposes, so the DSN may name a streaming standby
// and a role granted SELECT alone. SQLite: the file must exist; the
// connection is query_only and never takes the write lock (its
// transactions are deferred, not immediate, and Close does not checkpoint
// the WAL), so it does not hold up the node that writes.
func OpenReadOnly(ctx context.Context, engine Engine, dsn string) (*DB, error) {
	return open(ctx, engine, dsn, true)
}

// ReadOnly reports whether db was opened by OpenReadOnly.
func (db *DB) ReadOnly() bool { return db.readOnly }

func openReadOnly(engine Engine, dsn string) (*sql.DB, error) {
	const op = "store: open read-only"
	switch engine {
	case SQLite:
		if dsn == "" {
			return nil, sceau.Errorf(sceau.Invalid, op, "sqlite needs a file path")
		}
		if _, err := os.Stat(dsn); err != nil {
			return nil, sceau.E(sceau.NotFound, op, "the database "+dsn+" does not exist: a read-only node serves a database that a signing node created", err)
		}
		q := url.Values{}
		for _, p := range []string{"busy_timeout(30000)", "foreign_keys(1)", "query_only(1)"} {
			q.Add("_pragma", p)
		}
		db, err := sql.Open("sqlite", "file:"+dsn+"?"+q.Encode())
		if err != nil {
			return nil, sceau.E(sceau.Unavailable, op, "cannot open the database", err)
		}
		db.SetMaxOpenConns(8)
		db.SetMaxIdleConns(8)
		return db, nil
	case Postgres:
		cfg, err := pgx.ParseConfig(dsn)
		if err != nil {
			return nil, sceau.E(sceau.Invalid, op, "the PostgreSQL connection string cannot be parsed", err)
		}
		cfg.RuntimeParams["default_transaction_read_only"] = "on"
		db := stdlib.OpenDB(*cfg)
		db.SetMaxOpenConns(16)
		db.SetMaxIdleConns(16)
		return db, nil
	default:
		return nil, sceau.Errorf(sceau.Invalid, op, "unknown database engine %q (want sqlite or postgres)", engine)
	}
}
