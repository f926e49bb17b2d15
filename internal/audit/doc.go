// Package audit is Sceau's journal: an append-only, hash-chained table of
// events (AUD-1, AUD-2, AUD-7).
//
// Invariants:
//   - Events are appended only through Journal.Append, inside the transaction
//     of the state change they record (AUD-7): both commit or neither does.
//   - Event n carries the hash of event n-1; the hash covers a canonical
//     encoding of every field (see Record.ComputeHash), so editing, removing,
//     reordering or inserting an event breaks the chain at that position.
//   - The database refuses UPDATE and DELETE on audit_events (triggers).
//
// Signed checkpoints, export, retention and anomaly rules build on this table.
package audit
