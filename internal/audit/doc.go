// Package audit is Sceau's journal: an append-only, hash-chained table of
// events with signed checkpoints, verification, export, retention and
// anomaly rules (AUD-1 to AUD-7, ROLE-5, SYS-3).
//
// Invariants:
//   - Events are appended only through Journal.Append, inside the transaction
//     of the state change they record (AUD-7): both commit or neither does.
//     Every event names its actor and role (ROLE-5); its action is one of
//     the Catalogue (AUD-1).
//   - Event n carries the hash of event n-1; the hash covers a canonical
//     encoding of every field (see Record.ComputeHash), so editing, removing,
//     reordering or inserting an event breaks the chain at that position.
//   - Checkpoints sign the chain head with the audit signing key, through a
//     crypto.Signer: the key never leaves the keystore or the device. Each
//     checkpoint names the digest of the one before (AUD-2). The public key
//     is recorded (audit_keys, and every export), so verification needs no
//     secret and runs offline.
//   - The database refuses UPDATE and DELETE on the journal's tables
//     (triggers), with one exception: an event leaves audit_events for
//     audit_archive, unchanged, under an archive checkpoint, after the live
//     retention (AUD-4). Verify walks the archive and the live table as one
//     chain.
//   - Reading or exporting the journal goes through a Decider (AUD-3):
//     Guard for services (the admin API decides with the access matrix),
//     FileAccess for the offline commands only.
//   - Every export — the directory, object storage, a download through the
//     admin API — is made of the same export lines (WriteExportPage) and
//     verifies alone (VerifyExport); each moves its cursor only after what
//     it wrote is durable, so an interrupted export resumes (AUD-5).
//   - A part of the journal that fails (checkpoint, export, syslog,
//     retention, analysis) records the failure and what is done about it,
//     and its recovery; if the journal itself cannot be written, the
//     operation that needed it is refused (AUD-7).
package audit
