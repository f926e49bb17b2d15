// Package quorum splits an activation secret into n shares of which any m
// reconstruct it (Shamir's secret sharing over GF(2^8)), seals each share
// for its holder on a carrier protected by the holder's PIN, and gathers m
// shares within a time window to activate a CA key (KEY-2). Backups
// carries out backups, imports and destruction of CA keys under dual
// control (KEY-4, KEY-6, ROLE-3): a backup's wrapping key is split and
// registered like an activation secret, and gathered like one to import.
//
// Invariants:
//   - Fewer than m distinct shares of one split reveal nothing of the
//     secret and never reconstruct it.
//   - A share carries the identifier of its split; shares of different
//     splits, or the same share twice, are refused before any arithmetic.
//   - Arithmetic on secret bytes is constant time (no table lookups indexed
//     by secret data).
//   - Reconstructed secrets are returned to the caller, who must wipe them.
package quorum
