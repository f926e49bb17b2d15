package access_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/sceau/sceau/internal/access"
	"github.com/sceau/sceau/internal/sceau"
)

// The policy's roles, written here independently of the package's tables.
var (
	so  = access.Role("security-officer")
	sa  = access.Role("system-administrator")
	sop = access.Role("system-operator")
	au  = access.Role("system-auditor")
	aa  = access.Role("application-administrator")
	ra  = access.Role("registration-officer")
	ksh = access.Role("key-share-holder")
)

var policyRoles = []access.Role{so, sa, sop, au, aa, ra, ksh}

// TestROLE2_EveryForbiddenPairIsRefused checks every pair of roles against
// policy §5.2.4: a Security Officer, an Auditor and a Registration &
// Revocation Officer hold no other role; System Administrator and System
// Operator may be combined and nothing else added. The only pairs left are
// those two and Application Administrator with Key Share Holder.
func TestROLE2_EveryForbiddenPairIsRefused(t *testing.T) {
	allowed := map[[2]access.Role]bool{{sa, sop}: true, {sop, sa}: true, {aa, ksh}: true, {ksh, aa}: true}
	for _, a := range policyRoles {
		if err := access.CheckRoles([]access.Role{a}); err != nil {
			t.Errorf("%s alone refused: %v", a, err)
		}
		for _, b := range policyRoles {
			if a == b {
				continue
			}
			err := access.CheckRoles([]access.Role{a, b})
			switch {
			case allowed[[2]access.Role{a, b}] && err != nil:
				t.Errorf("%s + %s refused: %v", a, b, err)
			case !allowed[[2]access.Role{a, b}] && err == nil:
				t.Errorf("%s + %s accepted; the policy forbids it", a, b)
			case err != nil && !errors.Is(err, sceau.ErrInvalid):
				t.Errorf("%s + %s: error of kind %v, want invalid", a, b, sceau.KindOf(err))
			case err != nil && !strings.Contains(err.Error(), "§5.2.4"):
				t.Errorf("%s + %s: the refusal %q does not cite the rule", a, b, err)
			}
		}
	}
	// Nothing is added to an allowed pair.
	for _, pair := range [][2]access.Role{{sa, sop}, {aa, ksh}} {
		for _, c := range policyRoles {
			if c == pair[0] || c == pair[1] {
				continue
			}
			if err := access.CheckRoles([]access.Role{pair[0], pair[1], c}); err == nil {
				t.Errorf("%s + %s + %s accepted", pair[0], pair[1], c)
			}
		}
	}
	if err := access.CheckRoles([]access.Role{so, so}); err == nil {
		t.Error("a role listed twice is accepted")
	}
	if err := access.CheckRoles([]access.Role{"root"}); err == nil {
		t.Error("an unknown role is accepted")
	}
}

func TestSYS1_DecideDeniesByDefault(t *testing.T) {
	everyone := access.Principal{Account: "x", Roles: policyRoles, Method: access.MethodPassword}
	for _, a := range []access.Action{"", "cert.delete", "audit.erase", "ca.list ", "CA.LIST"} {
		if d := access.Decide(everyone, a, access.Resource{}); d.Allow || !strings.Contains(d.Reason, "default deny") {
			t.Errorf("Decide(%q) = %+v, want a default deny", a, d)
		}
	}
	// A terminal without a person may only log in and ask who it is,
	// and relay what proves itself: a share and its PIN (KEY-2), a
	// holder's revocation secret (CA-4).
	terminal := access.Principal{Terminal: "desk-3"}
	for _, rule := range access.Policy() {
		d := access.Decide(terminal, rule.Action, access.Resource{})
		want := rule.Action == access.SessionLogin || rule.Action == access.SessionWhoami ||
			rule.Action == access.KeyActivationBegin || rule.Action == access.KeyActivationShare ||
			rule.Action == access.RevocationRequestHolder
		if d.Allow != want {
			t.Errorf("terminal alone, %s: allow=%v (%s), want %v", rule.Action, d.Allow, d.Reason, want)
		}
	}
	// A person without a role may do only what needs no role.
	newcomer := access.Principal{Account: "new", Method: access.MethodPassword}
	for _, rule := range access.Policy() {
		d := access.Decide(newcomer, rule.Action, access.Resource{})
		want := rule.Terminal || rule.Person || rule.ShareHolder
		if d.Allow != want {
			t.Errorf("person without role, %s: allow=%v (%s), want %v", rule.Action, d.Allow, d.Reason, want)
		}
	}
	// Until the initial password is changed, nothing that needs a role.
	fresh := access.Principal{Account: "so9", Roles: []access.Role{so}, Method: access.MethodPassword, MustChangePassword: true}
	if d := access.Decide(fresh, access.AccountCreate, access.Resource{}); d.Allow || !strings.Contains(d.Reason, "initial password") {
		t.Errorf("must-change principal creating an account: %+v", d)
	}
	if d := access.Decide(fresh, access.SessionPassword, access.Resource{}); !d.Allow {
		t.Errorf("must-change principal cannot change the password: %s", d.Reason)
	}
}

func TestROLE5_DecisionNamesTheRoleActedUnder(t *testing.T) {
	eng := access.Principal{Account: "sys1", Roles: []access.Role{sa, sop}}
	d := access.Decide(eng, access.CRLIssue, access.Resource{Kind: "ca", ID: "issuing"})
	if !d.Allow || d.Role != sop {
		t.Fatalf("CRL by a System Administrator + Operator: %+v, want allowed as system-operator", d)
	}
	if got := eng.Actor(d.Role); got.ID != "sys1" || got.Role != "system-operator" {
		t.Errorf("actor %+v", got)
	}
}

func TestROLE3_DecideVotes(t *testing.T) {
	grant := func(requester, subject string) access.Resource {
		return access.Resource{Kind: "approval", ID: "r1", Requested: access.RoleGrant, Requester: requester, Subject: subject}
	}
	so1 := access.Principal{Account: "so1", Roles: []access.Role{so}}
	so2 := access.Principal{Account: "so2", Roles: []access.Role{so}}
	au1 := access.Principal{Account: "au1", Roles: []access.Role{au}}
	ra1 := access.Principal{Account: "ra1", Roles: []access.Role{ra}}
	for _, tc := range []struct {
		name   string
		p      access.Principal
		action access.Action
		res    access.Resource
		allow  bool
		reason string
	}{
		{"requester approves own request", so1, access.ApprovalApprove, grant("so1", "bob"), false, "cannot approve"},
		{"requester withdraws own request", so1, access.ApprovalReject, grant("so1", "bob"), true, ""},
		{"other Security Officer approves", so2, access.ApprovalApprove, grant("so1", "bob"), true, ""},
		{"Auditor approves a role grant", au1, access.ApprovalApprove, grant("so1", "bob"), true, ""},
		{"RA officer approves a role grant", ra1, access.ApprovalApprove, grant("so1", "bob"), false, "need the role"},
		{"RA officer rejects a role grant", ra1, access.ApprovalReject, grant("so1", "bob"), false, "need the role"},
		{"subject approves their own grant", so2, access.ApprovalApprove, grant("so1", "so2"), false, "subject"},
		{"vote on an action without dual control", so2, access.ApprovalApprove,
			access.Resource{Kind: "approval", Requested: access.CertIssue, Requester: "so1"}, false, "not an action under dual control"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := access.Decide(tc.p, tc.action, tc.res)
			if d.Allow != tc.allow || !strings.Contains(d.Reason, tc.reason) {
				t.Errorf("Decide = %+v, want allow=%v with a reason containing %q", d, tc.allow, tc.reason)
			}
		})
	}
	// Only a Security Officer may request a role grant, and then under
	// dual control.
	if d := access.Decide(so1, access.RoleGrant, access.Resource{Kind: "account", ID: "bob"}); !d.Allow || !d.DualControl {
		t.Errorf("SO requesting a grant: %+v, want allowed under dual control", d)
	}
	for _, p := range []access.Principal{au1, ra1, {Account: "x", Roles: []access.Role{sa, sop}}} {
		if d := access.Decide(p, access.RoleGrant, access.Resource{Kind: "account", ID: "bob"}); d.Allow {
			t.Errorf("%s may request a role grant", p.Roles)
		}
	}
}

// TestROLE3_SensitiveActionsAreUnderDualControl: the policy's list of
// actions needing two people, written independently.
func TestROLE3_SensitiveActionsAreUnderDualControl(t *testing.T) {
	dual := []access.Action{"key.backup", "key.import", "key.destroy", "role.grant", "role.remove", "ca.create",
		"ca.terminate", "revocation.mass", "publication.change"}
	for _, a := range dual {
		r, ok := access.RuleOf(a)
		if !ok || len(r.Approvers) == 0 {
			t.Errorf("%s is not under dual control", a)
		}
	}
	// Key activation is multi-person through its m-of-n shares (KEY-2).
	for _, a := range []access.Action{"key.activation.begin", "key.activation.share"} {
		if r, ok := access.RuleOf(a); !ok || !r.ShareHolder {
			t.Errorf("%s is not left to the share holders", a)
		}
	}
}

func TestAUD3_JournalDeciderAllowsAuditorAndSecurityOfficer(t *testing.T) {
	ctx := context.Background()
	if err := access.JournalDecider.Decide(ctx, sceau.Actor{ID: "x"}, "audit.read"); !errors.Is(err, sceau.ErrDenied) {
		t.Fatalf("without a principal: %v", err)
	}
	for _, r := range policyRoles {
		p := access.Principal{Account: "p", Roles: []access.Role{r}, Method: access.MethodPassword}
		for _, op := range []string{"audit.read", "audit.export"} {
			err := access.JournalDecider.Decide(access.WithPrincipal(ctx, p), p.Actor(r), op)
			want := r == au || r == so
			if (err == nil) != want {
				t.Errorf("%s %s: %v, want allowed=%v", r, op, err, want)
			}
		}
	}
}
