package access

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/sceau/sceau/internal/audit"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/store"
)

// RolePayload is the payload of a role.grant or role.remove request.
type RolePayload struct {
	Account string `json:"account"`
	Role    Role   `json:"role"`
}

// RequestRoleGrant asks that account be granted role. Only a Security
// Officer may ask (ROLE-2) and the grant happens once approved (ROLE-3); a
// grant that would break separation of duties is refused now and again at
// execution (ROLE-2).
func (s *Service) RequestRoleGrant(ctx context.Context, p Principal, account string, role Role) (*Request, error) {
	return s.approvals.Request(ctx, p, RoleGrant, Resource{Kind: "account", ID: account, Subject: account}, RolePayload{account, role})
}

// RequestRoleRemoval asks that account lose role, under dual control; once
// executed, the next request of that person is refused the role (ROLE-4).
func (s *Service) RequestRoleRemoval(ctx context.Context, p Principal, account string, role Role) (*Request, error) {
	return s.approvals.Request(ctx, p, RoleRemove, Resource{Kind: "account", ID: account, Subject: account}, RolePayload{account, role})
}

func (s *Service) registerRoleExecutors() {
	for action, e := range map[Action]Executor{
		RoleGrant:  {Check: s.checkGrant, Execute: s.executeGrant},
		RoleRemove: {Check: s.checkRemoval, Execute: s.executeRemoval},
	} {
		if err := s.approvals.Register(action, e); err != nil {
			panic(err)
		}
	}
}

func rolePayload(req *Request) (RolePayload, error) {
	var rp RolePayload
	dec := json.NewDecoder(bytes.NewReader(req.Payload))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&rp); err != nil {
		return rp, sceau.E(sceau.Invalid, "access: role", "bad request payload", err)
	}
	if _, err := ParseRole(string(rp.Role)); err != nil {
		return rp, err
	}
	if rp.Account != req.Resource.ID {
		return rp, sceau.Errorf(sceau.Invalid, "access: role", "the payload names %s, the request %s", clip(rp.Account), clip(req.Resource.ID))
	}
	return rp, nil
}

func (s *Service) checkGrant(ctx context.Context, q store.Querier, req *Request) error {
	rp, err := rolePayload(req)
	if err != nil {
		return err
	}
	if _, err := s.account(ctx, q, rp.Account); err != nil {
		return err
	}
	held, err := currentRoles(ctx, q, rp.Account)
	if err != nil {
		return err
	}
	for _, r := range held {
		if r == rp.Role {
			return sceau.Errorf(sceau.Conflict, "access: role grant", "%s is a %s already", rp.Account, rp.Role.Title())
		}
	}
	// ROLE-2: a grant that breaks separation of duties is refused.
	if err := CheckRoles(append(held, rp.Role)); err != nil {
		return sceau.Errorf(sceau.Invalid, "access: role grant", "%s cannot be granted %s: %s", rp.Account, rp.Role, sceau.Message(err))
	}
	return nil
}

func (s *Service) executeGrant(ctx context.Context, tx *store.Tx, req *Request) (string, error) {
	if err := s.checkGrant(ctx, tx, req); err != nil {
		return "", err
	}
	rp, _ := rolePayload(req)
	if _, err := tx.ExecContext(ctx, qInsertAssignment, s.newID(8), rp.Account, string(rp.Role), store.FormatTime(s.now()),
		req.Requester, req.ID); err != nil {
		return "", store.Classify("access: role grant", err)
	}
	err := s.journal.Append(ctx, tx, audit.Event{Actor: sceau.Actor{ID: req.Requester, Role: string(req.RequesterRole)},
		Action: "role.granted", Object: "account:" + rp.Account, Details: map[string]any{"role": rp.Role, "approval": req.ID}})
	return fmt.Sprintf("%s is a %s", rp.Account, rp.Role.Title()), err
}

func (s *Service) checkRemoval(ctx context.Context, q store.Querier, req *Request) error {
	rp, err := rolePayload(req)
	if err != nil {
		return err
	}
	held, err := currentRoles(ctx, q, rp.Account)
	if err != nil {
		return err
	}
	has := false
	for _, r := range held {
		has = has || r == rp.Role
	}
	if !has {
		if _, err := s.account(ctx, q, rp.Account); err != nil {
			return err
		}
		return sceau.Errorf(sceau.Conflict, "access: role removal", "%s is not a %s", rp.Account, rp.Role.Title())
	}
	if rp.Role == SecurityOfficer {
		var n int
		if err := q.QueryRowContext(ctx, qCountHolders,
			string(SecurityOfficer)).Scan(&n); err != nil {
			return store.Classify("access: role removal", err)
		}
		if n <= 1 {
			return sceau.Errorf(sceau.Conflict, "access: role removal", "%s is the last Security Officer: grant the role to another person first", rp.Account)
		}
	}
	return nil
}

func (s *Service) executeRemoval(ctx context.Context, tx *store.Tx, req *Request) (string, error) {
	if err := s.checkRemoval(ctx, tx, req); err != nil {
		return "", err
	}
	rp, _ := rolePayload(req)
	if _, err := tx.ExecContext(ctx, qRemoveAssignment, store.FormatTime(s.now()), req.Requester, req.ID, rp.Account, string(rp.Role)); err != nil {
		return "", store.Classify("access: role removal", err)
	}
	err := s.journal.Append(ctx, tx, audit.Event{Actor: sceau.Actor{ID: req.Requester, Role: string(req.RequesterRole)},
		Action: "role.removed", Object: "account:" + rp.Account, Details: map[string]any{"role": rp.Role, "approval": req.ID}})
	return fmt.Sprintf("%s is no longer a %s", rp.Account, rp.Role.Title()), err
}

// Assignment is one role held, or once held, by a person (ROLE-6).
type Assignment struct {
	Role            Role       `json:"role"`
	GrantedAt       time.Time  `json:"granted_at"`
	GrantedBy       string     `json:"granted_by"`
	GrantApproval   string     `json:"grant_approval,omitempty"`
	RemovedAt       *time.Time `json:"removed_at,omitempty"`
	RemovedBy       string     `json:"removed_by,omitempty"`
	RemovalApproval string     `json:"removal_approval,omitempty"`
}

// Attestation kinds (ROLE-6, policy §5.3.2, §5.3.3).
const (
	BackgroundCheck = "background-check"
	Training        = "training"
)

// Attestation records a background check or a training of a person: when
// it took place, who attests it, and who recorded it (ROLE-6).
type Attestation struct {
	ID         string    `json:"id"`
	Kind       string    `json:"kind"`
	Date       string    `json:"date"` // YYYY-MM-DD
	AttestedBy string    `json:"attested_by"`
	Note       string    `json:"note,omitempty"`
	RecordedAt time.Time `json:"recorded_at"`
	RecordedBy string    `json:"recorded_by"`
}

// PersonRecord is a person's personnel record (ROLE-6).
type PersonRecord struct {
	Account      string        `json:"account"`
	FullName     string        `json:"full_name"`
	CreatedAt    time.Time     `json:"created_at"`
	CreatedBy    string        `json:"created_by"`
	Roles        []Role        `json:"roles"`
	Assignments  []Assignment  `json:"assignments"`
	Attestations []Attestation `json:"attestations"`
}

// Person returns the personnel record of name: for the Security Officer,
// the Auditor, and the person themself.
func (s *Service) Person(ctx context.Context, p Principal, name string) (*PersonRecord, error) {
	if err := Decide(p, PeopleShow, Resource{Kind: "person", ID: name, Subject: name}).Err(); err != nil {
		return nil, err
	}
	return s.person(ctx, name)
}

// People returns every personnel record.
func (s *Service) People(ctx context.Context, p Principal) ([]*PersonRecord, error) {
	if err := Decide(p, PeopleShow, Resource{Kind: "person"}).Err(); err != nil {
		return nil, err
	}
	names, err := s.accountNames(ctx)
	if err != nil {
		return nil, err
	}
	out := []*PersonRecord{}
	for _, n := range names {
		r, err := s.person(ctx, n)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

func (s *Service) person(ctx context.Context, name string) (*PersonRecord, error) {
	const op = "access: person"
	a, err := s.account(ctx, s.db, name)
	if err != nil {
		return nil, err
	}
	rec := &PersonRecord{Account: a.Name, FullName: a.FullName, CreatedAt: a.CreatedAt, CreatedBy: a.CreatedBy, Roles: a.Roles,
		Assignments: []Assignment{}, Attestations: []Attestation{}}
	rows, err := s.db.QueryContext(ctx, qAssignments, name)
	if err != nil {
		return nil, store.Classify(op, err)
	}
	for rows.Next() {
		var (
			as                 Assignment
			role, granted      string
			gApp, rAt, rBy, rA sql.NullString
		)
		if err := rows.Scan(&role, &granted, &as.GrantedBy, &gApp, &rAt, &rBy, &rA); err != nil {
			rows.Close()
			return nil, store.Classify(op, err)
		}
		as.Role, as.GrantApproval, as.RemovedBy, as.RemovalApproval = Role(role), gApp.String, rBy.String, rA.String
		var e1, e2 error
		as.GrantedAt, e1 = store.ParseTime(granted)
		var removed time.Time
		removed, e2 = store.NullTime(rAt)
		if err := errors.Join(e1, e2); err != nil {
			rows.Close()
			return nil, sceau.E(sceau.Internal, op, "", err)
		}
		if !removed.IsZero() {
			as.RemovedAt = &removed
		}
		rec.Assignments = append(rec.Assignments, as)
	}
	err = rows.Err()
	rows.Close()
	if err != nil {
		return nil, store.Classify(op, err)
	}
	rows, err = s.db.QueryContext(ctx, qAttestations, name)
	if err != nil {
		return nil, store.Classify(op, err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			at       Attestation
			recorded string
		)
		if err := rows.Scan(&at.ID, &at.Kind, &at.Date, &at.AttestedBy, &at.Note, &recorded, &at.RecordedBy); err != nil {
			return nil, store.Classify(op, err)
		}
		if at.RecordedAt, err = store.ParseTime(recorded); err != nil {
			return nil, sceau.E(sceau.Internal, op, "", err)
		}
		rec.Attestations = append(rec.Attestations, at)
	}
	return rec, store.Classify(op, rows.Err())
}

// Attest records a background check or a training of name (ROLE-6), by a
// Security Officer: date is when it took place (YYYY-MM-DD, not in the
// future), attestedBy who performed or attests it.
func (s *Service) Attest(ctx context.Context, p Principal, name, kind, date, attestedBy, note string) (*Attestation, error) {
	const op = "access: attest"
	d := Decide(p, PeopleAttest, Resource{Kind: "person", ID: name, Subject: name})
	if err := d.Err(); err != nil {
		return nil, err
	}
	if kind != BackgroundCheck && kind != Training {
		return nil, sceau.Errorf(sceau.Invalid, op, "kind must be %s or %s", BackgroundCheck, Training)
	}
	day, err := time.Parse(time.DateOnly, date)
	if err != nil {
		return nil, sceau.Errorf(sceau.Invalid, op, "date %q is not YYYY-MM-DD", clip(date))
	}
	if day.After(s.now()) {
		return nil, sceau.Errorf(sceau.Invalid, op, "date %s is in the future", date)
	}
	attestedBy = strings.TrimSpace(attestedBy)
	if attestedBy == "" || len(attestedBy) > 200 || len(note) > 1000 ||
		strings.IndexFunc(attestedBy+note, func(r rune) bool { return unicode.IsControl(r) && r != '\n' }) >= 0 {
		return nil, sceau.Errorf(sceau.Invalid, op, "attested_by (1 to 200 characters) and note (up to 1000) must be printable text")
	}
	if _, err := s.account(ctx, s.db, name); err != nil {
		return nil, err
	}
	at := &Attestation{ID: s.newID(8), Kind: kind, Date: date, AttestedBy: attestedBy, Note: note, RecordedAt: s.now(), RecordedBy: p.Account}
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.ExecContext(ctx, qInsertAttestation, at.ID, name, kind, date, attestedBy, note,
			store.FormatTime(at.RecordedAt), p.Account); err != nil {
			return store.Classify(op, err)
		}
		return s.journal.Append(ctx, tx, audit.Event{Actor: p.Actor(d.Role), Action: "person.attested", Object: "account:" + name,
			Details: map[string]any{"kind": kind, "date": date, "attested_by": attestedBy, "attestation": at.ID}})
	})
	if err != nil {
		return nil, err
	}
	return at, nil
}

// RecordDenied journals a refusal of the access decision (SYS-1, AUD-1):
// who tried what, and why it was refused.
func (s *Service) RecordDenied(ctx context.Context, p Principal, action Action, res Resource, reason string) error {
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		return s.journal.Append(ctx, tx, audit.Event{Actor: p.Actor(""), Action: "access.denied", Object: res.String(),
			Details: map[string]any{"action": action, "reason": reason, "method": p.Method, "session": p.Session, "terminal": p.Terminal}})
	})
}
