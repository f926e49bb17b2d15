package access

import (
	"slices"
	"strings"

	"github.com/sceau/sceau/internal/sceau"
)

// Role is a trusted role of the policy (ROLE-1, policy §5.2.1, §6.1.2).
type Role string

// The trusted roles.
const (
	SecurityOfficer          Role = "security-officer"
	SystemAdministrator      Role = "system-administrator"
	SystemOperator           Role = "system-operator"
	SystemAuditor            Role = "system-auditor"
	ApplicationAdministrator Role = "application-administrator"
	RegistrationOfficer      Role = "registration-officer" // Registration & Revocation Officer
	KeyShareHolder           Role = "key-share-holder"
)

// Roles lists every trusted role, in the policy's order.
var Roles = []Role{SecurityOfficer, SystemAdministrator, SystemOperator, SystemAuditor,
	ApplicationAdministrator, RegistrationOfficer, KeyShareHolder}

var roleTitles = map[Role]string{
	SecurityOfficer:          "Security Officer",
	SystemAdministrator:      "System Administrator",
	SystemOperator:           "System Operator",
	SystemAuditor:            "System Auditor",
	ApplicationAdministrator: "Application Administrator",
	RegistrationOfficer:      "Registration & Revocation Officer",
	KeyShareHolder:           "Key Share Holder",
}

// Title is the role's name in the policy.
func (r Role) Title() string {
	if t, ok := roleTitles[r]; ok {
		return t
	}
	return string(r)
}

// ParseRole reads a role name as written in the API and the CLI.
func ParseRole(s string) (Role, error) {
	r := Role(strings.TrimSpace(strings.ToLower(s)))
	if _, ok := roleTitles[r]; ok {
		return r, nil
	}
	names := make([]string, len(Roles))
	for i, r := range Roles {
		names[i] = string(r)
	}
	return "", sceau.Errorf(sceau.Invalid, "access: role", "unknown role %q (one of %s)", s, strings.Join(names, ", "))
}

// compatible is the separation of duties as data (ROLE-2, policy §5.2.4):
// for each role, the other roles the same person may hold. A pair that is
// not listed both ways is forbidden.
var compatible = map[Role][]Role{
	// ROLE-2: a Security Officer holds no other role.
	SecurityOfficer: nil,
	// ROLE-2: an Auditor holds no other role.
	SystemAuditor: nil,
	// ROLE-2: a Registration & Revocation Officer holds no other role.
	RegistrationOfficer: nil,
	// ROLE-2: System Administrator and System Operator may be combined, and
	// nothing else added.
	SystemAdministrator: {SystemOperator},
	SystemOperator:      {SystemAdministrator},
	// Not restricted by the policy.
	ApplicationAdministrator: {KeyShareHolder},
	KeyShareHolder:           {ApplicationAdministrator},
}

// CheckRoles tells whether one person may hold all of roles at once
// (ROLE-2). The error names the first pair that the policy forbids.
func CheckRoles(roles []Role) error {
	const op = "access: separation of duties"
	for i, a := range roles {
		if _, ok := roleTitles[a]; !ok {
			return sceau.Errorf(sceau.Invalid, op, "unknown role %q", a)
		}
		for _, b := range roles[i+1:] {
			if a == b {
				return sceau.Errorf(sceau.Invalid, op, "role %s is listed twice", a)
			}
			if !slices.Contains(compatible[a], b) || !slices.Contains(compatible[b], a) {
				return sceau.Errorf(sceau.Invalid, op, "a %s cannot also be a %s (policy §5.2.4: %s)", a.Title(), b.Title(), sodReason(a, b))
			}
		}
	}
	return nil
}

func sodReason(a, b Role) string {
	for _, r := range []Role{a, b} {
		switch r {
		case SecurityOfficer, SystemAuditor, RegistrationOfficer:
			return "a " + r.Title() + " holds no other trusted role"
		}
	}
	return "System Administrator and System Operator may be combined, and nothing else added"
}
