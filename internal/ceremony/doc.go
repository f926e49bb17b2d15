// Package ceremony runs key ceremonies (KEY-8, KEY-2): one reviewable
// script file says what is created, by whom, where, and under which
// witness; the runner walks through its steps, each confirmed by the
// participant it names, and writes a transcript (JSON and readable text)
// that is signed with a dedicated transcript key and archived.
//
// Invariants:
//   - A script is checked whole against the configuration and the
//     installation before anything is created: every CA to create is
//     declared and missing, every key share holder of those CAs is a
//     participant with that role, there is a security officer and a
//     witness, and the outputs directory is absent or empty.
//   - Outputs are never overwritten: every file is created exclusively.
//   - A step runs only after its participant confirmed it. A refusal or a
//     failure ends the ceremony: the transcript is still written, marked
//     aborted, says what remains of what was created, and is signed
//     whenever the installation exists.
//   - The signature covers transcript.json byte for byte (ECDSA P-256 or
//     Ed25519 over its SHA-256); verification trusts only a key given from
//     outside: the fingerprint the witness wrote down, or the installation's
//     recorded transcript keys.
//   - A backup of a new CA key (KEY-4) is made only after two or more
//     distinct participants other than the conducting security officer
//     confirmed it (ROLE-3); it is recorded by ID, mechanism and SHA-256,
//     and undone — files removed, registration and split discarded — if the
//     ceremony then stops.
//   - The transcript never holds a secret: no PIN, no share, no key.
//   - A transcript is archived in ceremony_transcripts with its audit event
//     in one transaction (AUD-7); the table is append-only.
package ceremony
