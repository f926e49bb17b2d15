// Package etsi holds the ETSI EN 319 412-1..-5 certificate profile rules
// that zlint does not implement, as pure functions over crypto/x509, so the
// CA's issuance gate (CA-2) can run them beside zlint's own ETSI lints.
//
// It holds:
//   - the policy and statement identifiers (EN 319 411-1/-2 policies, EN 319
//     412-5 QC statements, EN 319 412-1 semantics identifiers);
//   - Profile, what an eIDAS certificate profile expects (kind, usage,
//     qualified, QSCD, QcType, PDS, retention, policy), and its Validate,
//     which refuses at configuration load a profile that could never pass;
//   - the qcStatements encoder (QCStatementsExtension) and a parser
//     (ParseQCStatements) that refuses malformed input and is fuzzed;
//   - the EN 319 412-1 §5.1.3 and §5.1.4 semantics identifiers
//     (ParseNaturalIdentifier, ParseLegalIdentifier) with the French SIREN,
//     VAT key and LEI check digits;
//   - Check, which applies the rules table: EN 319 412-2 §4.2.4, §4.3.2,
//     §4.3.3, §4.3.11, §4.4.1; EN 319 412-3 §4.2.1, §4.3.1; EN 319 412-4
//     §4.1; EN 319 412-5 §4.1, §4.2.1-§4.2.3, §4.3.3, §4.3.4, §5; EN 319
//     412-1 §5.1. CLAUSES.md lists every rule with its level.
//
// Invariants: the package imports no other Sceau domain package and does no
// I/O; Check never fails or panics on a certificate, a malformed extension
// is a finding; every finding and refusal names the field and cites the
// clause.
package etsi
