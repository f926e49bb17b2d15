package compliance

// Clauses a program cannot see: each is reported "to confirm" with the
// evidence recorded for it (sceau check confirm), so the auditor finds in
// one place what was shown and when.
var manualClauses = []Manual{
	{ID: "physical.security", Cites: []string{"AUD-1"}, Title: "Physical security of the premises (policy §5.1): access control, intrusion detection, fire, water, power",
		Wanted: "the latest site inspection report and the physical access register (sceau audit record physical-access)"},
	{ID: "personnel.vetting", Cites: []string{"ROLE-6"}, Title: "Every trusted-role holder is vetted and trained (policy §5.3)",
		Wanted: "background-check and training attestations for each holder (sceau people attest) and the HR records behind them"},
	{ID: "ceremony.witness", Cites: []string{"KEY-8"}, Title: "Key ceremonies were witnessed and their transcripts countersigned (policy §6.3.1)",
		Wanted: "the witness's (bailiff's) report of each ceremony since the last audit"},
	{ID: "device.certification", Cites: []string{"KEY-1"}, Title: "The cryptographic devices holding CA keys are certified (policy §6.2.1)",
		Wanted: "the device's certificate (Common Criteria / FIPS 140) and its configuration record"},
	{ID: "network.review", Cites: []string{"SYS-2"}, Title: "Network segmentation and filtering match the policy (policy §6.6)",
		Wanted: "the latest firewall rule review and vulnerability scan"},
	{ID: "continuity.exercise", Cites: []string{"CONT-1"}, Title: "The continuity plan was exercised at the second site (policy §5.6.2)",
		Wanted: "the report of the last restore exercise run from docs/continuity.md"},
}

// ManualClauses returns the clauses that need human evidence.
func ManualClauses() []Manual {
	out := make([]Manual, len(manualClauses))
	copy(out, manualClauses)
	return out
}

// IsManual reports whether id names a manual clause or a requirement one
// of them cites: what `sceau check confirm` accepts.
func IsManual(id string) bool {
	for _, m := range manualClauses {
		if m.ID == id {
			return true
		}
	}
	return false
}
