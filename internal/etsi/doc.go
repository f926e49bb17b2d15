// Package etsi holds the ETSI EN 319 412-1..-5 rules that zlint does not
// implement, as pure functions over crypto/x509: the policy and QC
// statement identifiers, the EN 319 412-1 §5.1.3/§5.1.4 semantics
// identifiers (with the French SIREN, VAT and LEI check digits).
package etsi
