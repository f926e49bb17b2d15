package config

import (
	"regexp"
	"sort"
	"time"
)

// Access tunes the people side of an installation: dual control (ROLE-3)
// and the sealing of second factors (ROLE-4). See docs/roles.md.
type Access struct {
	// Approvals is how many distinct people, other than the requester,
	// must approve an action under dual control. At least 1. Default: 2.
	Approvals int `yaml:"approvals"`
	// ApprovalLifetime is how long a request under dual control waits for
	// its approvals before it expires, from 5m to 30d. Default: 24h.
	ApprovalLifetime Duration `yaml:"approval_lifetime"`
	// ApprovalsFor overrides Approvals for some actions, e.g.
	// {key.destroy: 3}. Each value is at least 1; each key must be an
	// action under dual control (checked when the service starts).
	// Default: none.
	ApprovalsFor map[string]int `yaml:"approvals_for,omitempty"`
	// TOTPKeyFile holds the AES-256 key that seals the people's TOTP
	// secrets in the database (mode 0600, created by init). Back it up
	// with the keystore secret: without it nobody can log in with a
	// password. Default: secrets/totp.key.
	TOTPKeyFile string `yaml:"totp_key_file"`
}

// MaxApprovals bounds approvals: more than this many approvers is a typo.
const MaxApprovals = 16

// DefaultAccess is the access section's defaults.
func DefaultAccess() Access {
	return Access{Approvals: 2, ApprovalLifetime: Duration{24 * time.Hour}, TOTPKeyFile: "secrets/totp.key"}
}

var actionName = regexp.MustCompile(`^[a-z][a-z_]*(\.[a-z][a-z_]*)+$`)

func (a *Access) validate(bad func(string, ...any)) {
	// ROLE-3: at least two people act on anything under dual control: the
	// requester and at least one approver.
	if a.Approvals < 1 || a.Approvals > MaxApprovals {
		bad("access.approvals: %d is not within 1..%d", a.Approvals, MaxApprovals)
	}
	if d := a.ApprovalLifetime.Duration; d < 5*time.Minute || d > 30*24*time.Hour {
		bad("access.approval_lifetime: %s is not within 5m..30d", a.ApprovalLifetime)
	}
	names := make([]string, 0, len(a.ApprovalsFor))
	for k := range a.ApprovalsFor {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		if !actionName.MatchString(k) {
			bad("access.approvals_for: %q is not an action name like key.destroy", k)
		}
		if n := a.ApprovalsFor[k]; n < 1 || n > MaxApprovals {
			bad("access.approvals_for.%s: %d is not within 1..%d", k, n, MaxApprovals)
		}
	}
	if a.TOTPKeyFile == "" {
		bad("access.totp_key_file: required (the file holding the key that seals TOTP secrets)")
	}
}
