package access_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sceau/sceau/internal/access"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/sceautest"
	"github.com/sceau/sceau/internal/store"
)

func TestROLE3_RoleGrantNeedsTwoOtherApprovers(t *testing.T) {
	sceautest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, access.Options{})
		ctx := context.Background()
		so1, so2, au1 := f.principal("so1"), f.principal("so2"), f.principal("au1")
		req, err := f.svc.RequestRoleGrant(ctx, so1, "nobody", access.RegistrationOfficer)
		if err != nil {
			t.Fatal(err)
		}
		if req.Status != "pending" || req.Required != 2 || req.Requester != "so1" || req.RequesterRole != access.SecurityOfficer {
			t.Fatalf("request %+v", req)
		}
		// Self-approval is refused, with an audit event, and counts nothing.
		_, err = f.svc.Approvals().Approve(ctx, so1, req.ID)
		if !errors.Is(err, sceau.ErrDenied) || !strings.Contains(err.Error(), "cannot approve") {
			t.Fatalf("self-approval: %v", err)
		}
		refused := f.events("approval.refused")
		if len(refused) != 1 || refused[0].Actor != "so1" || !strings.Contains(detail(t, refused[0], "reason").(string), "cannot approve") {
			t.Fatalf("approval.refused events %+v", refused)
		}
		// People without an approver role cannot approve.
		for _, who := range []string{"ra1", "sys1", "app1", "ksh1", "nobody"} {
			if _, err := f.svc.Approvals().Approve(ctx, f.principal(who), req.ID); !errors.Is(err, sceau.ErrDenied) {
				t.Errorf("%s approved a role grant: %v", who, err)
			}
		}
		// One approval: not yet.
		r, err := f.svc.Approvals().Approve(ctx, so2, req.ID)
		if err != nil || r.Status != "pending" || r.Approvals != 1 {
			t.Fatalf("first approval: %+v %v", r, err)
		}
		// The same person again, under another session: counts once.
		so2again := so2
		so2again.Session = "another-session"
		if _, err := f.svc.Approvals().Approve(ctx, so2again, req.ID); !errors.Is(err, sceau.ErrConflict) || !strings.Contains(err.Error(), "counts once") {
			t.Fatalf("second approval by so2: %v", err)
		}
		if a, _ := f.svc.ShowAccount(ctx, so1, "nobody"); len(a.Roles) != 0 {
			t.Fatalf("granted after one approver: %v", a.Roles)
		}
		// The Auditor's approval is the second: executed.
		r, err = f.svc.Approvals().Approve(ctx, au1, req.ID)
		if err != nil || r.Status != "executed" || r.Approvals != 2 || r.DecidedAt == nil {
			t.Fatalf("second approval: %+v %v", r, err)
		}
		if a, _ := f.svc.ShowAccount(ctx, so1, "nobody"); len(a.Roles) != 1 || a.Roles[0] != access.RegistrationOfficer {
			t.Fatalf("roles after execution: %v", a.Roles)
		}
		// Decided: no more votes.
		if _, err := f.svc.Approvals().Approve(ctx, f.principal("so2"), req.ID); !errors.Is(err, sceau.ErrConflict) {
			t.Fatalf("vote on an executed request: %v", err)
		}
		for action, n := range map[string]int{"approval.requested": 1, "approval.approved": 2, "approval.executed": 1} {
			if got := len(f.events(action)); got != n {
				t.Errorf("%d %s events, want %d", got, action, n)
			}
		}
		granted := f.events("role.granted")
		last := granted[len(granted)-1]
		if last.Object != "account:nobody" || last.Actor != "so1" || last.Role != "security-officer" || detail(t, last, "approval") != req.ID {
			t.Errorf("role.granted event %+v", last)
		}
	})
}

func TestROLE3_ConcurrentApprovalsExecuteExactlyOnce(t *testing.T) {
	sceautest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		// Three eligible approvers, two needed: whatever the interleaving,
		// the grant happens once.
		f := newFixture(t, db, access.Options{})
		ctx := context.Background()
		approvers := []access.Principal{f.principal("so2"), f.principal("au1")}
		// A third approver: a third Security Officer, created for this test.
		so3 := access.Principal{Account: "so3", Roles: []access.Role{access.SecurityOfficer}, Method: access.MethodPassword, Session: "s3"}
		if _, err := f.svc.CreateAccount(ctx, f.principal("so1"), "so3", "Third Officer"); err != nil {
			t.Fatal(err)
		}
		r, _ := f.svc.RequestRoleGrant(ctx, f.principal("so1"), "so3", access.SecurityOfficer)
		for _, p := range approvers {
			if _, err := f.svc.Approvals().Approve(ctx, p, r.ID); err != nil {
				t.Fatal(err)
			}
		}
		approvers = append(approvers, so3)

		const rounds = 6
		for i := 0; i < rounds; i++ {
			name := []string{"c0", "c1", "c2", "c3", "c4", "c5"}[i]
			if _, err := f.svc.CreateAccount(ctx, f.principal("so1"), name, "Candidate "+name); err != nil {
				t.Fatal(err)
			}
			req, err := f.svc.RequestRoleGrant(ctx, f.principal("so1"), name, access.SystemAuditor)
			if err != nil {
				t.Fatal(err)
			}
			var (
				wg       sync.WaitGroup
				start    = make(chan struct{})
				mu       sync.Mutex
				ok       int
				executed int
				conflict int
			)
			for _, p := range approvers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					r, err := f.svc.Approvals().Approve(ctx, p, req.ID)
					mu.Lock()
					defer mu.Unlock()
					switch {
					case err == nil:
						ok++
						if r.Status == "executed" {
							executed++
						}
					case errors.Is(err, sceau.ErrConflict):
						conflict++
					default:
						t.Errorf("approval by %s: %v", p.Account, err)
					}
				}()
			}
			close(start)
			wg.Wait()
			if ok != 2 || conflict != 1 || executed != 1 {
				t.Fatalf("round %d: %d approvals accepted, %d conflicts, %d executions; want 2, 1, 1", i, ok, conflict, executed)
			}
			var n int
			if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM role_assignments WHERE account = ? AND role = 'system-auditor'`, name).Scan(&n); err != nil || n != 1 {
				t.Fatalf("round %d: %d assignments (%v), want 1", i, n, err)
			}
		}
		if got := len(f.events("approval.executed")); got != rounds+1 {
			t.Errorf("%d approval.executed events, want %d", got, rounds+1)
		}
	})
}

func TestROLE3_RequestsExpireAndRejectionsEndThem(t *testing.T) {
	sceautest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, access.Options{RequestTTL: time.Hour, ApprovalsFor: map[access.Action]int{access.RoleRemove: 1}})
		ctx := context.Background()
		so1, so2 := f.principal("so1"), f.principal("so2")
		late, _ := f.svc.RequestRoleGrant(ctx, so1, "nobody", access.KeyShareHolder)
		f.clock.Advance(61 * time.Minute)
		if _, err := f.svc.Approvals().Approve(ctx, so2, late.ID); !errors.Is(err, sceau.ErrConflict) || !strings.Contains(err.Error(), "expired") {
			t.Fatalf("approval after expiry: %v", err)
		}
		if r, _ := f.svc.Approvals().Get(ctx, so2, late.ID); r.Status != "expired" {
			t.Fatalf("status %q, want expired", r.Status)
		}
		if got := len(f.events("approval.expired")); got != 1 {
			t.Errorf("%d approval.expired events", got)
		}
		// The sweep expires the forgotten ones.
		forgotten, _ := f.svc.RequestRoleGrant(ctx, so1, "nobody", access.ApplicationAdministrator)
		f.clock.Advance(2 * time.Hour)
		list, err := f.svc.Approvals().List(ctx, f.principal("au1"), "pending", 0)
		if err != nil || len(list) != 0 {
			t.Fatalf("pending after expiry: %v %v", list, err)
		}
		if r, _ := f.svc.Approvals().Get(ctx, so2, forgotten.ID); r.Status != "expired" {
			t.Fatalf("forgotten request is %s", r.Status)
		}

		// A rejection by an approver ends the request, with its reason.
		rej, _ := f.svc.RequestRoleGrant(ctx, so1, "nobody", access.KeyShareHolder)
		r, err := f.svc.Approvals().Reject(ctx, f.principal("au1"), rej.ID, "no background check on file")
		if err != nil || r.Status != "rejected" {
			t.Fatalf("reject: %+v %v", r, err)
		}
		if _, err := f.svc.Approvals().Approve(ctx, so2, rej.ID); !errors.Is(err, sceau.ErrConflict) {
			t.Fatalf("approval after rejection: %v", err)
		}
		ev := f.events("approval.rejected")
		if len(ev) != 1 || detail(t, ev[0], "reason") != "no background check on file" {
			t.Fatalf("approval.rejected events %+v", ev)
		}
		// The requester may withdraw their request; nobody else outside
		// the approvers may reject it.
		wd, _ := f.svc.RequestRoleGrant(ctx, so1, "nobody", access.KeyShareHolder)
		if _, err := f.svc.Approvals().Reject(ctx, f.principal("ra1"), wd.ID, ""); !errors.Is(err, sceau.ErrDenied) {
			t.Fatalf("rejection by an RA officer: %v", err)
		}
		if r, err := f.svc.Approvals().Reject(ctx, so1, wd.ID, "typo"); err != nil || r.Status != "rejected" {
			t.Fatalf("withdrawal: %+v %v", r, err)
		}
		if got := len(f.events("approval.withdrawn")); got != 1 {
			t.Errorf("%d approval.withdrawn events", got)
		}
		// A per-action count: role removal needs one approver here.
		rm, err := f.svc.RequestRoleRemoval(ctx, so1, "ksh1", access.KeyShareHolder)
		if err != nil || rm.Required != 1 {
			t.Fatalf("removal request %+v %v", rm, err)
		}
		if r, err := f.svc.Approvals().Approve(ctx, so2, rm.ID); err != nil || r.Status != "executed" {
			t.Fatalf("removal: %+v %v", r, err)
		}
	})
}

func TestROLE2_GrantBreakingSeparationOfDutiesIsRefused(t *testing.T) {
	sceautest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, access.Options{})
		ctx := context.Background()
		so1 := f.principal("so1")
		for _, tc := range []struct {
			account string
			role    access.Role
		}{
			{"so2", access.SystemAuditor},
			{"au1", access.KeyShareHolder},
			{"ra1", access.SystemOperator},
			{"sys1", access.ApplicationAdministrator},
			{"app1", access.SecurityOfficer},
		} {
			_, err := f.svc.RequestRoleGrant(ctx, so1, tc.account, tc.role)
			if !errors.Is(err, sceau.ErrInvalid) || !strings.Contains(err.Error(), "§5.2.4") {
				t.Errorf("grant of %s to %s: %v, want a refusal citing §5.2.4", tc.role, tc.account, err)
			}
		}
		// Two grants each fine alone, together not: the second fails at
		// execution, and says why.
		first, err := f.svc.RequestRoleGrant(ctx, so1, "nobody", access.SystemAdministrator)
		if err != nil {
			t.Fatal(err)
		}
		second, err := f.svc.RequestRoleGrant(ctx, so1, "nobody", access.RegistrationOfficer)
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range []string{first.ID, second.ID} {
			for _, who := range []string{"so2", "au1"} {
				if _, err := f.svc.Approvals().Approve(ctx, f.principal(who), id); err != nil {
					t.Fatal(err)
				}
			}
		}
		r, _ := f.svc.Approvals().Get(ctx, so1, second.ID)
		if r.Status != "failed" || !strings.Contains(r.Result, "§5.2.4") {
			t.Fatalf("second grant: %s %q, want failed citing §5.2.4", r.Status, r.Result)
		}
		if a, _ := f.svc.ShowAccount(ctx, so1, "nobody"); len(a.Roles) != 1 || a.Roles[0] != access.SystemAdministrator {
			t.Fatalf("roles %v, want system-administrator only", a.Roles)
		}
		if got := len(f.events("approval.failed")); got != 1 {
			t.Errorf("%d approval.failed events", got)
		}
	})
}

// TestROLE4_LastSecurityOfficerKeepsTheRole: removing the role from the
// last Security Officer would leave nobody to grant roles.
func TestROLE4_LastSecurityOfficerKeepsTheRole(t *testing.T) {
	sceautest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, access.Options{ApprovalsFor: map[access.Action]int{access.RoleRemove: 1}})
		ctx := context.Background()
		rm, err := f.svc.RequestRoleRemoval(ctx, f.principal("so1"), "so2", access.SecurityOfficer)
		if err != nil {
			t.Fatal(err)
		}
		if r, err := f.svc.Approvals().Approve(ctx, f.principal("au1"), rm.ID); err != nil || r.Status != "executed" {
			t.Fatalf("removal of so2: %+v %v", r, err)
		}
		_, err = f.svc.RequestRoleRemoval(ctx, f.principal("so1"), "so1", access.SecurityOfficer)
		if !errors.Is(err, sceau.ErrConflict) || !strings.Contains(err.Error(), "last Security Officer") {
			t.Fatalf("removal of the last officer: %v", err)
		}
	})
}

func TestROLE1_OnlySecurityOfficerRequestsRoleChanges(t *testing.T) {
	sceautest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, access.Options{})
		ctx := context.Background()
		for _, who := range []string{"au1", "ra1", "sys1", "app1", "ksh1", "nobody"} {
			_, err := f.svc.RequestRoleGrant(ctx, f.principal(who), "nobody", access.KeyShareHolder)
			if !errors.Is(err, sceau.ErrDenied) || !strings.Contains(err.Error(), "Security Officer") {
				t.Errorf("%s requested a grant: %v", who, err)
			}
			if _, err := f.svc.RequestRoleRemoval(ctx, f.principal(who), "ksh1", access.KeyShareHolder); !errors.Is(err, sceau.ErrDenied) {
				t.Errorf("%s requested a removal: %v", who, err)
			}
			if _, err := f.svc.CreateAccount(ctx, f.principal(who), "eve", "Eve"); !errors.Is(err, sceau.ErrDenied) {
				t.Errorf("%s created an account: %v", who, err)
			}
		}
	})
}

func TestROLE4_RemovedRoleIsRefusedOnTheNextRequest(t *testing.T) {
	sceautest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, access.Options{})
		ctx := context.Background()
		_, token := f.login("ra1")
		p, err := f.svc.Authenticate(ctx, f.term, token)
		if err != nil {
			t.Fatal(err)
		}
		if d := access.Decide(p, access.CertIssue, access.Resource{Kind: "ca", ID: "issuing"}); !d.Allow {
			t.Fatalf("RA officer may not issue: %s", d.Reason)
		}
		req, _ := f.svc.RequestRoleRemoval(ctx, f.principal("so1"), "ra1", access.RegistrationOfficer)
		for _, who := range []string{"so2", "au1"} {
			if _, err := f.svc.Approvals().Approve(ctx, f.principal(who), req.ID); err != nil {
				t.Fatal(err)
			}
		}
		// The very next request of the same session: no role, refused.
		p, err = f.svc.Authenticate(ctx, f.term, token)
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Roles) != 0 {
			t.Fatalf("roles after removal: %v", p.Roles)
		}
		if d := access.Decide(p, access.CertIssue, access.Resource{Kind: "ca", ID: "issuing"}); d.Allow {
			t.Fatal("the removed role still allows issuance")
		}
		rec, err := f.svc.Person(ctx, f.principal("au1"), "ra1")
		if err != nil {
			t.Fatal(err)
		}
		if len(rec.Assignments) != 1 || rec.Assignments[0].RemovedAt == nil || rec.Assignments[0].RemovedBy != "so1" ||
			rec.Assignments[0].RemovalApproval != req.ID {
			t.Fatalf("assignment history %+v", rec.Assignments)
		}
	})
}

func TestROLE6_PersonnelRecordKeepsDatesAndAttestations(t *testing.T) {
	sceautest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, access.Options{})
		ctx := context.Background()
		so1 := f.principal("so1")
		at, err := f.svc.Attest(ctx, so1, "ra1", access.BackgroundCheck, "2026-02-20", "HR department (J. Martin)", "casier judiciaire B3")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Attest(ctx, so1, "ra1", access.Training, "2026-02-27", "Sceau trainer", "RA procedures"); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct{ kind, date, by, msg string }{
			{"haircut", "2026-02-27", "x", "kind must be"},
			{access.Training, "27/02/2026", "x", "YYYY-MM-DD"},
			{access.Training, "2027-01-01", "x", "in the future"},
			{access.Training, "2026-02-27", " ", "attested_by"},
		} {
			if _, err := f.svc.Attest(ctx, so1, "ra1", tc.kind, tc.date, tc.by, ""); !errors.Is(err, sceau.ErrInvalid) || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("attest %+v: %v", tc, err)
			}
		}
		if _, err := f.svc.Attest(ctx, f.principal("au1"), "ra1", access.Training, "2026-02-27", "x", ""); !errors.Is(err, sceau.ErrDenied) {
			t.Errorf("the Auditor recorded an attestation: %v", err)
		}
		rec, err := f.svc.Person(ctx, f.principal("ra1"), "ra1") // oneself
		if err != nil {
			t.Fatal(err)
		}
		if len(rec.Attestations) != 2 || rec.Attestations[0].ID != at.ID || rec.Attestations[0].RecordedBy != "so1" ||
			rec.Attestations[0].AttestedBy != "HR department (J. Martin)" || rec.Attestations[1].Kind != access.Training {
			t.Fatalf("attestations %+v", rec.Attestations)
		}
		if len(rec.Assignments) != 1 || rec.Assignments[0].GrantedBy != "system:test" || rec.Assignments[0].GrantedAt.IsZero() {
			t.Fatalf("assignments %+v", rec.Assignments)
		}
		if _, err := f.svc.Person(ctx, f.principal("ra1"), "so1"); !errors.Is(err, sceau.ErrDenied) {
			t.Errorf("an RA officer read another person's record: %v", err)
		}
		all, err := f.svc.People(ctx, f.principal("au1"))
		if err != nil || len(all) != len(fixturePeople) {
			t.Fatalf("people: %d %v", len(all), err)
		}
		if got := len(f.events("person.attested")); got != 2 {
			t.Errorf("%d person.attested events", got)
		}
	})
}
