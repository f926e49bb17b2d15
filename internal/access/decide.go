package access

import (
	"fmt"
	"slices"
	"strings"

	"github.com/sceau/sceau/internal/sceau"
)

// Action is an operation of the administration interface (ROLE-1: every
// operation names the roles that may perform it).
type Action string

// The actions. Every admin API route declares one (SYS-1).
const (
	SessionLogin    Action = "session.login"
	SessionWhoami   Action = "session.whoami"
	SessionLogout   Action = "session.logout"
	SessionPassword Action = "session.password"

	CAList      Action = "ca.list"
	CAShow      Action = "ca.show"
	CRLIssue    Action = "crl.issue"
	CACreate    Action = "ca.create"
	CATerminate Action = "ca.terminate"
	// CACompromised is the compromise procedure of a CA key (INC-2).
	CACompromised Action = "ca.compromise"

	CertIssue       Action = "cert.issue"
	CertIssuePKCS12 Action = "cert.issue_pkcs12"
	CertList        Action = "cert.list"
	CertShow        Action = "cert.show"
	CertRevoke      Action = "cert.revoke"
	RevokeMass      Action = "revocation.mass"
	RevokeSelected  Action = "revocation.selected"

	KeyStatus          Action = "key.status"
	KeyActivationBegin Action = "key.activation.begin"
	KeyActivationShare Action = "key.activation.share"
	KeyDeactivate      Action = "key.deactivate"
	KeyBackup          Action = "key.backup"
	KeyImport          Action = "key.import"
	KeyDestroy         Action = "key.destroy"

	MetricsRead Action = "metrics.read"
	AuditRead   Action = "audit.read"   // audit.OpRead
	AuditExport Action = "audit.export" // audit.OpExport
	AuditRecord Action = "audit.record" // audit.OpRecord

	AccountCreate Action = "account.create"
	AccountList   Action = "account.list"
	AccountShow   Action = "account.show"
	RoleGrant     Action = "role.grant"
	RoleRemove    Action = "role.remove"
	PeopleShow    Action = "people.show"
	PeopleAttest  Action = "people.attest"

	AccountChange  Action = "account.change"
	AccountSuspend Action = "account.suspend"
	AccountResume  Action = "account.resume"
	AccountDelete  Action = "account.delete"
	// Personal admin client certificates (ROLE-4).
	AccountCertIssue  Action = "account.certificate_issue"
	AccountCertList   Action = "account.certificate_list"
	AccountCertRevoke Action = "account.certificate_revoke"

	ApprovalList    Action = "approval.list"
	ApprovalApprove Action = "approval.approve"
	ApprovalReject  Action = "approval.reject"

	PublicationChange Action = "publication.change"
	PublicationList   Action = "publication.list"

	ArchiveAdd              Action = "archive.add"
	ArchiveRead             Action = "archive.read"
	ArchiveReadConfidential Action = "archive.read_confidential"
	ArchivePurge            Action = "archive.purge"

	ComplianceCheck Action = "compliance.check"
	// INC-1, INC-4: the incident register.
	IncidentOpen       Action = "incident.open"
	IncidentNote       Action = "incident.note"
	IncidentEscalate   Action = "incident.escalate"
	IncidentRead       Action = "incident.read"
	IncidentClose      Action = "incident.close"
	IncidentObligation Action = "incident.obligation"
	// CA-4: the registration authority (internal/registration).
	DossierCreate           Action = "dossier.create"
	DossierEdit             Action = "dossier.edit"
	DossierRead             Action = "dossier.read"
	DossierValidate         Action = "dossier.validate"
	DossierIssue            Action = "dossier.issue"
	RevocationRequestCreate Action = "revocation_request.create"
	RevocationRequestHolder Action = "revocation_request.holder"
	RevocationRequestRead   Action = "revocation_request.read"
	RevocationRequestCheck  Action = "revocation_request.check"
	// CA-4: ACME external account binding keys (internal/acme).
	ACMEEABCreate Action = "acme.eab.create"
	ACMEEABRead   Action = "acme.eab.read"
	ACMEEABRevoke Action = "acme.eab.revoke"
	// CA-4: EST credentials (internal/est).
	ESTCredentialCreate Action = "est.credential.create"
	ESTCredentialRead   Action = "est.credential.read"
	ESTCredentialRevoke Action = "est.credential.revoke"
)

// Principal is who makes a request: the terminal authenticated by its
// client certificate (SYS-2) and, when there is one, the person behind it,
// authenticated by a session (password and TOTP) or by a client
// certificate issued to them (ROLE-4). Roles are read from the store for
// every request, so a removed role is refused on the next one.
type Principal struct {
	Account string // the person; "" when only the terminal is authenticated
	Roles   []Role // the person's current roles
	// Method is how the person was authenticated: "password+totp" or
	// "certificate"; "" for a terminal alone.
	Method  string
	Session string // the session's ID (never its token), with password+totp
	// Terminal is the common name of the verified client certificate.
	Terminal string
	// MustChangePassword: the person logged in with an initial password
	// and may do nothing but change it.
	MustChangePassword bool
}

// Has tells whether p holds role r.
func (p Principal) Has(r Role) bool { return slices.Contains(p.Roles, r) }

// Actor is the audit actor of p acting under role (ROLE-5).
func (p Principal) Actor(role Role) sceau.Actor {
	if p.Account == "" {
		return sceau.Actor{ID: "cert:" + p.Terminal}
	}
	if role == "" {
		return sceau.Actor{ID: p.Account, Role: p.roleList()}
	}
	return sceau.Actor{ID: p.Account, Role: string(role)}
}

func (p Principal) roleList() string {
	s := make([]string, len(p.Roles))
	for i, r := range p.Roles {
		s[i] = string(r)
	}
	return strings.Join(s, "+")
}

// Resource is what an action applies to.
type Resource struct {
	Kind string `json:"kind"` // "ca", "certificate", "account", "approval", …
	ID   string `json:"id,omitempty"`
	// Subject is the person the resource concerns (an account, a personnel
	// record, the target of a role grant), for rules about oneself.
	Subject string `json:"subject,omitempty"`
	// For votes on approvals: the action under dual control and who
	// requested it.
	Requested Action `json:"-"`
	Requester string `json:"-"`
}

func (r Resource) String() string {
	if r.ID == "" {
		return r.Kind
	}
	return r.Kind + ":" + r.ID
}

// Decision is the answer of Decide.
type Decision struct {
	Allow  bool
	Reason string
	// Role is the role under which the action is allowed, for the audit
	// event (ROLE-5); "" for actions that need no role.
	Role Role
	// DualControl: the action is allowed only as a request that Approvers
	// must approve (ROLE-3); see Approvals.
	DualControl bool
	Approvers   []Role
}

// Rule is one row of the access matrix.
type Rule struct {
	Action Action
	// Roles may perform the action (or request it, under dual control).
	Roles []Role
	// Self: any person may perform it on their own record.
	Self bool
	// Person: any authenticated person may perform it, whatever their roles.
	Person bool
	// Terminal: any verified terminal may, without a person.
	Terminal bool
	// ShareHolder: the key share holder is authenticated by their share
	// and its PIN (KEY-2), checked by the key custody; the terminal needs
	// no role of its own.
	ShareHolder bool
	// Approvers, when set, puts the action under dual control (ROLE-3):
	// people holding one of these roles approve it.
	Approvers []Role
	// Vote marks approval.approve and approval.reject: the roles allowed
	// depend on the request voted on.
	Vote bool
	// NotSelf: nobody may perform it on their own record, whatever their
	// roles (a Security Officer does not mint their own credentials).
	NotSelf bool
}

var (
	allRoles  = Roles
	operators = []Role{SecurityOfficer, SystemAdministrator, SystemOperator, SystemAuditor, ApplicationAdministrator, RegistrationOfficer}
)

// policy is the whole role × action matrix (ROLE-1, SYS-1). An action not
// listed is refused (default deny).
var policy = []Rule{
	{Action: SessionLogin, Terminal: true},
	{Action: SessionWhoami, Terminal: true},
	{Action: SessionLogout, Person: true},
	{Action: SessionPassword, Person: true},

	{Action: CAList, Roles: operators},
	{Action: CAShow, Roles: operators},
	{Action: CRLIssue, Roles: []Role{RegistrationOfficer, SystemOperator}},
	{Action: CACreate, Roles: []Role{ApplicationAdministrator}, Approvers: []Role{SecurityOfficer, ApplicationAdministrator}},
	{Action: CATerminate, Roles: []Role{SecurityOfficer, ApplicationAdministrator}, Approvers: []Role{SecurityOfficer, ApplicationAdministrator}},
	// INC-2: the Security Officer runs the compromise procedure; two
	// others approve it.
	{Action: CACompromised, Roles: []Role{SecurityOfficer}, Approvers: []Role{SecurityOfficer}},

	// Issuance and revocation are the Registration & Revocation Officer's
	// (policy §5.2.1); the Auditor and the Security Officer may read.
	{Action: CertIssue, Roles: []Role{RegistrationOfficer}},
	{Action: CertIssuePKCS12, Roles: []Role{RegistrationOfficer}},
	{Action: CertList, Roles: []Role{RegistrationOfficer, SystemAuditor, SecurityOfficer}},
	{Action: CertShow, Roles: []Role{RegistrationOfficer, SystemAuditor, SecurityOfficer}},
	{Action: CertRevoke, Roles: []Role{RegistrationOfficer}},
	{Action: RevokeMass, Roles: []Role{SecurityOfficer, RegistrationOfficer}, Approvers: []Role{SecurityOfficer, RegistrationOfficer}},
	// INC-3: the certificates an algorithm judged insufficient affects,
	// chosen by a selector, revoked under the same dual control.
	{Action: RevokeSelected, Roles: []Role{SecurityOfficer, RegistrationOfficer}, Approvers: []Role{SecurityOfficer, RegistrationOfficer}},

	// Key activation is itself multi-person: m ≥ 2 holders present their
	// shares (KEY-2), each authenticated by share and PIN.
	{Action: KeyStatus, Roles: allRoles},
	{Action: KeyActivationBegin, ShareHolder: true},
	{Action: KeyActivationShare, ShareHolder: true},
	// KEY-5: deactivation is the emergency stop, in the safe direction
	// (re-activation needs m holders again): open to every operational
	// role, not to the Auditor, who controls and does not operate.
	{Action: KeyDeactivate, Roles: []Role{SecurityOfficer, SystemAdministrator, SystemOperator, ApplicationAdministrator,
		RegistrationOfficer, KeyShareHolder}},
	{Action: KeyBackup, Roles: []Role{SystemOperator, SystemAdministrator}, Approvers: []Role{SecurityOfficer, KeyShareHolder}},
	{Action: KeyImport, Roles: []Role{SystemAdministrator}, Approvers: []Role{SecurityOfficer, KeyShareHolder}},
	{Action: KeyDestroy, Roles: []Role{SecurityOfficer}, Approvers: []Role{SecurityOfficer, KeyShareHolder}},

	{Action: MetricsRead, Roles: []Role{SystemOperator, SystemAdministrator, SecurityOfficer, SystemAuditor}},
	// AUD-3: only the Auditor and the Security Officer read the journal.
	{Action: AuditRead, Roles: []Role{SystemAuditor, SecurityOfficer}},
	{Action: AuditExport, Roles: []Role{SystemAuditor, SecurityOfficer}},
	// AUD-1: events that happen outside the software (physical access,
	// maintenance) are entered by those who witness them.
	{Action: AuditRecord, Roles: []Role{SecurityOfficer, SystemAdministrator, SystemOperator}},

	// Only a Security Officer manages people and grants roles (ROLE-2);
	// the Auditor co-signs role changes as the independent controller.
	{Action: AccountCreate, Roles: []Role{SecurityOfficer}},
	{Action: AccountList, Roles: []Role{SecurityOfficer, SystemAuditor}},
	{Action: AccountShow, Roles: []Role{SecurityOfficer, SystemAuditor}, Self: true},
	{Action: RoleGrant, Roles: []Role{SecurityOfficer}, Approvers: []Role{SecurityOfficer, SystemAuditor}},
	{Action: RoleRemove, Roles: []Role{SecurityOfficer}, Approvers: []Role{SecurityOfficer, SystemAuditor}},
	{Action: PeopleShow, Roles: []Role{SecurityOfficer, SystemAuditor}, Self: true},
	{Action: PeopleAttest, Roles: []Role{SecurityOfficer}},
	// ROLE-4: rights can be removed at once. Suspension and deletion move
	// towards safety, so one Security Officer may do them without
	// approvals; the last active Security Officer is never disabled.
	{Action: AccountChange, Roles: []Role{SecurityOfficer}},
	{Action: AccountSuspend, Roles: []Role{SecurityOfficer}},
	{Action: AccountResume, Roles: []Role{SecurityOfficer}, NotSelf: true},
	{Action: AccountDelete, Roles: []Role{SecurityOfficer}},
	// ROLE-4: a personal client certificate stands in for password and
	// TOTP; only a Security Officer issues one, never to themself.
	{Action: AccountCertIssue, Roles: []Role{SecurityOfficer}, NotSelf: true},
	{Action: AccountCertList, Roles: []Role{SecurityOfficer, SystemAuditor}, Self: true},
	{Action: AccountCertRevoke, Roles: []Role{SecurityOfficer}},

	{Action: ApprovalList, Roles: allRoles},
	{Action: ApprovalApprove, Roles: allRoles, Vote: true},
	{Action: ApprovalReject, Roles: allRoles, Vote: true},

	{Action: PublicationChange, Roles: []Role{ApplicationAdministrator}, Approvers: []Role{SecurityOfficer, ApplicationAdministrator}},
	{Action: PublicationList, Roles: allRoles},

	// ARC-1, ARC-3: the archive. Items are added by those who produce
	// records (documents, audit reports, evidence); every trusted role
	// reads public and internal items; confidential ones (identity
	// evidence, personnel records) only the Security Officer and the
	// Auditor, who also hold the age identities that open them.
	{Action: ArchiveAdd, Roles: []Role{ApplicationAdministrator, SecurityOfficer, SystemAuditor, RegistrationOfficer}},
	{Action: ArchiveRead, Roles: allRoles},
	{Action: ArchiveReadConfidential, Roles: []Role{SecurityOfficer, SystemAuditor}},
	// ARC-2: only items past their retention date are purged, and only by
	// a Security Officer; the database refuses any earlier deletion.
	{Action: ArchivePurge, Roles: []Role{SecurityOfficer}},

	// COMP-1, COMP-2: the self-audit reads every part of the installation
	// and archives its report; the Auditor runs it, and the Security
	// Officer to follow up on what failed.
	{Action: ComplianceCheck, Roles: []Role{SecurityOfficer, SystemAuditor}},
	// INC-1: whoever holds an operational or control role and notices an
	// incident reports it at once and adds to its timeline what they see
	// and do; the Security Officer manages it: records the notifications
	// owed to the authorities (INC-4) and closes it.
	{Action: IncidentOpen, Roles: operators},
	{Action: IncidentNote, Roles: operators},
	// Raising a severity moves towards safety (it starts the 24-hour
	// obligations and the compromise procedure): whoever learns more does it.
	{Action: IncidentEscalate, Roles: operators},
	{Action: IncidentRead, Roles: operators},
	{Action: IncidentClose, Roles: []Role{SecurityOfficer}},
	{Action: IncidentObligation, Roles: []Role{SecurityOfficer}},
	// CA-4: the registration authority is the Registration & Revocation
	// Officer's (policy §5.2.1): they enter, check, validate and issue
	// dossiers; the validator is never the one who entered the dossier
	// (four eyes, enforced by internal/registration). The Auditor and the
	// Security Officer read. A holder's revocation request comes from any
	// verified terminal and is authenticated by its revocation secret.
	{Action: DossierCreate, Roles: []Role{RegistrationOfficer}},
	{Action: DossierEdit, Roles: []Role{RegistrationOfficer}},
	{Action: DossierRead, Roles: []Role{RegistrationOfficer, SystemAuditor, SecurityOfficer}},
	{Action: DossierValidate, Roles: []Role{RegistrationOfficer}},
	{Action: DossierIssue, Roles: []Role{RegistrationOfficer}},
	{Action: RevocationRequestCreate, Roles: []Role{RegistrationOfficer}},
	{Action: RevocationRequestHolder, Terminal: true},
	{Action: RevocationRequestRead, Roles: []Role{RegistrationOfficer, SystemAuditor, SecurityOfficer}},
	{Action: RevocationRequestCheck, Roles: []Role{RegistrationOfficer}},
	// CA-4: an ACME account is bound to a validated dossier through an EAB
	// key that a Registration Officer makes and revokes.
	{Action: ACMEEABCreate, Roles: []Role{RegistrationOfficer}},
	{Action: ACMEEABRead, Roles: []Role{RegistrationOfficer, SystemAuditor, SecurityOfficer}},
	{Action: ACMEEABRevoke, Roles: []Role{RegistrationOfficer}},
	// CA-4: an EST client enrolls for a validated dossier with a
	// credential that a Registration Officer makes and revokes.
	{Action: ESTCredentialCreate, Roles: []Role{RegistrationOfficer}},
	{Action: ESTCredentialRead, Roles: []Role{RegistrationOfficer, SystemAuditor, SecurityOfficer}},
	{Action: ESTCredentialRevoke, Roles: []Role{RegistrationOfficer}},
}

var rules = func() map[Action]Rule {
	m := make(map[Action]Rule, len(policy))
	for _, r := range policy {
		if _, dup := m[r.Action]; dup {
			panic("access: action " + string(r.Action) + " has two rules")
		}
		m[r.Action] = r
	}
	return m
}()

// Policy returns a copy of the access matrix, for documentation and tools.
func Policy() []Rule { return slices.Clone(policy) }

// RuleOf returns the rule of action, and whether there is one.
func RuleOf(a Action) (Rule, bool) {
	r, ok := rules[a]
	return r, ok
}

// Decide is the authorization decision (SYS-1): may p perform action on
// res? It is a pure function of its arguments and the matrix above; what it
// does not allow it refuses (default deny), with a reason fit to show.
func Decide(p Principal, action Action, res Resource) Decision {
	rule, ok := rules[action]
	if !ok {
		return deny("no rule allows %s (default deny)", action)
	}
	switch {
	case rule.Terminal:
		return Decision{Allow: true, Reason: "any verified terminal may " + string(action)}
	case rule.ShareHolder:
		return Decision{Allow: true, Reason: "the key share holder authenticates with their share and PIN (KEY-2)"}
	}
	if p.Account == "" {
		return deny("%s needs a person: log in with `sceau login` (password and TOTP) or use a personal client certificate", action)
	}
	if rule.Person {
		return Decision{Allow: true, Reason: "any authenticated person may " + string(action)}
	}
	if p.MustChangePassword {
		return deny("%s must change the initial password first (`sceau account passwd`)", p.Account)
	}
	if rule.NotSelf && res.Subject != "" && res.Subject == p.Account {
		return deny("%s may not %s on their own account: another person must", p.Account, action)
	}
	if rule.Self && res.Subject != "" && res.Subject == p.Account {
		return Decision{Allow: true, Reason: "a person may " + string(action) + " on their own record"}
	}
	if rule.Vote && res.Requested != "" {
		return decideVote(p, action, res)
	}
	for _, r := range rule.Roles {
		if p.Has(r) {
			d := Decision{Allow: true, Role: r, Reason: fmt.Sprintf("a %s may %s", r.Title(), action)}
			if len(rule.Approvers) > 0 {
				d.DualControl, d.Approvers = true, rule.Approvers
				d.Reason = fmt.Sprintf("a %s may request %s; %s approve it (ROLE-3)", r.Title(), action, titles(rule.Approvers))
			}
			return d
		}
	}
	return deny("%s needs the role %s; %s holds %s", action, titles(rule.Roles), p.Account, p.heldRoles())
}

// decideVote decides a vote on a request under dual control (ROLE-3).
func decideVote(p Principal, action Action, res Resource) Decision {
	target, ok := rules[res.Requested]
	if !ok || len(target.Approvers) == 0 {
		return deny("%s is not an action under dual control", res.Requested)
	}
	if action == ApprovalReject && res.Requester == p.Account {
		return Decision{Allow: true, Reason: "the requester may withdraw their request"}
	}
	// ROLE-3: the requester never counts as an approver.
	if res.Requester == p.Account {
		return deny("%s requested this %s and cannot approve it: another person must", p.Account, res.Requested)
	}
	if action == ApprovalApprove && res.Subject != "" && res.Subject == p.Account {
		return deny("%s is the subject of this %s and cannot approve it", p.Account, res.Requested)
	}
	for _, r := range target.Approvers {
		if p.Has(r) {
			return Decision{Allow: true, Role: r, Reason: fmt.Sprintf("a %s may vote on %s", r.Title(), res.Requested)}
		}
	}
	return deny("votes on %s need the role %s; %s holds %s", res.Requested, titles(target.Approvers), p.Account, p.heldRoles())
}

func (p Principal) heldRoles() string {
	if len(p.Roles) == 0 {
		return "no role"
	}
	return titles(p.Roles)
}

func titles(rs []Role) string {
	s := make([]string, len(rs))
	for i, r := range rs {
		s[i] = r.Title()
	}
	if len(s) <= 1 {
		return strings.Join(s, "")
	}
	return strings.Join(s[:len(s)-1], ", ") + " or " + s[len(s)-1]
}

func deny(format string, args ...any) Decision {
	return Decision{Reason: fmt.Sprintf(format, args...)}
}

// Err turns a refusal into a Denied error; nil when d allows.
// Authorize decides action on res for p and returns the audit actor under
// the role that allows it (ROLE-5), or the refusal (default deny).
func Authorize(p Principal, action Action, res Resource) (sceau.Actor, error) {
	d := Decide(p, action, res)
	if err := d.Err(); err != nil {
		return sceau.Actor{}, err
	}
	return p.Actor(d.Role), nil
}

func (d Decision) Err() error {
	if d.Allow {
		return nil
	}
	return sceau.Errorf(sceau.Denied, "access", "%s", d.Reason)
}
