// Package est is Sceau's EST server (Enrollment over Secure Transport,
// RFC 7030), an http.Handler serving /.well-known/est/ on the enrollment
// listener: cacerts, simpleenroll, simplereenroll and csrattrs, for the
// default CA and, under /.well-known/est/<ca>/, for each CA by its id.
//
// Invariants:
//   - CA-4: simpleenroll is authenticated by HTTP Basic with a credential
//     that a Registration Officer made for a validated dossier; the
//     credential fixes the CA, the profile and the subject. A CSR naming
//     anything its dossier does not hold is refused, and the certificate
//     carries the dossier's subject and names only.
//   - simplereenroll is authenticated by the TLS client certificate: a
//     certificate this server issued, neither revoked nor expired, whose
//     credential is still in force; the new certificate is for the same
//     dossier and subject (RFC 7030 §4.2.2), recorded as renewing it.
//   - CA-2: a certificate is issued only through ca.Authority's
//     record-before-sign path (profile check, lint gate, serial reserved
//     and journaled before the signature); the enrollment is recorded in
//     the reservation's transaction with its audit event.
//   - Every refusal is journaled (est.refused) with the reason, never the
//     password; only the password's SHA-256 is stored, compared in
//     constant time; bodies are capped.
package est
