// Package revocation keeps the status of every certificate once its serial
// is reserved, revokes with RFC 5280 reasons, builds and signs CRLs, and
// answers OCSP (RFC 6960) (CA-3).
//
// Invariants:
//   - A serial that was never reserved is "unknown", never "good"; a
//     reserved serial whose certificate was not stored is never "good".
//   - Revocation and its audit event commit together (AUD-7); the CRL number
//     is reserved and recorded before the CRL is signed, so numbers only
//     grow and no signed CRL lacks a record.
//   - OCSP responses for the common request (SHA-1 CertID, no nonce) are
//     signed ahead of time, at issuance, revocation and by Refresh; the
//     responder only reads them. Requests with a nonce (RFC 8954) or a
//     SHA-256 CertID are signed on demand, with a bound on concurrency.
package revocation
