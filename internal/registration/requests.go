package registration

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/sceau/sceau/internal/access"
	"github.com/sceau/sceau/internal/audit"
	"github.com/sceau/sceau/internal/revocation"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/store"
)

// Where a revocation request comes from (CA-4).
const (
	FromHolder       = "holder"
	FromOrganisation = "organisation"
	FromOfficer      = "officer"
)

// RevocationRequest is a request to revoke a dossier's certificate. It is
// never deleted: it is received, then processed once (revoked or refused).
type RevocationRequest struct {
	ID         int64      `json:"id"`
	Dossier    int64      `json:"dossier"`
	Serial     string     `json:"serial"`
	Source     string     `json:"source"`
	Requester  string     `json:"requester"`
	Reason     string     `json:"reason"`
	Note       string     `json:"note,omitempty"`
	ReceivedAt time.Time  `json:"received_at"`
	DueAt      time.Time  `json:"due_at"` // the policy's processing deadline
	State      string     `json:"state"`  // received, revoked, refused
	CheckedBy  string     `json:"checked_by,omitempty"`
	DoneAt     *time.Time `json:"done_at,omitempty"`
	Decision   string     `json:"decision,omitempty"`
	Overdue    bool       `json:"overdue"`
}

// NewRequest asks for a revocation.
type NewRequest struct {
	Serial string `json:"serial"`
	Reason string `json:"reason"` // RFC 5280 reason name
	// Source: organisation or officer (a holder uses RequestByHolder).
	Source    string `json:"source,omitempty"`
	Requester string `json:"requester,omitempty"` // who asked, for an organisation
	Note      string `json:"note,omitempty"`
}

// RequestByOfficer records a revocation request made by an officer, or by
// the holder's organisation as the officer received it.
func (s *Service) RequestByOfficer(ctx context.Context, p access.Principal, nr NewRequest) (*RevocationRequest, error) {
	const op = "registration: revocation request"
	actor, err := decide(p, access.RevocationRequestCreate, "revocation_request", 0)
	if err != nil {
		return nil, err
	}
	switch nr.Source {
	case "":
		nr.Source = FromOfficer
	case FromOfficer, FromOrganisation:
	default:
		return nil, sceau.Errorf(sceau.Invalid, op, "source %q: organisation or officer (a holder uses the revocation secret)", nr.Source)
	}
	if nr.Source == FromOrganisation && nr.Requester == "" {
		return nil, sceau.Errorf(sceau.Invalid, op, "a request from the organisation names who made it (requester)")
	}
	if nr.Requester == "" {
		nr.Requester = p.Account
	}
	var out *RevocationRequest
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		d, err := s.bySerial(ctx, tx, nr.Serial)
		if err != nil {
			return err
		}
		out, err = s.receive(ctx, tx, actor, d, nr)
		return err
	})
	return out, err
}

// RequestByHolder records the holder's revocation request, authenticated
// by the revocation secret handed out at issuance. A wrong secret is
// journaled and counted; SecretAttempts of them in a row lock the
// dossier's holder requests for SecretLockout (rate limit).
func (s *Service) RequestByHolder(ctx context.Context, serial, secret, reason, note string) (*RevocationRequest, error) {
	const op = "registration: revocation request"
	var (
		out     *RevocationRequest
		refused error
	)
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		d, err := s.bySerial(ctx, tx, serial)
		if err != nil {
			return err
		}
		actor := sceau.Actor{ID: fmt.Sprintf("holder:dossier-%d", d.ID)}
		var hash sql.NullString
		var failures int
		var failedAt sql.NullString
		if err := tx.QueryRowContext(ctx, qSecret, d.ID).Scan(&hash, &failures, &failedAt); err != nil {
			return store.Classify(op, err)
		}
		now := s.now()
		if failures >= s.opts.SecretAttempts && failedAt.Valid {
			last, err := store.ParseTime(failedAt.String)
			if err != nil {
				return err
			}
			if until := last.Add(s.opts.SecretLockout); now.Before(until) {
				refused = sceau.Errorf(sceau.Unavailable, op, "too many wrong revocation secrets for this certificate: try again after %s",
					until.Format(time.RFC3339))
				return s.j.Append(ctx, tx, audit.Event{Actor: actor, Action: evSecretRefused, Object: objectOf(d.ID),
					Details: map[string]any{"serial": d.Serial, "locked_until": until, "failures": failures}})
			}
		}
		if !secretMatches(hash.String, secret) {
			if _, err := tx.ExecContext(ctx, qSecretFailed, store.FormatTime(now), d.ID); err != nil {
				return store.Classify(op, err)
			}
			refused = sceau.Errorf(sceau.Denied, op, "the revocation secret is wrong for certificate %s", d.Serial)
			return s.j.Append(ctx, tx, audit.Event{Actor: actor, Action: evSecretRefused, Object: objectOf(d.ID),
				Details: map[string]any{"serial": d.Serial, "failures": failures + 1}})
		}
		if failures > 0 {
			if _, err := tx.ExecContext(ctx, qSecretReset, d.ID); err != nil {
				return store.Classify(op, err)
			}
		}
		out, err = s.receive(ctx, tx, actor, d, NewRequest{Serial: serial, Reason: reason, Source: FromHolder,
			Requester: d.Contact.Name, Note: note})
		return err
	})
	if err != nil {
		return nil, err
	}
	if refused != nil {
		return nil, refused
	}
	return out, nil
}

func (s *Service) bySerial(ctx context.Context, q store.Querier, serial string) (*Dossier, error) {
	d, err := scanDossier(q.QueryRowContext(ctx, qDossierSerial, serial))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, sceau.Errorf(sceau.NotFound, "registration: revocation request", "no dossier issued certificate %q", serial)
	}
	return d, err
}

func (s *Service) receive(ctx context.Context, tx *store.Tx, actor sceau.Actor, d *Dossier, nr NewRequest) (*RevocationRequest, error) {
	const op = "registration: revocation request"
	if nr.Reason == "" {
		nr.Reason = "unspecified"
	}
	code, err := revocation.ParseReason(op, nr.Reason)
	if err != nil {
		return nil, err
	}
	if len(nr.Note) > 2000 {
		return nil, sceau.Errorf(sceau.Invalid, op, "the note is longer than 2000 characters")
	}
	now := s.now()
	r := &RevocationRequest{Dossier: d.ID, Serial: d.Serial, Source: nr.Source, Requester: nr.Requester, Reason: revocation.ReasonName(code),
		Note: nr.Note, ReceivedAt: now, DueAt: now.Add(s.opts.RevocationDeadline), State: "received"}
	if err := tx.QueryRowContext(ctx, qInsertRequest, r.Dossier, r.Serial, r.Source, r.Requester, r.Reason, r.Note,
		store.FormatTime(now), store.FormatTime(r.DueAt)).Scan(&r.ID); err != nil {
		return nil, store.Classify(op, err)
	}
	return r, s.j.Append(ctx, tx, audit.Event{Actor: actor, Action: evReqReceived, Object: fmt.Sprintf("revocation_request:%d", r.ID),
		Details: map[string]any{"dossier": d.ID, "serial": d.Serial, "source": r.Source, "reason": r.Reason, "due_at": r.DueAt}})
}

// Process is a Revocation Officer's decision on a request: revoke (the
// certificate is revoked with the request's reason, or reason when set,
// in the same transaction) or refuse, with a note.
func (s *Service) Process(ctx context.Context, p access.Principal, id int64, revoke bool, reason, note string) (*RevocationRequest, error) {
	const op = "registration: revocation request"
	actor, err := decide(p, access.RevocationRequestCheck, "revocation_request", id)
	if err != nil {
		return nil, err
	}
	if !revoke && note == "" {
		return nil, sceau.Errorf(sceau.Invalid, op, "a refusal says why (note)")
	}
	var (
		out  *RevocationRequest
		caID string
	)
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		r, err := s.request(ctx, tx, id)
		if err != nil {
			return err
		}
		if r.State != "received" {
			return sceau.Errorf(sceau.Conflict, op, "request %d was processed already (%s)", id, r.State)
		}
		now := s.now()
		state, decision := "refused", note
		if revoke {
			if reason == "" {
				reason = r.Reason
			}
			code, err := revocation.ParseReason(op, reason)
			if err != nil {
				return err
			}
			state, decision = "revoked", revocation.ReasonName(code)
			caID, err = s.rev.RevokeTx(ctx, tx, actor, r.Serial, code)
			switch {
			case sceau.KindOf(err) == sceau.Conflict:
				// Revoked meanwhile (another request, a mass revocation):
				// the request is done; the decision says by what.
				caID, decision = "", "already revoked: "+sceau.Message(err)
			case err != nil:
				return err
			}
			if note != "" {
				decision += ": " + note
			}
		}
		if err := moved(tx.ExecContext(ctx, qCheckRequest, state, p.Account, store.FormatTime(now), decision, id)); err != nil {
			return sceau.E(sceau.Conflict, op, fmt.Sprintf("request %d changed meanwhile", id), err)
		}
		r.State, r.CheckedBy, r.DoneAt, r.Decision, r.Overdue = state, p.Account, &now, decision, now.After(r.DueAt)
		out = r
		return s.j.Append(ctx, tx, audit.Event{Actor: actor, Action: evReqProcessed, Object: fmt.Sprintf("revocation_request:%d", id),
			Details: map[string]any{"dossier": r.Dossier, "serial": r.Serial, "state": state, "decision": decision,
				"due_at": r.DueAt, "done_at": now, "late": now.After(r.DueAt)}})
	})
	if err != nil {
		return nil, err
	}
	if caID != "" {
		s.rev.Revoked(caID)
	}
	return out, nil
}

// Request returns revocation request id.
func (s *Service) Request(ctx context.Context, p access.Principal, id int64) (*RevocationRequest, error) {
	if _, err := decide(p, access.RevocationRequestRead, "revocation_request", id); err != nil {
		return nil, err
	}
	return s.request(ctx, s.db, id)
}

// Requests lists revocation requests by due time: state "" for all,
// "received" for those waiting.
func (s *Service) Requests(ctx context.Context, p access.Principal, state string, limit int) ([]*RevocationRequest, error) {
	const op = "registration: revocation requests"
	if _, err := decide(p, access.RevocationRequestRead, "revocation_request", 0); err != nil {
		return nil, err
	}
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	rows, err := s.db.QueryContext(ctx, qRequests, state, state, limit)
	if err != nil {
		return nil, store.Classify(op, err)
	}
	defer rows.Close()
	out := []*RevocationRequest{}
	for rows.Next() {
		r, err := s.scanRequest(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, store.Classify(op, rows.Err())
}

func (s *Service) request(ctx context.Context, q store.Querier, id int64) (*RevocationRequest, error) {
	r, err := s.scanRequest(q.QueryRowContext(ctx, qRequest, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, sceau.Errorf(sceau.NotFound, "registration: revocation request", "no revocation request %d", id)
	}
	return r, err
}

func (s *Service) scanRequest(sc scanner) (*RevocationRequest, error) {
	const op = "registration: revocation request"
	var (
		r                       RevocationRequest
		received, due           string
		checked, done, decision sql.NullString
	)
	if err := sc.Scan(&r.ID, &r.Dossier, &r.Serial, &r.Source, &r.Requester, &r.Reason, &r.Note, &received, &due, &r.State,
		&checked, &done, &decision); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, err
		}
		return nil, store.Classify(op, err)
	}
	var err error
	if r.ReceivedAt, err = store.ParseTime(received); err != nil {
		return nil, err
	}
	if r.DueAt, err = store.ParseTime(due); err != nil {
		return nil, err
	}
	if done.Valid && done.String != "" {
		t, err := store.ParseTime(done.String)
		if err != nil {
			return nil, err
		}
		r.DoneAt = &t
		r.Overdue = t.After(r.DueAt)
	} else {
		r.Overdue = s.now().After(r.DueAt)
	}
	r.CheckedBy, r.Decision = checked.String, decision.String
	return &r, nil
}
