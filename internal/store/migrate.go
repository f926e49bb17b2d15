package store

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/sceau/sceau/internal/sceau"
)

//go:embed migrations
var migrationFiles embed.FS

type migration struct {
	version int
	name    string
	sql     string
}

func migrations(engine Engine) ([]migration, error) {
	dir := "migrations/" + string(engine)
	entries, err := fs.ReadDir(migrationFiles, dir)
	if err != nil {
		return nil, err
	}
	var ms []migration
	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, ".sql") {
			continue
		}
		num, _, ok := strings.Cut(name, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil {
			return nil, fmt.Errorf("store: migration %s is not named NNNN_name.sql", name)
		}
		b, err := fs.ReadFile(migrationFiles, dir+"/"+name)
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{version: v, name: strings.TrimSuffix(name, ".sql"), sql: string(b)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	for i, m := range ms {
		if m.version != i+1 {
			return nil, fmt.Errorf("store: migrations of %s are not numbered 1..n (found %d at position %d)", engine, m.version, i+1)
		}
	}
	return ms, nil
}

// Migrate applies every embedded migration not yet applied, each in its own
// transaction, and records it in schema_migrations. It is safe to call at
// every start and from several nodes at once.
//
// When every migration is applied already it runs no DDL at all, so a
// PostgreSQL service role that may not create or alter anything
// (GrantServiceRole, AUD-2) starts on a schema its owner has migrated. When
// some are pending and the role lacks the privileges to apply them, it says
// so and names the fix.
func (db *DB) Migrate(ctx context.Context) error {
	const op = "store: migrate"
	ms, err := migrations(db.engine)
	if err != nil {
		return sceau.E(sceau.Internal, op, "", err)
	}
	applied, err := db.appliedVersions(ctx)
	if err != nil {
		return Classify(op, err)
	}
	var pending []migration
	for _, m := range ms {
		if !applied[m.version] {
			pending = append(pending, m)
		}
	}
	if len(pending) == 0 {
		return nil
	}
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)`); err != nil {
		return db.migrateError(op, len(applied), len(ms), err)
	}
	for _, m := range pending {
		err := db.InTx(ctx, func(tx *Tx) error {
			if db.engine == Postgres {
				// Serialize concurrent migrators across nodes.
				if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(7231001)`); err != nil {
					return err
				}
			}
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations WHERE version = ?`, m.version).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				return nil
			}
			if _, err := tx.ExecContext(ctx, m.sql); err != nil {
				return fmt.Errorf("migration %s: %w", m.name, err)
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
				m.version, m.name, FormatTime(time.Now()))
			return err
		})
		if err != nil {
			return db.migrateError(op, len(applied), len(ms), err)
		}
	}
	return nil
}

// PendingMigrations names the migrations Migrate would apply, in order.
func (db *DB) PendingMigrations(ctx context.Context) ([]string, error) {
	const op = "store: migrate"
	ms, err := migrations(db.engine)
	if err != nil {
		return nil, sceau.E(sceau.Internal, op, "", err)
	}
	applied, err := db.appliedVersions(ctx)
	if err != nil {
		return nil, Classify(op, err)
	}
	var pending []string
	for _, m := range ms {
		if !applied[m.version] {
			pending = append(pending, m.name)
		}
	}
	return pending, nil
}

// appliedVersions returns the applied migrations; none when
// schema_migrations does not exist yet. It only reads, so that a role
// without CREATE can run it.
func (db *DB) appliedVersions(ctx context.Context) (map[int]bool, error) {
	q := `SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'`
	if db.engine == Postgres {
		// current_schema() is where CREATE TABLE would put it.
		q = `SELECT COUNT(*) FROM pg_catalog.pg_tables WHERE schemaname = current_schema() AND tablename = 'schema_migrations'`
	}
	var n int
	if err := db.QueryRowContext(ctx, q).Scan(&n); err != nil || n == 0 {
		return map[int]bool{}, err
	}
	rows, err := db.QueryContext(ctx, `SELECT version FROM schema_migrations`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	applied := map[int]bool{}
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		applied[v] = true
	}
	return applied, rows.Err()
}

// migrateError explains a migration refused for lack of privilege: the
// DSN is the service role's (AUD-2), and the owner must migrate.
func (db *DB) migrateError(op string, applied, known int, err error) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "3F000" {
		// current_schema() skips the schemas the role may not use.
		return sceau.E(sceau.Unavailable, op,
			"no schema of the search path exists or may be used by this database role: check search_path in the DSN; "+
				"for a service role, run 'sceau db grant-service-role ROLE --yes' with the owner's DSN", err)
	}
	if errors.As(err, &pe) && pe.Code == "42501" {
		return sceau.E(sceau.Unavailable, op, fmt.Sprintf(
			"the schema has %d of this version's %d migrations and this database role may not apply the others: "+
				"run 'sceau db grant-service-role ROLE --yes' with the owner's DSN (it migrates, then grants what the new version needs), then start again",
			applied, known), err)
	}
	return Classify(op, err)
}

// Version returns the highest applied migration.
func (db *DB) Version(ctx context.Context) (int, error) {
	var v int
	err := db.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&v)
	return v, Classify("store: version", err)
}
