package access

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/sceau/sceau/internal/audit"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/store"
)

// Request states.
const (
	StatusPending  = "pending"
	StatusExecuted = "executed"
	StatusRejected = "rejected"
	StatusExpired  = "expired"
	StatusFailed   = "failed"
)

// maxPayload bounds a request's payload; payloads are journaled and must
// never hold a secret.
const maxPayload = 16 << 10

// Request is an action under dual control (ROLE-3) waiting for, or done
// with, its approvals.
type Request struct {
	ID            string          `json:"id"`
	Action        Action          `json:"action"`
	Resource      Resource        `json:"resource"`
	Payload       json.RawMessage `json:"payload"`
	Requester     string          `json:"requester"`
	RequesterRole Role            `json:"requester_role"`
	Required      int             `json:"required"`
	Approvals     int             `json:"approvals"`
	Status        string          `json:"status"`
	CreatedAt     time.Time       `json:"created_at"`
	ExpiresAt     time.Time       `json:"expires_at"`
	DecidedAt     *time.Time      `json:"decided_at,omitempty"`
	Result        string          `json:"result,omitempty"`
	Votes         []Vote          `json:"votes"`
}

// Vote is one person's approval or rejection.
type Vote struct {
	Account string    `json:"account"`
	Role    Role      `json:"role"`
	Vote    string    `json:"vote"` // approve, reject
	Reason  string    `json:"reason,omitempty"`
	Session string    `json:"session,omitempty"`
	At      time.Time `json:"at"`
}

// Executor carries out one kind of approved request.
type Executor struct {
	// Check, optional, refuses a request that could never execute, when
	// it is made.
	Check func(ctx context.Context, q store.Querier, req *Request) error
	// Execute performs the request inside the transaction that records its
	// last approval: the effect, its audit events and the request's new
	// status commit together, once, however many approvers act at the same
	// moment. An error of kind Invalid, NotFound, Conflict or Denied undoes
	// what Execute wrote and marks the request failed; any other error
	// rolls the approval back, to be tried again.
	Execute func(ctx context.Context, tx *store.Tx, req *Request) (result string, err error)
}

// Approvals is the dual-control mechanism (ROLE-3): a person holding the
// role for a sensitive action requests it; it executes once the configured
// number of distinct other people holding an approver role have approved
// it. The requester never counts, a person counts once whatever their
// sessions, one rejection ends the request, requests expire, and every
// step is an audit event. Packages plug in their actions with Register.
type Approvals struct {
	s         *Service
	mu        sync.RWMutex
	executors map[Action]Executor
}

func newApprovals(s *Service) *Approvals {
	return &Approvals{s: s, executors: map[Action]Executor{}}
}

// Register sets the executor of action, which must be under dual control
// in the access matrix.
func (a *Approvals) Register(action Action, e Executor) error {
	rule, ok := rules[action]
	if !ok || len(rule.Approvers) == 0 {
		return sceau.Errorf(sceau.Invalid, "access: approvals", "%s is not an action under dual control", action)
	}
	if e.Execute == nil {
		return sceau.Errorf(sceau.Invalid, "access: approvals", "the executor of %s has no Execute", action)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, dup := a.executors[action]; dup {
		return sceau.Errorf(sceau.Conflict, "access: approvals", "%s has an executor already", action)
	}
	a.executors[action] = e
	return nil
}

func (a *Approvals) executor(action Action) (Executor, bool) {
	a.mu.RLock()
	defer a.mu.RUnlock()
	e, ok := a.executors[action]
	return e, ok
}

// Required is how many approvals action needs.
func (a *Approvals) Required(action Action) int {
	if n, ok := a.s.o.ApprovalsFor[action]; ok && n >= 1 {
		return n
	}
	return a.s.o.Approvals
}

// Request asks for action on res by p, with payload (JSON-encoded; it is
// journaled, so never a secret). p must be allowed to request it (Decide).
func (a *Approvals) Request(ctx context.Context, p Principal, action Action, res Resource, payload any) (*Request, error) {
	const op = "access: request"
	d := Decide(p, action, res)
	if err := d.Err(); err != nil {
		return nil, err
	}
	if !d.DualControl {
		return nil, sceau.Errorf(sceau.Invalid, op, "%s is not under dual control", action)
	}
	ex, ok := a.executor(action)
	if !ok {
		return nil, sceau.Errorf(sceau.Unavailable, op, "this installation cannot execute %s yet", action)
	}
	body, err := json.Marshal(payload)
	if err != nil {
		return nil, sceau.E(sceau.Invalid, op, "the payload cannot be encoded", err)
	}
	if len(body) > maxPayload {
		return nil, sceau.Errorf(sceau.Invalid, op, "the payload exceeds %d bytes", maxPayload)
	}
	now := a.s.now()
	req := &Request{ID: a.s.newID(8), Action: action, Resource: Resource{Kind: res.Kind, ID: res.ID, Subject: res.Subject},
		Payload: body, Requester: p.Account, RequesterRole: d.Role, Required: a.Required(action), Status: StatusPending,
		CreatedAt: now, ExpiresAt: now.Add(a.s.o.RequestTTL), Votes: []Vote{}}
	if ex.Check != nil {
		if err := ex.Check(ctx, a.s.db, req); err != nil {
			return nil, err
		}
	}
	err = a.s.db.InTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.ExecContext(ctx, qInsertRequest, req.ID, string(action), res.Kind, res.ID, res.Subject, string(body),
			p.Account, string(d.Role), req.Required, store.FormatTime(now), store.FormatTime(req.ExpiresAt)); err != nil {
			return store.Classify(op, err)
		}
		return a.s.journal.Append(ctx, tx, audit.Event{Actor: p.Actor(d.Role), Action: "approval.requested", Object: "approval:" + req.ID,
			Details: map[string]any{"action": action, "resource": res.String(), "payload": json.RawMessage(body),
				"required": req.Required, "approvers": d.Approvers, "expires_at": req.ExpiresAt, "session": p.Session}})
	})
	if err != nil {
		return nil, err
	}
	return req, nil
}

// Approve records p's approval of request id and, when it is the last one
// needed, executes the request in the same transaction (exactly once).
// Refusals (own request, not an approver, twice, expired, decided) are
// audit events too.
func (a *Approvals) Approve(ctx context.Context, p Principal, id string) (*Request, error) {
	return a.vote(ctx, p, id, "approve", "")
}

// Reject records p's rejection of request id, which ends it; the requester
// may reject (withdraw) their own request.
func (a *Approvals) Reject(ctx context.Context, p Principal, id, reason string) (*Request, error) {
	if len(reason) > 500 {
		return nil, sceau.Errorf(sceau.Invalid, "access: reject", "the reason exceeds 500 bytes")
	}
	return a.vote(ctx, p, id, "reject", reason)
}

func (a *Approvals) vote(ctx context.Context, p Principal, id, vote, reason string) (*Request, error) {
	op := "access: " + vote
	action := ApprovalApprove
	if vote == "reject" {
		action = ApprovalReject
	}
	// The route's check, before the request is read: a person without any
	// role has no business here.
	if err := Decide(p, action, Resource{Kind: "approval", ID: id}).Err(); err != nil {
		return nil, err
	}
	var (
		refusal error
		out     *Request
	)
	err := a.s.db.InTx(ctx, func(tx *store.Tx) error {
		refusal = nil // InTx may be retried by nobody, but keep it clean
		req, err := loadRequest(ctx, tx, id, forUpdate(tx))
		if err != nil {
			return err
		}
		now := a.s.now()
		object := "approval:" + id
		refuse := func(err error, why string) error {
			refusal = err
			return a.s.journal.Append(ctx, tx, audit.Event{Actor: p.Actor(""), Action: "approval.refused", Object: object,
				Details: map[string]any{"vote": vote, "reason": why, "session": p.Session}})
		}
		if req.Status != StatusPending {
			return refuse(sceau.Errorf(sceau.Conflict, op, "request %s is %s already", id, req.Status), "request "+req.Status)
		}
		if !now.Before(req.ExpiresAt) {
			if err := a.expire(ctx, tx, req, now); err != nil {
				return err
			}
			refusal = sceau.Errorf(sceau.Conflict, op, "request %s expired at %s", id, req.ExpiresAt.Format(time.RFC3339))
			return nil
		}
		d := Decide(p, action, Resource{Kind: "approval", ID: id, Requested: req.Action, Requester: req.Requester, Subject: req.Resource.Subject})
		if !d.Allow {
			return refuse(d.Err(), d.Reason)
		}
		// ROLE-3: a person counts once, whatever their sessions.
		for _, v := range req.Votes {
			if v.Account == p.Account {
				return refuse(sceau.Errorf(sceau.Conflict, op, "%s voted on request %s already (%s): a person counts once", p.Account, id, v.Vote),
					"voted already")
			}
		}
		if _, err := tx.ExecContext(ctx, qInsertVote, id, p.Account, string(d.Role), vote, reason, p.Session, store.FormatTime(now)); err != nil {
			return store.Classify(op, err)
		}
		if vote == "reject" {
			event := "approval.rejected"
			if p.Account == req.Requester {
				event = "approval.withdrawn"
			}
			if err := a.decide(ctx, tx, req, StatusRejected, reason, now); err != nil {
				return err
			}
			if err := a.s.journal.Append(ctx, tx, audit.Event{Actor: p.Actor(d.Role), Action: event, Object: object,
				Details: map[string]any{"action": req.Action, "resource": req.Resource.String(), "reason": reason, "session": p.Session}}); err != nil {
				return err
			}
		} else {
			var n int
			if err := tx.QueryRowContext(ctx, qApprovals, id).Scan(&n); err != nil {
				return store.Classify(op, err)
			}
			if err := a.s.journal.Append(ctx, tx, audit.Event{Actor: p.Actor(d.Role), Action: "approval.approved", Object: object,
				Details: map[string]any{"action": req.Action, "resource": req.Resource.String(), "approvals": n,
					"required": req.Required, "session": p.Session}}); err != nil {
				return err
			}
			if n >= req.Required {
				if err := a.execute(ctx, tx, req, now); err != nil {
					return err
				}
			}
		}
		out, err = loadRequest(ctx, tx, id, "")
		return err
	})
	if err != nil {
		return nil, err
	}
	if refusal != nil {
		return nil, refusal
	}
	return out, nil
}

// execute runs req's executor (ROLE-3: once, in the transaction holding
// the request's row).
func (a *Approvals) execute(ctx context.Context, tx *store.Tx, req *Request, now time.Time) error {
	const op = "access: execute"
	object := "approval:" + req.ID
	fail := func(why string) error {
		if err := a.decide(ctx, tx, req, StatusFailed, why, now); err != nil {
			return err
		}
		return a.s.journal.Append(ctx, tx, audit.Event{Actor: sceau.System("approvals"), Action: "approval.failed", Object: object,
			Details: map[string]any{"action": req.Action, "resource": req.Resource.String(), "reason": why}})
	}
	// The requester must still hold the role they requested it under, in
	// an active account (ROLE-4: a suspension takes effect at once).
	if st, err := accountStatus(ctx, tx, req.Requester); err != nil {
		return err
	} else if st != AccountActive {
		return fail("the requester's account is " + st)
	}
	roles, err := currentRoles(ctx, tx, req.Requester)
	if err != nil {
		return err
	}
	if d := Decide(Principal{Account: req.Requester, Roles: roles}, req.Action, req.Resource); !d.Allow {
		return fail("the requester may no longer request it: " + d.Reason)
	}
	ex, ok := a.executor(req.Action)
	if !ok {
		return fail("no executor for " + string(req.Action))
	}
	if _, err := tx.ExecContext(ctx, `SAVEPOINT approval_execute`); err != nil {
		return store.Classify(op, err)
	}
	result, err := ex.Execute(ctx, tx, req)
	if err != nil {
		if _, rerr := tx.ExecContext(ctx, `ROLLBACK TO SAVEPOINT approval_execute`); rerr != nil {
			return store.Classify(op, rerr)
		}
		switch sceau.KindOf(err) {
		case sceau.Invalid, sceau.NotFound, sceau.Conflict, sceau.Denied:
			return fail(sceau.Message(err))
		}
		return err
	}
	if _, err := tx.ExecContext(ctx, `RELEASE SAVEPOINT approval_execute`); err != nil {
		return store.Classify(op, err)
	}
	if err := a.decide(ctx, tx, req, StatusExecuted, result, now); err != nil {
		return err
	}
	votes, _, err := loadVotes(ctx, tx, req.ID)
	if err != nil {
		return err
	}
	approvers := []string{}
	for _, v := range votes {
		if v.Vote == "approve" {
			approvers = append(approvers, v.Account)
		}
	}
	return a.s.journal.Append(ctx, tx, audit.Event{Actor: sceau.Actor{ID: req.Requester, Role: string(req.RequesterRole)},
		Action: "approval.executed", Object: object,
		Details: map[string]any{"action": req.Action, "resource": req.Resource.String(), "approved_by": approvers, "result": result}})
}

// decide moves req out of pending; the guard makes a second move fail.
func (a *Approvals) decide(ctx context.Context, tx *store.Tx, req *Request, status, result string, now time.Time) error {
	res, err := tx.ExecContext(ctx, qDecideRequest, status, store.FormatTime(now), result, req.ID)
	if err != nil {
		return store.Classify("access: approvals", err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return sceau.Errorf(sceau.Conflict, "access: approvals", "request %s was decided concurrently", req.ID)
	}
	req.Status = status
	return nil
}

func (a *Approvals) expire(ctx context.Context, tx *store.Tx, req *Request, now time.Time) error {
	if err := a.decide(ctx, tx, req, StatusExpired, "", now); err != nil {
		return err
	}
	return a.s.journal.Append(ctx, tx, audit.Event{Actor: sceau.System("approvals"), Action: "approval.expired", Object: "approval:" + req.ID,
		Details: map[string]any{"action": req.Action, "resource": req.Resource.String(), "expires_at": req.ExpiresAt}})
}

// Expire marks every pending request past its time as expired, each with
// its audit event, and returns how many.
func (a *Approvals) Expire(ctx context.Context) (int, error) {
	now := a.s.now()
	rows, err := a.s.db.QueryContext(ctx, qRequestsByState, StatusPending, 1000)
	if err != nil {
		return 0, store.Classify("access: expire", err)
	}
	var due []string
	for rows.Next() {
		r, err := scanRequest(rows)
		if err != nil {
			rows.Close()
			return 0, err
		}
		if !now.Before(r.ExpiresAt) {
			due = append(due, r.ID)
		}
	}
	rows.Close()
	n := 0
	for _, id := range due {
		err := a.s.db.InTx(ctx, func(tx *store.Tx) error {
			req, err := loadRequest(ctx, tx, id, forUpdate(tx))
			if err != nil || req.Status != StatusPending {
				return err
			}
			n++
			return a.expire(ctx, tx, req, now)
		})
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// List returns the requests in status ("" for all), newest first, after
// expiring those past their time.
func (a *Approvals) List(ctx context.Context, p Principal, status string, limit int) ([]*Request, error) {
	if err := Decide(p, ApprovalList, Resource{Kind: "approval"}).Err(); err != nil {
		return nil, err
	}
	switch status {
	case "", StatusPending, StatusExecuted, StatusRejected, StatusExpired, StatusFailed:
	default:
		return nil, sceau.Errorf(sceau.Invalid, "access: approvals", "unknown status %q", clip(status))
	}
	if limit < 1 || limit > 1000 {
		limit = 100
	}
	if _, err := a.Expire(ctx); err != nil {
		return nil, err
	}
	var (
		rows *sql.Rows
		err  error
	)
	if status == "" {
		rows, err = a.s.db.QueryContext(ctx, qRequestsAll, limit)
	} else {
		rows, err = a.s.db.QueryContext(ctx, qRequestsByState, status, limit)
	}
	if err != nil {
		return nil, store.Classify("access: approvals", err)
	}
	var out []*Request
	for rows.Next() {
		r, err := scanRequest(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, r)
	}
	err = rows.Err()
	rows.Close()
	if err != nil {
		return nil, store.Classify("access: approvals", err)
	}
	for _, r := range out {
		if r.Votes, r.Approvals, err = loadVotes(ctx, a.s.db, r.ID); err != nil {
			return nil, err
		}
	}
	if out == nil {
		out = []*Request{}
	}
	return out, nil
}

// Get returns request id.
func (a *Approvals) Get(ctx context.Context, p Principal, id string) (*Request, error) {
	if err := Decide(p, ApprovalList, Resource{Kind: "approval", ID: id}).Err(); err != nil {
		return nil, err
	}
	return loadRequest(ctx, a.s.db, id, "")
}

type scanner interface{ Scan(dest ...any) error }

func scanRequest(sc scanner) (*Request, error) {
	const op = "access: approvals"
	var (
		r                        Request
		action, payload, role    string
		created, expires         string
		decided                  sql.NullString
		errC, errE, errD, errAll error
	)
	if err := sc.Scan(&r.ID, &action, &r.Resource.Kind, &r.Resource.ID, &r.Resource.Subject, &payload, &r.Requester, &role,
		&r.Required, &r.Status, &created, &expires, &decided, &r.Result); err != nil {
		return nil, store.Classify(op, err)
	}
	r.Action, r.RequesterRole, r.Payload = Action(action), Role(role), json.RawMessage(payload)
	r.CreatedAt, errC = store.ParseTime(created)
	r.ExpiresAt, errE = store.ParseTime(expires)
	var d time.Time
	d, errD = store.NullTime(decided)
	if errAll = errors.Join(errC, errE, errD); errAll != nil {
		return nil, sceau.E(sceau.Internal, op, "", errAll)
	}
	if !d.IsZero() {
		r.DecidedAt = &d
	}
	return &r, nil
}

func loadRequest(ctx context.Context, q store.Querier, id, lock string) (*Request, error) {
	r, err := scanRequest(q.QueryRowContext(ctx, qRequest+lock, id))
	if sceau.KindOf(err) == sceau.NotFound {
		return nil, sceau.Errorf(sceau.NotFound, "access: approvals", "no request %q", clip(id))
	}
	if err != nil {
		return nil, err
	}
	if r.Votes, r.Approvals, err = loadVotes(ctx, q, id); err != nil {
		return nil, err
	}
	return r, nil
}

func loadVotes(ctx context.Context, q store.Querier, id string) ([]Vote, int, error) {
	rows, err := q.QueryContext(ctx, qVotes, id)
	if err != nil {
		return nil, 0, store.Classify("access: approvals", err)
	}
	defer rows.Close()
	votes, n := []Vote{}, 0
	for rows.Next() {
		var (
			v        Vote
			role, at string
		)
		if err := rows.Scan(&v.Account, &role, &v.Vote, &v.Reason, &v.Session, &at); err != nil {
			return nil, 0, store.Classify("access: approvals", err)
		}
		v.Role = Role(role)
		if v.At, err = store.ParseTime(at); err != nil {
			return nil, 0, sceau.E(sceau.Internal, "access: approvals", "", err)
		}
		if v.Vote == "approve" {
			n++
		}
		votes = append(votes, v)
	}
	return votes, n, store.Classify("access: approvals", rows.Err())
}

// String names a request in messages.
func (r *Request) String() string {
	return fmt.Sprintf("%s %s on %s by %s", r.ID, r.Action, r.Resource, r.Requester)
}
