// Package acme is Sceau's ACME server (RFC 8555), an http.Handler serving
// /acme/<directory>/... on the enrollment listener.
//
// Invariants:
//   - CA-4: with the default configuration an account exists only bound to
//     an external account binding (EAB) key that a Registration Officer
//     made for a validated dossier; the key fixes the CA, the profile and
//     the DNS names the account may order. An order naming anything else is
//     refused (rejectedIdentifier).
//   - CA-2: a certificate is issued only through ca.Authority's
//     record-before-sign path (profile check, lint gate, serial reserved and
//     journaled before the signature); finalize claims the order in the
//     reservation's transaction, so an order is issued at most once.
//   - Every state change (account, order, authorization, challenge, EAB
//     key) commits with its audit event; the HMAC key is never journaled.
//   - Each JWS is checked for its algorithm (ES256, RS256, EdDSA), its
//     signature, a single-use nonce, its url header and the kid/jwk rule;
//     bodies are capped.
//   - Renewal information (RFC 9773, ari.go) is read without a JWS and
//     tells only what the CA's CRL and OCSP already publish (validity,
//     revocation). An order replaces at most one certificate of its own
//     account that no live order replaces already.
//   - Rate limits (ratelimit.go) are counted from the database, so that
//     they hold across nodes; each refusal is journaled.
package acme
