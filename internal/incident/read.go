package incident

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/store"
)

type scanner interface{ Scan(dest ...any) error }

func parseTime(s string) time.Time {
	if s == "" {
		return time.Time{}
	}
	t, _ := store.ParseTime(s)
	return t
}

func scanIncident(r scanner) (*Incident, error) {
	var (
		in                              Incident
		kind, sev, detected, opened, cl string
	)
	if err := r.Scan(&in.ID, &kind, &sev, &in.Title, &in.Description, &detected, &opened, &in.OpenedBy, &in.Status, &cl,
		&in.ClosedBy, &in.Closure); err != nil {
		return nil, err
	}
	in.Kind, in.Severity = Kind(kind), Severity(sev)
	in.DetectedAt, in.OpenedAt, in.ClosedAt = parseTime(detected), parseTime(opened), parseTime(cl)
	return &in, nil
}

func scanObligation(r scanner) (Obligation, error) {
	var (
		o                           Obligation
		kind, due, done, warn, late string
	)
	err := r.Scan(&o.Incident, &kind, &due, &done, &o.DoneBy, &o.Reference, &warn, &late)
	o.Kind, o.DueAt, o.DoneAt, o.WarnedAt, o.OverdueAt = ObligationKind(kind), parseTime(due), parseTime(done), parseTime(warn), parseTime(late)
	return o, err
}

func scanNotification(r scanner) (Notification, error) {
	var (
		n                              Notification
		created, next, last, delivered string
	)
	err := r.Scan(&n.ID, &n.Incident, &n.Event, &n.Channel, &n.Recipient, &n.Subject, &n.Body, &created, &n.Attempts, &next,
		&last, &delivered, &n.LastError)
	n.CreatedAt, n.NextTry, n.LastTry, n.DeliveredAt = parseTime(created), parseTime(next), parseTime(last), parseTime(delivered)
	return n, err
}

func obligations(ctx context.Context, q store.Querier, id int64) ([]Obligation, error) {
	rows, err := q.QueryContext(ctx, qObligations, id)
	if err != nil {
		return nil, store.Classify("incident: obligations", err)
	}
	defer rows.Close()
	var out []Obligation
	for rows.Next() {
		o, err := scanObligation(rows)
		if err != nil {
			return nil, store.Classify("incident: obligations", err)
		}
		out = append(out, o)
	}
	return out, store.Classify("incident: obligations", rows.Err())
}

// Get reads an incident with its timeline, notifications and obligations.
func (s *Service) Get(ctx context.Context, id int64) (*Incident, error) {
	const op = "incident: show"
	in, err := scanIncident(s.db.QueryRowContext(ctx, qIncident, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, sceau.Errorf(sceau.NotFound, op, "no incident %d", id)
	}
	if err != nil {
		return nil, store.Classify(op, err)
	}
	rows, err := s.db.QueryContext(ctx, qNotes, id)
	if err != nil {
		return nil, store.Classify(op, err)
	}
	for rows.Next() {
		var (
			n        Note
			at, kind string
		)
		if err := rows.Scan(&n.ID, &at, &n.Author, &kind, &n.Text); err != nil {
			rows.Close()
			return nil, store.Classify(op, err)
		}
		n.At, n.Kind = parseTime(at), NoteKind(kind)
		in.Timeline = append(in.Timeline, n)
	}
	rows.Close()
	if in.Notifications, err = notifications(ctx, s.db, id); err != nil {
		return nil, err
	}
	if in.Obligations, err = obligations(ctx, s.db, id); err != nil {
		return nil, err
	}
	return in, nil
}

func notifications(ctx context.Context, q store.Querier, id int64) ([]Notification, error) {
	rows, err := q.QueryContext(ctx, qNotifications, id)
	if err != nil {
		return nil, store.Classify("incident: notifications", err)
	}
	defer rows.Close()
	var out []Notification
	for rows.Next() {
		n, err := scanNotification(rows)
		if err != nil {
			return nil, store.Classify("incident: notifications", err)
		}
		n.Recipient = Display(n.Channel, n.Recipient)
		out = append(out, n)
	}
	return out, store.Classify("incident: notifications", rows.Err())
}

// Summary is an incident as listed: with its obligations and how many of
// its notifications are not delivered yet.
type Summary struct {
	Incident
	Undelivered int `json:"undelivered"`
	// Overdue: an obligation not done past its due time (INC-4).
	Overdue bool `json:"overdue"`
	// NextDue is the earliest due time of an obligation not done.
	NextDue time.Time `json:"next_due,omitzero"`
}

// Filter selects incidents to list.
type Filter struct {
	All   bool // closed ones too; default: open ones only
	Limit int  // default 100
}

// List lists incidents, most recent first.
func (s *Service) List(ctx context.Context, f Filter) ([]Summary, error) {
	const op = "incident: list"
	if f.Limit <= 0 || f.Limit > 1000 {
		f.Limit = 100
	}
	q := qOpenIncidents
	if f.All {
		q = qIncidents
	}
	rows, err := s.db.QueryContext(ctx, q, f.Limit)
	if err != nil {
		return nil, store.Classify(op, err)
	}
	var out []Summary
	for rows.Next() {
		in, err := scanIncident(rows)
		if err != nil {
			rows.Close()
			return nil, store.Classify(op, err)
		}
		out = append(out, Summary{Incident: *in})
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, store.Classify(op, err)
	}
	now := s.o.Clock.Now()
	for i := range out {
		sm := &out[i]
		if sm.Obligations, err = obligations(ctx, s.db, sm.ID); err != nil {
			return nil, err
		}
		for _, o := range sm.Obligations {
			if o.Done() {
				continue
			}
			sm.Overdue = sm.Overdue || o.Overdue(now)
			if sm.NextDue.IsZero() || o.DueAt.Before(sm.NextDue) {
				sm.NextDue = o.DueAt
			}
		}
		ns, err := notifications(ctx, s.db, sm.ID)
		if err != nil {
			return nil, err
		}
		for _, n := range ns {
			if n.DeliveredAt.IsZero() {
				sm.Undelivered++
			}
		}
	}
	return out, nil
}

// Status is the register at a glance, for the metrics (INC-4).
type Status struct {
	Open        int `json:"open"`
	Obligations int `json:"obligations_pending"`
	Overdue     int `json:"obligations_overdue"`
	// NextDue is the earliest due time of a pending obligation.
	NextDue     time.Time `json:"next_due,omitzero"`
	Undelivered int       `json:"notifications_undelivered"`
}

// Status counts open incidents, pending and overdue obligations and
// undelivered notifications.
func (s *Service) Status(ctx context.Context) (*Status, error) {
	const op = "incident: status"
	var st Status
	if err := s.db.QueryRowContext(ctx, qCountIncidents).Scan(&st.Open); err != nil {
		return nil, store.Classify(op, err)
	}
	if err := s.db.QueryRowContext(ctx, qCountUndelivered).Scan(&st.Undelivered); err != nil {
		return nil, store.Classify(op, err)
	}
	obs, err := openObligations(ctx, s.db)
	if err != nil {
		return nil, err
	}
	now := s.o.Clock.Now()
	for _, o := range obs {
		st.Obligations++
		if o.Overdue(now) {
			st.Overdue++
		}
		if st.NextDue.IsZero() || o.DueAt.Before(st.NextDue) {
			st.NextDue = o.DueAt
		}
	}
	return &st, nil
}

func openObligations(ctx context.Context, q store.Querier) ([]Obligation, error) {
	rows, err := q.QueryContext(ctx, qOpenObligations)
	if err != nil {
		return nil, store.Classify("incident: obligations", err)
	}
	defer rows.Close()
	var out []Obligation
	for rows.Next() {
		o, err := scanObligation(rows)
		if err != nil {
			return nil, store.Classify("incident: obligations", err)
		}
		out = append(out, o)
	}
	return out, store.Classify("incident: obligations", rows.Err())
}

// Pending lists the obligations not done, the earliest due first.
func (s *Service) Pending(ctx context.Context) ([]Obligation, error) {
	return openObligations(ctx, s.db)
}

// Now is the register's clock.
func (s *Service) Now() time.Time { return s.o.Clock.Now() }
