// Package compliance is the self-audit (COMP-1, COMP-2; policy §8): a list
// of checks, each citing the requirement IDs it covers, is run against a
// live installation and gives a report with a verdict per clause (pass,
// fail, to confirm), follow-up deadlines for the failures, and the evidence
// recorded for the clauses only a person can confirm. The checks themselves
// are written where the facts are (internal/node gathers them from every
// package); this package runs them, judges, and renders the report as JSON
// and as HTML in the public site's look.
package compliance
