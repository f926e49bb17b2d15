package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/sceau/sceau/internal/sceau"
)

// Privilege is a table privilege that the service role may hold.
type Privilege string

// The privileges GrantServiceRole gives. TRUNCATE, REFERENCES and TRIGGER
// are never given: TRUNCATE bypasses the row triggers of the journal, and
// the other two let a role change what the schema enforces (AUD-2).
const (
	Select Privilege = "SELECT"
	Insert Privilege = "INSERT"
	Update Privilege = "UPDATE"
	Delete Privilege = "DELETE"
)

// TableGrant is what the service role may do on one table.
type TableGrant struct {
	Table      string      `json:"table"`
	Privileges []Privilege `json:"privileges"`
	// AppendOnly marks the journal, its proofs and the ceremony
	// transcripts: triggers refuse UPDATE, DELETE and TRUNCATE there and
	// the role gets SELECT and INSERT only (audit_events also DELETE, which
	// its trigger allows for archived events alone, AUD-4).
	AppendOnly bool `json:"append_only"`
}

var (
	si    = []Privilege{Select, Insert}
	siu   = []Privilege{Select, Insert, Update}
	siud  = []Privilege{Select, Insert, Update, Delete}
	sid   = []Privilege{Select, Insert, Delete}
	su    = []Privilege{Select, Update}
	sOnly = []Privilege{Select}
)

// serviceGrants decides, for every table of the schema, what the code run
// by the service role needs: derived from the statements in internal/ and
// cmd/ (TestAUD2_ServiceGrantsMatchTheStatements reads them again, and
// TestAUD2_ServiceGrantsDecideEveryTable fails on a table left out). A
// SELECT … FOR UPDATE needs UPDATE too, and so does INSERT … ON CONFLICT
// DO UPDATE.
var serviceGrants = []TableGrant{
	// Migrate reads the applied versions; only the owner applies new ones.
	{Table: "schema_migrations", Privileges: sOnly},

	// AUD-2, AUD-7: the journal. DELETE passes the trigger only for events
	// copied unchanged to audit_archive under an archive checkpoint (AUD-4).
	{Table: "audit_events", Privileges: sid, AppendOnly: true},
	// The chain head: every append moves it (SELECT … FOR UPDATE, UPDATE).
	{Table: "audit_head", Privileges: su},
	{Table: "audit_keys", Privileges: si, AppendOnly: true},
	{Table: "audit_checkpoints", Privileges: si, AppendOnly: true},
	{Table: "audit_archive", Privileges: si, AppendOnly: true},
	{Table: "audit_alerts", Privileges: si, AppendOnly: true},
	{Table: "audit_config_versions", Privileges: si, AppendOnly: true},
	// The positions of the export, syslog and analysis workers.
	{Table: "audit_cursors", Privileges: siu},

	// Issuance, revocation, CRLs and OCSP.
	{Table: "cas", Privileges: siu},          // OCSP signer renewal, termination
	{Table: "certificates", Privileges: siu}, // reserve, then issue, revoke, OCSP
	{Table: "crl_numbers", Privileges: siu},  // INSERT … ON CONFLICT DO UPDATE
	{Table: "crls", Privileges: siu},         // the DER is stored once signed
	{Table: "key_splits", Privileges: sid},   // KEY-2: a new split replaces the old one
	{Table: "key_shares", Privileges: siud},  // failures, lock, revocation; replaced with the split
	{Table: "key_backups", Privileges: siud}, // KEY-6: destruction is recorded; a ceremony backup is discarded
	{Table: "key_imports", Privileges: si},   // KEY-4: an import is carried out once
	{Table: "ceremony_keys", Privileges: si, AppendOnly: true},
	{Table: "ceremony_transcripts", Privileges: si, AppendOnly: true},

	// Accounts, roles, sessions and dual control (ROLE-*).
	{Table: "accounts", Privileges: siu},             // logins, TOTP steps, status
	{Table: "account_certificates", Privileges: siu}, // revocation
	{Table: "role_assignments", Privileges: siu},     // removal sets removed_at
	{Table: "attestations", Privileges: si},
	{Table: "sessions", Privileges: siu}, // last_seen, ended_at
	{Table: "approval_requests", Privileges: siu},
	{Table: "approval_votes", Privileges: si},

	// The publication site (PUB-1, PUB-2): files and manifests are
	// append-only; a document version is only ever marked withdrawn.
	{Table: "publication_files", Privileges: si, AppendOnly: true},
	{Table: "publication_documents", Privileges: siu},
	{Table: "publication_manifests", Privileges: si, AppendOnly: true},

	// The archive (ARC-1..4): triggers keep items and objects until their
	// retention date, and the tree, heads, stamps and purge records forever.
	{Table: "archive_state", Privileges: su},      // the tree's size, moved under a row lock
	{Table: "archive_objects", Privileges: siud},  // upsert lengthens retention; purge after the date
	{Table: "archive_items", Privileges: sid},     // a recorded purge, after the date
	{Table: "archive_replicas", Privileges: siud}, // the replication queue
	{Table: "archive_tree", Privileges: si, AppendOnly: true},
	{Table: "archive_heads", Privileges: si, AppendOnly: true},
	{Table: "archive_stamps", Privileges: si, AppendOnly: true},
	{Table: "archive_purges", Privileges: si, AppendOnly: true},

	// The incident register (INC-1, INC-4): incidents are closed, never
	// deleted; the timeline is append-only; notifications and obligations
	// are updated as they are delivered and done.
	{Table: "incidents", Privileges: siu},
	{Table: "incident_notes", Privileges: si, AppendOnly: true},
	{Table: "incident_notifications", Privileges: siu},
	{Table: "incident_obligations", Privileges: siu},
	// The registration authority (CA-4): dossiers and revocation requests
	// move forward (never deleted); evidence and CGU acceptances are
	// inserted once; a PKCS#12 link's content is cleared once fetched.
	{Table: "dossiers", Privileges: siu},
	{Table: "dossier_evidence", Privileges: si, AppendOnly: true},
	{Table: "cgu_acceptances", Privileges: si, AppendOnly: true},
	{Table: "download_links", Privileges: siu},
	{Table: "revocation_requests", Privileges: siu},

	// The ACME server (CA-4): EAB keys are bound and revoked, accounts,
	// orders, authorizations and challenges move forward; none is deleted.
	{Table: "acme_eab_keys", Privileges: siu},
	{Table: "acme_accounts", Privileges: siu},
	{Table: "acme_orders", Privileges: siu},
	{Table: "acme_authorizations", Privileges: siu},
	{Table: "acme_challenges", Privileges: siu},

	// The EST server (CA-4): credentials are made and revoked, never
	// deleted; each enrollment is recorded once, with the serial it
	// reserved.
	{Table: "est_credentials", Privileges: siu},
	{Table: "est_enrollments", Privileges: si, AppendOnly: true},
}

// ServiceGrants returns, for every table of the schema, what GrantServiceRole
// gives the service role.
func ServiceGrants() []TableGrant {
	out := make([]TableGrant, len(serviceGrants))
	for i, g := range serviceGrants {
		out[i] = TableGrant{Table: g.Table, Privileges: slices.Clone(g.Privileges), AppendOnly: g.AppendOnly}
	}
	return out
}

// Tables returns the tables of the current schema (PostgreSQL: the first
// schema of the search path), sorted.
func (db *DB) Tables(ctx context.Context) ([]string, error) {
	q := `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`
	if db.engine == Postgres {
		q = `SELECT c.relname FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
			WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') ORDER BY c.relname`
	}
	tables, err := queryStrings(ctx, db.sql, q)
	return tables, Classify("store: tables", err)
}

// ServiceRolePlan is what GrantServiceRole does.
type ServiceRolePlan struct {
	Role      string       `json:"role"`
	Schema    string       `json:"schema"`
	Tables    []TableGrant `json:"tables"`    // as granted, in the order of ServiceGrants
	Sequences []string     `json:"sequences"` // USAGE only
	// Unknown are tables of the schema this version has no decision for
	// (not Sceau's, or from a newer version): the role gets nothing there.
	Unknown    []string `json:"unknown"`
	Statements []string `json:"statements"` // in the order they run, in one transaction
}

// roleName is what GrantServiceRole accepts as a role: a plain SQL
// identifier. It is quoted anyway; the pattern keeps out names that only
// quoting would make valid, and that an operator would not expect.
var roleName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_$]*$`)

// PlanServiceRole runs what GrantServiceRole would, checks the result and
// rolls it back: a dry run that sees the privileges the role would hold.
func PlanServiceRole(ctx context.Context, db *DB, role string) (*ServiceRolePlan, error) {
	return grantServiceRole(ctx, db, role, nil, false)
}

// GrantServiceRole gives role exactly what the service needs on the current
// schema of db, and nothing more (AUD-2: the journal is append-only in the
// database too). It is run by the owner of the schema, after Migrate, and
// again after each upgrade that adds tables:
//
//   - USAGE on the schema, never CREATE;
//   - per table, the privileges of ServiceGrants: on the append-only tables
//     SELECT and INSERT only (audit_events also DELETE, which its trigger
//     allows for archived events only, AUD-4); never TRUNCATE, REFERENCES
//     or TRIGGER, never ownership;
//   - USAGE on the schema's sequences, if any.
//
// Privileges role held directly before are revoked first. It refuses a role
// that is a superuser or a member of an owner of the schema or of its
// objects, and it fails, changing nothing, when role would still hold more
// through PUBLIC or another role. It also pins the search path of the
// journal's deletion trigger to the schema: otherwise a temporary table of
// the role could stand in for audit_archive or audit_checkpoints.
// PostgreSQL only: on SQLite it returns an Invalid error. record, if set,
// runs in the same transaction once the grants are checked: the caller
// writes the audit event there, so the change and its event commit
// together (AUD-7, SYS-3).
func GrantServiceRole(ctx context.Context, db *DB, role string, record func(tx *Tx, plan *ServiceRolePlan) error) (*ServiceRolePlan, error) {
	return grantServiceRole(ctx, db, role, record, true)
}

// errDryRun rolls back a dry run.
var errDryRun = errors.New("dry run")

func grantServiceRole(ctx context.Context, db *DB, role string, record func(tx *Tx, plan *ServiceRolePlan) error, commit bool) (*ServiceRolePlan, error) {
	const op = "store: grant service role"
	if db.engine != Postgres {
		return nil, sceau.Errorf(sceau.Invalid, op,
			"%s has no roles: only PostgreSQL grants privileges (on SQLite the file's permissions guard the database and triggers keep the journal append-only)", db.engine)
	}
	if len(role) > 63 || !roleName.MatchString(role) {
		return nil, sceau.Errorf(sceau.Invalid, op, "%q is not a role name (letters, digits, _ and $, at most 63 bytes, not starting with a digit)", role)
	}
	if strings.HasPrefix(strings.ToLower(role), "pg_") {
		return nil, sceau.Errorf(sceau.Invalid, op, "%q is a reserved role name", role)
	}
	var plan *ServiceRolePlan
	err := db.InTx(ctx, func(tx *Tx) error {
		var err error
		if plan, err = planGrants(ctx, tx, role); err != nil {
			return err
		}
		for _, s := range plan.Statements {
			if _, err := tx.tx.ExecContext(ctx, s); err != nil {
				return Classify(op, fmt.Errorf("%s: %w", s, err))
			}
		}
		if err := checkGrants(ctx, tx, plan); err != nil {
			return err
		}
		if !commit {
			return errDryRun
		}
		if record != nil {
			return record(tx, plan)
		}
		return nil
	})
	if errors.Is(err, errDryRun) {
		err = nil
	}
	if err != nil {
		return nil, err
	}
	return plan, nil
}

// schemaOwners selects the owners of the current schema and of everything
// in it.
const schemaOwners = `SELECT nspowner AS owner FROM pg_catalog.pg_namespace WHERE nspname = current_schema()
	UNION SELECT c.relowner FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = current_schema()
	UNION SELECT f.proowner FROM pg_catalog.pg_proc f JOIN pg_catalog.pg_namespace n ON n.oid = f.pronamespace
		WHERE n.nspname = current_schema()`

// planGrants checks role and the schema and returns the statements.
func planGrants(ctx context.Context, tx *Tx, role string) (*ServiceRolePlan, error) {
	const op = "store: grant service role"
	p := &ServiceRolePlan{Role: role}
	var schema sql.NullString
	var self string
	if err := tx.tx.QueryRowContext(ctx, `SELECT current_schema(), current_user`).Scan(&schema, &self); err != nil {
		return nil, Classify(op, err)
	}
	if !schema.Valid {
		return nil, sceau.Errorf(sceau.Invalid, op, "no schema of the search path exists: the DSN names none the migrations created")
	}
	p.Schema = schema.String
	var super bool
	err := tx.tx.QueryRowContext(ctx, `SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = $1`, role).Scan(&super)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, sceau.Errorf(sceau.Invalid, op, "role %q does not exist: create it first (CREATE ROLE %s LOGIN PASSWORD '…')", role, role)
	}
	if err != nil {
		return nil, Classify(op, err)
	}
	if super {
		return nil, sceau.Errorf(sceau.Invalid, op, "role %q is a superuser: no grant limits it; the service role must be an ordinary role", role)
	}
	// Only the owner may grant on everything and pin the trigger's path.
	notOwned, err := queryStrings(ctx, tx.tx, `SELECT DISTINCT r.rolname FROM (`+schemaOwners+`) o
		JOIN pg_catalog.pg_roles r ON r.oid = o.owner
		WHERE NOT pg_catalog.pg_has_role(current_user, o.owner, 'USAGE') ORDER BY r.rolname`)
	if err != nil {
		return nil, Classify(op, err)
	}
	if len(notOwned) > 0 {
		return nil, sceau.Errorf(sceau.Invalid, op,
			"the database role %q does not act as %s, owner of the schema %s or of its objects: connect as the owner",
			self, strings.Join(notOwned, ", "), p.Schema)
	}
	// An owner, or a member of one, may drop the journal's triggers (AUD-2).
	owners, err := queryStrings(ctx, tx.tx, `SELECT DISTINCT r.rolname FROM (`+schemaOwners+`) o
		JOIN pg_catalog.pg_roles r ON r.oid = o.owner
		WHERE pg_catalog.pg_has_role($1, o.owner, 'MEMBER') ORDER BY r.rolname`, role)
	if err != nil {
		return nil, Classify(op, err)
	}
	if len(owners) > 0 {
		return nil, sceau.Errorf(sceau.Invalid, op,
			"role %q owns the schema %s or its objects, or is a member of their owner %s: the service role must own nothing there, or it could drop the journal's triggers",
			role, p.Schema, strings.Join(owners, ", "))
	}

	tables, err := queryStrings(ctx, tx.tx, `SELECT c.relname FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') ORDER BY c.relname`)
	if err != nil {
		return nil, Classify(op, err)
	}
	if p.Sequences, err = queryStrings(ctx, tx.tx, `SELECT c.relname FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = current_schema() AND c.relkind = 'S' ORDER BY c.relname`); err != nil {
		return nil, Classify(op, err)
	}
	var missing []string
	for _, g := range serviceGrants {
		if !slices.Contains(tables, g.Table) {
			missing = append(missing, g.Table)
		}
	}
	if len(missing) > 0 {
		return nil, sceau.Errorf(sceau.Invalid, op, "schema %s lacks the tables %s: run the migrations first", p.Schema, strings.Join(missing, ", "))
	}
	p.Tables = ServiceGrants()
	for _, t := range tables {
		if !slices.ContainsFunc(serviceGrants, func(g TableGrant) bool { return g.Table == t }) {
			p.Unknown = append(p.Unknown, t)
		}
	}

	r, s := pgx.Identifier{role}.Sanitize(), pgx.Identifier{p.Schema}.Sanitize()
	p.Statements = []string{
		// Start from nothing, so that the result is exact whatever was
		// granted before (by hand, or from an older version of the docs).
		"REVOKE ALL ON SCHEMA " + s + " FROM " + r,
		"REVOKE ALL ON ALL TABLES IN SCHEMA " + s + " FROM " + r,
		"REVOKE ALL ON ALL SEQUENCES IN SCHEMA " + s + " FROM " + r,
		"GRANT USAGE ON SCHEMA " + s + " TO " + r,
	}
	for _, g := range p.Tables {
		privs := make([]string, len(g.Privileges))
		for i, pr := range g.Privileges {
			privs[i] = string(pr)
		}
		p.Statements = append(p.Statements, "GRANT "+strings.Join(privs, ", ")+" ON TABLE "+pgx.Identifier{p.Schema, g.Table}.Sanitize()+" TO "+r)
	}
	for _, q := range p.Sequences {
		p.Statements = append(p.Statements, "GRANT USAGE ON SEQUENCE "+pgx.Identifier{p.Schema, q}.Sanitize()+" TO "+r)
	}
	// AUD-4: the deletion trigger of audit_events looks up audit_archive and
	// audit_checkpoints by unqualified name, and a session's temporary
	// tables come first in the search path: any role allowed to create
	// them (PUBLIC may, by default) could make the check pass with tables
	// of its own. Pinned to the schema, pg_temp last, the lookup finds ours.
	var fn int
	if err := tx.tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM pg_catalog.pg_proc f JOIN pg_catalog.pg_namespace n ON n.oid = f.pronamespace
		WHERE n.nspname = current_schema() AND f.proname = 'audit_events_delete_archived'`).Scan(&fn); err != nil {
		return nil, Classify(op, err)
	}
	if fn > 0 {
		p.Statements = append(p.Statements, "ALTER FUNCTION "+pgx.Identifier{p.Schema, "audit_events_delete_archived"}.Sanitize()+
			"() SET search_path = "+s+", pg_temp")
	}
	return p, nil
}

// checkGrants compares what role holds, from any source, with the plan:
// grants to PUBLIC or to a role it belongs to are not revoked by the plan's
// REVOKE, so they are looked for here. A column grant gives SELECT, INSERT,
// UPDATE or REFERENCES on part of a table: it counts as the privilege.
func checkGrants(ctx context.Context, tx *Tx, p *ServiceRolePlan) error {
	const op = "store: grant service role"
	var create bool
	if err := tx.tx.QueryRowContext(ctx, `SELECT pg_catalog.has_schema_privilege($1, $2, 'CREATE')`, p.Role, p.Schema).Scan(&create); err != nil {
		return Classify(op, err)
	}
	var extra []string
	if create {
		extra = append(extra, "CREATE on schema "+p.Schema)
	}
	want := map[string][]Privilege{}
	for _, g := range p.Tables {
		want[g.Table] = g.Privileges
	}
	names := []Privilege{Select, Insert, Update, Delete, "TRUNCATE", "REFERENCES", "TRIGGER"}
	rows, err := tx.tx.QueryContext(ctx, `SELECT c.relname,
			pg_catalog.has_any_column_privilege($1, c.oid, 'SELECT'),
			pg_catalog.has_any_column_privilege($1, c.oid, 'INSERT'),
			pg_catalog.has_any_column_privilege($1, c.oid, 'UPDATE'),
			pg_catalog.has_table_privilege($1, c.oid, 'DELETE'),
			pg_catalog.has_table_privilege($1, c.oid, 'TRUNCATE'),
			pg_catalog.has_any_column_privilege($1, c.oid, 'REFERENCES'),
			pg_catalog.has_table_privilege($1, c.oid, 'TRIGGER')
		FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p', 'v', 'm', 'f') ORDER BY c.relname`, p.Role)
	if err != nil {
		return Classify(op, err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			table string
			has   [7]bool
		)
		if err := rows.Scan(&table, &has[0], &has[1], &has[2], &has[3], &has[4], &has[5], &has[6]); err != nil {
			return Classify(op, err)
		}
		for i, pr := range names {
			switch wanted := slices.Contains(want[table], pr); {
			case has[i] && !wanted:
				extra = append(extra, string(pr)+" on "+table)
			case wanted && !has[i]:
				return sceau.Errorf(sceau.Internal, op, "role %q lacks %s on %s after the grant", p.Role, pr, table)
			}
		}
	}
	if err := rows.Err(); err != nil {
		return Classify(op, err)
	}
	if len(extra) > 0 {
		return sceau.Errorf(sceau.Invalid, op,
			"role %q would still hold %s, through PUBLIC or a role it is a member of: revoke it there (AUD-2), then run this again",
			p.Role, strings.Join(extra, ", "))
	}
	return nil
}

// rowQuerier is the part of *sql.DB and *sql.Tx queryStrings needs.
type rowQuerier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

func queryStrings(ctx context.Context, q rowQuerier, query string, args ...any) ([]string, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}
