package store_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/sceau/sceau/internal/audit"
	"github.com/sceau/sceau/internal/ca"
	"github.com/sceau/sceau/internal/keys"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/sceautest"
	"github.com/sceau/sceau/internal/store"
)

// AUD-2: every table of the migrated schema has a grant decision, and
// every decision names a table that exists: a migration that adds a table
// fails here until ServiceGrants says what the service role may do on it.
func TestAUD2_ServiceGrantsDecideEveryTable(t *testing.T) {
	sceautest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		tables, err := db.Tables(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		var decided []string
		for _, g := range store.ServiceGrants() {
			decided = append(decided, g.Table)
		}
		slices.Sort(decided)
		if diff := cmp.Diff(tables, decided); diff != "" {
			t.Errorf("tables of the migrated schema (-) against store.ServiceGrants (+):\n%s", diff)
		}
	})
}

// AUD-2: the journal and its proofs are append-only for the service role,
// and no table gets a privilege the service never uses.
func TestAUD2_ServiceGrantsKeepTheJournalAppendOnly(t *testing.T) {
	for _, g := range store.ServiceGrants() {
		allowed := []store.Privilege{store.Select, store.Insert}
		if g.Table == "audit_events" {
			allowed = append(allowed, store.Delete) // AUD-4: the trigger admits archived events only
		}
		if strings.HasPrefix(g.Table, "audit_") && g.Table != "audit_head" && g.Table != "audit_cursors" && !g.AppendOnly {
			t.Errorf("%s: a journal table not marked append-only", g.Table)
		}
		if !g.AppendOnly {
			continue
		}
		for _, p := range g.Privileges {
			if !slices.Contains(allowed, p) {
				t.Errorf("%s is append-only but the service role gets %s", g.Table, p)
			}
		}
	}
}

// AUD-2: the grants are the privileges the code's statements need, no
// more and no less. It reads the SQL literals of every non-test Go file in
// internal/ and cmd/: INSERT INTO t, UPDATE t, DELETE FROM t, and INSERT …
// ON CONFLICT … DO UPDATE (an UPDATE). Every table may be read.
func TestAUD2_ServiceGrantsMatchTheStatements(t *testing.T) {
	var (
		literal  = regexp.MustCompile("`[^`]*`")
		insert   = regexp.MustCompile(`\bINSERT INTO\s+([a-z_]+)`)
		update   = regexp.MustCompile(`\bUPDATE\s+([a-z_]+)`)
		del      = regexp.MustCompile(`\bDELETE FROM\s+([a-z_]+)`)
		upsert   = regexp.MustCompile(`\bINSERT INTO\s+([a-z_]+)[^;]*\bON CONFLICT\b[^;]*\bDO UPDATE\b`)
		grants   = map[string][]store.Privilege{}
		need     = map[string][]store.Privilege{}
		sourceOf = map[string]string{}
	)
	for _, g := range store.ServiceGrants() {
		grants[g.Table] = g.Privileges
	}
	add := func(table string, p store.Privilege, file string) {
		if _, ok := grants[table]; !ok {
			return // a word of prose, or a table the store test suite makes
		}
		if !slices.Contains(need[table], p) {
			need[table] = append(need[table], p)
			sourceOf[table+" "+string(p)] = file
		}
	}
	for _, root := range []string{"../../internal", "../../cmd"} {
		err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && d.Name() == "sceautest" {
				return filepath.SkipDir // test helpers, not the service
			}
			if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return nil
			}
			if filepath.ToSlash(path) == "../../internal/store/migrate.go" {
				return nil // only the owner applies migrations
			}
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			for _, lit := range literal.FindAllString(string(b), -1) {
				for _, m := range insert.FindAllStringSubmatch(lit, -1) {
					add(m[1], store.Insert, path)
				}
				for _, m := range update.FindAllStringSubmatch(lit, -1) {
					add(m[1], store.Update, path)
				}
				for _, m := range del.FindAllStringSubmatch(lit, -1) {
					add(m[1], store.Delete, path)
				}
				for _, m := range upsert.FindAllStringSubmatch(lit, -1) {
					add(m[1], store.Update, path)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	for table, granted := range grants {
		for _, p := range []store.Privilege{store.Insert, store.Update, store.Delete} {
			switch used := slices.Contains(need[table], p); {
			case used && !slices.Contains(granted, p):
				t.Errorf("%s runs %s on %s, which store.ServiceGrants does not give", sourceOf[table+" "+string(p)], p, table)
			case !used && slices.Contains(granted, p):
				t.Errorf("store.ServiceGrants gives %s on %s, which no statement of internal/ or cmd/ runs", p, table)
			}
		}
	}
}

// Grants are PostgreSQL's: SQLite refuses with an Invalid error, and so
// does a role name that is not a plain identifier, whatever the engine.
func TestGrantServiceRoleRefusesSQLiteAndBadNames(t *testing.T) {
	db := sceautest.OpenSQLite(t)
	for _, role := range []string{"sceau_service", `x"; DROP TABLE audit_events; --`, "", "1abc", "pg_monitor"} {
		if _, err := store.GrantServiceRole(t.Context(), db, role, nil); sceau.KindOf(err) != sceau.Invalid {
			t.Errorf("GrantServiceRole(sqlite, %q) = %v, want an Invalid error", role, err)
		}
	}
}

// pgServiceRole is a fresh schema migrated by its owner (the test DSN's
// user) and a throwaway LOGIN role, dropped at cleanup.
type pgServiceRole struct {
	owner  *store.DB
	schema string
	role   string
	dsn    string // the service role's, on the schema
}

func newPGServiceRole(t *testing.T) *pgServiceRole {
	t.Helper()
	owner := sceautest.OpenPostgres(t) // skips without SCEAU_TEST_POSTGRES_DSN
	ctx := t.Context()
	p := &pgServiceRole{owner: owner, role: "sceautest_svc_" + randomHex(t)}
	if err := owner.QueryRowContext(ctx, `SELECT current_schema()`).Scan(&p.schema); err != nil {
		t.Fatal(err)
	}
	if _, err := owner.ExecContext(ctx, `CREATE ROLE `+p.role+` LOGIN`); err != nil {
		t.Fatalf("create role: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		// DROP OWNED revokes its privileges, so that the role can go.
		for _, q := range []string{`DROP OWNED BY ` + p.role, `DROP ROLE ` + p.role} {
			if _, err := owner.ExecContext(ctx, q); err != nil {
				t.Errorf("%s: %v", q, err)
			}
		}
	})
	p.dsn = dsnAs(t, os.Getenv(sceautest.PostgresDSNEnv), p.role, p.schema)
	return p
}

// open connects as the service role; closed before the role is dropped.
func (p *pgServiceRole) open(t *testing.T) *store.DB {
	t.Helper()
	db, err := store.Open(t.Context(), store.Postgres, p.dsn)
	if err != nil {
		t.Fatalf("open as %s: %v", p.role, err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func randomHex(t *testing.T) string {
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b[:])
}

// dsnAs returns dsn with user role and search_path schema, in the URL and
// the keyword/value forms.
func dsnAs(t *testing.T, dsn, role, schema string) string {
	t.Helper()
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			t.Fatal(err)
		}
		u.User = url.User(role)
		q := u.Query()
		q.Set("search_path", schema)
		u.RawQuery = q.Encode()
		return u.String()
	}
	return strings.TrimSpace(dsn) + " user=" + role + " password='' search_path=" + schema
}

// sqlState is the SQLSTATE of a PostgreSQL error, or "".
func sqlState(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

const (
	insufficientPrivilege = "42501"
	raiseException        = "P0001" // the append-only triggers' RAISE EXCEPTION
)

// AUD-2: on PostgreSQL the service role runs the whole service, and cannot
// change, remove or truncate the journal, drop or disable its triggers, or
// alter its tables: the database refuses, by privilege or by trigger.
func TestAUD2_PostgresServiceRoleCannotRewriteTheJournal(t *testing.T) {
	p := newPGServiceRole(t)
	ctx := t.Context()

	// A dry run changes nothing.
	plan, err := store.PlanServiceRole(ctx, p.owner, p.role)
	if err != nil {
		t.Fatalf("PlanServiceRole: %v", err)
	}
	var has bool
	if err := p.owner.QueryRowContext(ctx, `SELECT has_table_privilege(?, 'audit_events', 'SELECT')`, p.role).Scan(&has); err != nil || has {
		t.Fatalf("after the dry run the role reads audit_events: %v, %v", has, err)
	}
	got, err := store.GrantServiceRole(ctx, p.owner, p.role, nil)
	if err != nil {
		t.Fatalf("GrantServiceRole: %v", err)
	}
	if diff := cmp.Diff(plan, got); diff != "" {
		t.Errorf("the dry run differs from the grant (-plan +grant):\n%s", diff)
	}
	for _, s := range got.Statements {
		if strings.Contains(s, "TRUNCATE") || strings.Contains(s, "REFERENCES") || strings.Contains(s, "TRIGGER") ||
			strings.Contains(s, "OWNER") || strings.Contains(s, "ALL PRIVILEGES") || (strings.HasPrefix(s, "GRANT") && strings.Contains(s, "CREATE")) {
			t.Errorf("statement gives too much: %s", s)
		}
	}
	// Twice is the same as once.
	if _, err := store.GrantServiceRole(ctx, p.owner, p.role, nil); err != nil {
		t.Fatalf("GrantServiceRole again: %v", err)
	}

	svc := p.open(t)
	// The schema is migrated already: Migrate runs no DDL as the service role.
	if err := svc.Migrate(ctx); err != nil {
		t.Fatalf("Migrate as the service role on a migrated schema: %v", err)
	}

	// (a) A working day as the service role: CAs and their first CRLs,
	// issuance, revocation, a new CRL, OCSP refresh, the audit key, a
	// checkpoint, the configuration, the analysis, and the archive move
	// that deletes archived events (AUD-4).
	clock := sceautest.NewClock(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	h := sceautest.NewHierarchy(t, svc, sceautest.HierarchyOptions{Clock: clock})
	actor := sceau.Actor{ID: "alice", Role: "operator"}
	iss, err := h.Authority.IssueCSR(ctx, actor, ca.Request{CA: "issuing", Profile: "server",
		CSR: sceautest.CSR(t, sceautest.NewKey(t, keys.ECDSAP256), "www.example.test", "www.example.test")})
	if err != nil {
		t.Fatalf("issue as the service role: %v", err)
	}
	if err := h.Revocation.Revoke(ctx, actor, iss.Serial, 1); err != nil {
		t.Fatalf("revoke as the service role: %v", err)
	}
	if _, err := h.Revocation.IssueCRL(ctx, actor, "issuing"); err != nil {
		t.Fatalf("CRL as the service role: %v", err)
	}
	if _, err := h.Revocation.Refresh(ctx, 100); err != nil {
		t.Fatalf("OCSP refresh as the service role: %v", err)
	}
	signer, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := audit.RegisterKey(ctx, svc, h.Journal, sceau.System("test"), "audit-signing", signer.Public()); err != nil {
		t.Fatalf("register the audit key as the service role: %v", err)
	}
	cp, err := audit.NewCheckpointer(svc, signer, h.Journal)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cp.Checkpoint(ctx, audit.KindPeriodic); err != nil {
		t.Fatalf("checkpoint as the service role: %v", err)
	}
	if _, _, err := audit.RecordConfig(ctx, svc, h.Journal, sceau.System("test"), "test", map[string]string{"a": "1"}); err != nil {
		t.Fatalf("record the configuration as the service role: %v", err)
	}
	if _, err := audit.NewAnalyzer(svc, h.Journal, audit.DefaultRules(), clock).Analyze(ctx); err != nil {
		t.Fatalf("analysis as the service role: %v", err)
	}
	clock.Advance(audit.MinLiveRetention + 24*time.Hour)
	mover, err := audit.NewMover(svc, h.Journal, cp, audit.MinLiveRetention, clock)
	if err != nil {
		t.Fatal(err)
	}
	moved, err := mover.Move(ctx)
	if err != nil || moved == 0 {
		t.Fatalf("archive move as the service role = %d, %v; want events moved", moved, err)
	}
	if err := svc.InTx(ctx, func(tx *store.Tx) error {
		return h.Journal.Append(ctx, tx, audit.Event{Actor: actor, Action: "test.after_archive", Object: "test:1"})
	}); err != nil {
		t.Fatalf("append as the service role: %v", err)
	}

	before, err := audit.Verify(ctx, svc)
	if err != nil || !before.OK() {
		t.Fatalf("Verify before the attempts = %+v, %v", before, err)
	}
	var last int64
	if err := svc.QueryRowContext(ctx, `SELECT MAX(seq) FROM audit_events`).Scan(&last); err != nil {
		t.Fatal(err)
	}

	// (b) What the service role may not do, each refused with its SQLSTATE.
	attempts := []struct {
		name, sql, state string
	}{
		{"update an event", `UPDATE audit_events SET actor = 'mallory' WHERE seq = ?`, insufficientPrivilege},
		{"truncate the journal", `TRUNCATE audit_events`, insufficientPrivilege},
		{"delete an unarchived event", `DELETE FROM audit_events WHERE seq = ?`, raiseException},
		{"drop the delete trigger", `DROP TRIGGER audit_events_no_delete ON audit_events`, insufficientPrivilege},
		{"disable the triggers", `ALTER TABLE audit_events DISABLE TRIGGER ALL`, insufficientPrivilege},
		{"alter the journal", `ALTER TABLE audit_events ADD COLUMN note TEXT`, insufficientPrivilege},
		{"replace the trigger function", `CREATE OR REPLACE FUNCTION audit_events_delete_archived() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN OLD; END; $$`, insufficientPrivilege},
		{"update a checkpoint", `UPDATE audit_checkpoints SET signature = '\x00'`, insufficientPrivilege},
		{"delete a checkpoint", `DELETE FROM audit_checkpoints`, insufficientPrivilege},
		{"truncate the checkpoints", `TRUNCATE audit_checkpoints`, insufficientPrivilege},
		{"delete from the archive", `DELETE FROM audit_archive`, insufficientPrivilege},
		{"move the chain head back", `DELETE FROM audit_head`, insufficientPrivilege},
		{"record a migration", `INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'x', 'x')`, insufficientPrivilege},
		{"create a table", `CREATE TABLE audit_shadow (seq BIGINT)`, insufficientPrivilege},
	}
	for _, a := range attempts {
		t.Run(a.name, func(t *testing.T) {
			var args []any
			if strings.Contains(a.sql, "?") {
				args = append(args, last)
			}
			_, err := svc.ExecContext(ctx, a.sql, args...)
			if err == nil {
				t.Fatalf("%s: the database accepted it", a.sql)
			}
			if got := sqlState(err); got != a.state {
				t.Errorf("%s: SQLSTATE %q (%v), want %s", a.sql, got, err, a.state)
			}
		})
	}

	// AUD-4: temporary tables come first in the search path. Without the
	// pinned search path of the deletion trigger, these two would satisfy
	// its check and let the event go.
	t.Run("delete through temporary look-alikes", func(t *testing.T) {
		conn, err := svc.SQL().Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		// The pool keeps the connection: its look-alikes must not outlive
		// the subtest.
		defer conn.ExecContext(context.Background(), `DISCARD TEMP`)
		for _, q := range []string{
			`CREATE TEMP TABLE audit_archive AS SELECT * FROM audit_events`,
			`CREATE TEMP TABLE audit_checkpoints (kind TEXT, archived_through BIGINT)`,
			`INSERT INTO audit_checkpoints VALUES ('archive', 9223372036854775807)`,
		} {
			if _, err := conn.ExecContext(ctx, q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		_, err = conn.ExecContext(ctx, `DELETE FROM audit_events WHERE seq = $1`, last)
		if got := sqlState(err); got != raiseException {
			t.Errorf("DELETE with temporary look-alikes: SQLSTATE %q (%v), want %s", got, err, raiseException)
		}
	})

	after, err := audit.Verify(ctx, svc)
	if err != nil || !after.OK() || after.Events != before.Events {
		t.Errorf("Verify after the attempts = %+v, %v; want %+v", after, err, before)
	}

	// A pending migration: the service role says what to do instead of
	// failing on a CREATE it may not run.
	t.Run("pending migration", func(t *testing.T) {
		var v int
		var name, at string
		if err := p.owner.QueryRowContext(ctx, `SELECT version, name, applied_at FROM schema_migrations ORDER BY version DESC LIMIT 1`).Scan(&v, &name, &at); err != nil {
			t.Fatal(err)
		}
		if _, err := p.owner.ExecContext(ctx, `DELETE FROM schema_migrations WHERE version = ?`, v); err != nil {
			t.Fatal(err)
		}
		defer func() {
			if _, err := p.owner.ExecContext(context.Background(), `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`, v, name, at); err != nil {
				t.Error(err)
			}
		}()
		err := svc.Migrate(ctx)
		if sceau.KindOf(err) != sceau.Unavailable || !strings.Contains(err.Error(), "grant-service-role") || sqlState(err) != insufficientPrivilege {
			t.Errorf("Migrate with a pending migration as the service role = %v, want Unavailable naming grant-service-role", err)
		}
	})
}

// AUD-2: GrantServiceRole refuses roles that no grant can limit, and
// changes nothing when the role would keep more than its grants.
func TestAUD2_PostgresGrantServiceRoleRefuses(t *testing.T) {
	p := newPGServiceRole(t)
	ctx := t.Context()
	var self string
	if err := p.owner.QueryRowContext(ctx, `SELECT current_user`).Scan(&self); err != nil {
		t.Fatal(err)
	}
	for _, role := range []string{self, "sceautest_nobody_" + randomHex(t)} {
		if _, err := store.GrantServiceRole(ctx, p.owner, role, nil); sceau.KindOf(err) != sceau.Invalid {
			t.Errorf("GrantServiceRole(%q) = %v, want Invalid (superuser or missing role)", role, err)
		}
	}

	t.Run("privilege through PUBLIC", func(t *testing.T) {
		if _, err := p.owner.ExecContext(ctx, `GRANT TRUNCATE ON audit_alerts TO PUBLIC`); err != nil {
			t.Fatal(err)
		}
		defer p.owner.ExecContext(context.Background(), `REVOKE TRUNCATE ON audit_alerts FROM PUBLIC`)
		_, err := store.GrantServiceRole(ctx, p.owner, p.role, nil)
		if sceau.KindOf(err) != sceau.Invalid || !strings.Contains(err.Error(), "TRUNCATE on audit_alerts") {
			t.Errorf("GrantServiceRole with TRUNCATE granted to PUBLIC = %v, want Invalid naming it", err)
		}
		var has bool
		if err := p.owner.QueryRowContext(ctx, `SELECT has_table_privilege(?, 'audit_events', 'INSERT')`, p.role).Scan(&has); err != nil || has {
			t.Errorf("a refused grant left INSERT on audit_events: %v, %v", has, err)
		}
	})

	t.Run("owner of a table", func(t *testing.T) {
		if _, err := p.owner.ExecContext(ctx, `CREATE TABLE owned_by_service (a INTEGER)`); err != nil {
			t.Fatal(err)
		}
		defer p.owner.ExecContext(context.Background(), `DROP TABLE owned_by_service`)
		if _, err := p.owner.ExecContext(ctx, `ALTER TABLE owned_by_service OWNER TO `+p.role); err != nil {
			t.Fatal(err)
		}
		_, err := store.GrantServiceRole(ctx, p.owner, p.role, nil)
		if sceau.KindOf(err) != sceau.Invalid || !strings.Contains(err.Error(), "owns") {
			t.Errorf("GrantServiceRole of an owner = %v, want Invalid", err)
		}
	})
}
