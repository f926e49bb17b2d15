// Package store opens Sceau's database, SQLite (embedded default, pure Go) or
// PostgreSQL (several nodes), applies the embedded numbered migrations of
// the engine, and runs transactions.
//
// Domain packages write their SQL once with '?' placeholders against the
// Querier interface; Tx and DB rebind them to '$n' for PostgreSQL. Times are
// stored as fixed-width UTC text (see FormatTime) so that they sort and
// compare the same on both engines.
//
// Invariant (AUD-7): every state change happens inside InTx together with its
// audit event; the transaction commits both or neither.
//
// Invariant (AUD-2): on PostgreSQL the service runs as a role that owns
// nothing and holds only ServiceGrants (GrantServiceRole, run by the
// owner): SELECT and INSERT on the append-only tables (audit_events also
// DELETE, for archived events only), never TRUNCATE, REFERENCES, TRIGGER or
// CREATE. Migrate runs no DDL when nothing is pending, so that role can
// start on a schema its owner has migrated.
package store
