// Package fault is Sceau's fault suite: it runs the sceau binary as real
// `sceau serve` child processes on SQLite and on a PostgreSQL cluster of its
// own, injects one fault class at a time under concurrent issuance and
// revocation load, and then checks, with the CLI, the public site and
// openssl, that nothing the clients were told had succeeded was lost.
//
// Fault classes (each a test named after the requirement it verifies):
//
//   - kill -9 of the serve process under load, then a restart (CA-2, CA-3);
//   - a full disk under the data directory (a small tmpfs; root only) (AUD-7);
//   - PostgreSQL stopped (immediate) and started again under load (AUD-7);
//   - the database restored from an older copy: serve must refuse to start
//     and `sceau audit verify` must name the rollback (AUD-2);
//   - the journal's export directory lost under load, then restored (AUD-5).
//
// After every fault: every acknowledged certificate is stored and journaled,
// every acknowledged revocation is on the served CRL within a minute and
// OCSP says revoked, no serial is duplicated, `sceau audit verify` passes,
// no 5xx other than a 503 with a reason was answered, and the serve log
// holds no panic.
//
// Run it short (one trial per class and engine, the CI run) or long:
//
//	go test -race -count=1 ./test/fault/
//	go test -count=1 -v ./test/fault/ -trials 200 -timeout 0
//
// docs/reliability.md ("Fault suite") has the measured figures.
package fault
