// Package continuity makes the backups of an installation and restores them
// at a second site (CONT-1; docs/continuity.md).
//
// A backup is one age-encrypted tar stream, to the second site's
// recipients, holding a consistent snapshot of the database (SQLite: its
// pages read inside one read transaction; PostgreSQL: pg_dump of an
// exported transaction snapshot), the files of the data directory, and a
// manifest signed with the journal's audit key (AUD-2): every file's size
// and SHA-256, the node, the time, the engine and the journal's head in the
// snapshot. A clear copy of the signed manifest lies beside it, for
// listing.
//
// Invariants:
//   - Never a private key in clear: keystore files are copied as they are
//     (sealed under their activation secret), PKCS#11 keys stay in their
//     device, and any file holding an unencrypted PEM private key, the
//     configured secret files and credentials are left out and named in
//     the manifest's excluded list.
//   - A backup is whole or absent at its target: it is written under a
//     temporary name and renamed once synced; a failed write removes it and
//     never touches the earlier backups.
//   - A restore writes nothing into its directory until the whole stream
//     has decrypted, the manifest's signature verified and every file's
//     digest matched.
//   - A restore from a copy older than the journal's off-site export
//     replays the export's later events (Reconcile), and the packages
//     owning certificates recreate their rows, so that OCSP never answers
//     unknown for a certificate issued since the copy.
package continuity
