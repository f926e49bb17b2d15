// Package ca runs the certification authorities of an installation: the
// hierarchy declared in configuration (CA-1, KEY-7), their profiles, and
// issuance from a PKCS#10 request or with a key generated for the holder
// and delivered as PKCS#12 (CA-2).
//
// Invariants:
//   - Record before sign. Prepare checks the request against the profile,
//     builds the certificate, lints it (zlint) with a throwaway key of the
//     CA's algorithm, reserves a random serial and commits the
//     to-be-signed certificate with its audit event. Only then may Issue
//     sign it, at most once, and store it with a second event. A crash in
//     between leaves a reserved serial that is treated as issued: it is
//     never "good" in OCSP and the recovery sweep revokes it.
//   - The signed certificate's TBS is byte-identical to the linted one.
//   - No certificate outlives its issuer; no CA lives beyond 10 years.
//   - Private keys stay in package keys; a holder's generated key leaves
//     only inside its password-protected PKCS#12 and is never stored (KEY-3).
package ca
