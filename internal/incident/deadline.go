package incident

import (
	"context"
	"fmt"
	"time"

	"github.com/sceau/sceau/internal/audit"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/store"
)

// Deadline is one alert CheckDeadlines raised.
type Deadline struct {
	Obligation
	Overdue bool          `json:"overdue"`
	Left    time.Duration `json:"left"` // negative once overdue
}

// CheckDeadlines looks at every obligation not done (INC-4): when less
// than Options.Margin is left before its due time it journals
// incident.obligation_due, once it has passed incident.obligation_overdue,
// each once per obligation; the journal's analysis raises an alert on
// either (AUD-6, rule incident_deadline), and the recipients are told. It
// returns what it raised. Serve calls it every minute.
func (s *Service) CheckDeadlines(ctx context.Context) ([]Deadline, error) {
	obs, err := openObligations(ctx, s.db)
	if err != nil {
		return nil, err
	}
	now := s.o.Clock.Now().UTC()
	var out []Deadline
	for _, o := range obs {
		left := o.DueAt.Sub(now)
		var d *Deadline
		switch {
		case left <= 0 && o.OverdueAt.IsZero():
			d = &Deadline{Obligation: o, Overdue: true, Left: left}
		case left > 0 && left <= s.o.Margin && o.WarnedAt.IsZero():
			d = &Deadline{Obligation: o, Left: left}
		default:
			continue
		}
		raised, err := s.raise(ctx, d, now)
		if err != nil {
			return out, err
		}
		if raised {
			out = append(out, *d)
		}
	}
	return out, nil
}

func (s *Service) raise(ctx context.Context, d *Deadline, now time.Time) (bool, error) {
	const op = "incident: deadlines"
	q, action, event := qObligationWarned, audit.ActionIncidentObligationDue, "obligation_due"
	text := fmt.Sprintf("the notification to %s is due at %s, in %s, and is not recorded done (INC-4)",
		d.Kind.Title(), d.DueAt.Format(time.RFC3339), d.Left.Round(time.Minute))
	if d.Overdue {
		q, action, event = qObligationLate, audit.ActionIncidentObligationOverdue, "obligation_overdue"
		text = fmt.Sprintf("OVERDUE: the notification to %s was due at %s, %s ago, and is not recorded done (INC-4)",
			d.Kind.Title(), d.DueAt.Format(time.RFC3339), (-d.Left).Round(time.Minute))
	}
	raised := false
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		res, err := tx.ExecContext(ctx, q, store.FormatTime(now), d.Incident, string(d.Kind))
		if err != nil {
			return store.Classify(op, err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return nil // done, or raised by another node meanwhile
		}
		in, err := scanIncident(tx.QueryRowContext(ctx, qIncident, d.Incident))
		if err != nil {
			return store.Classify(op, err)
		}
		if in.Obligations, err = obligations(ctx, tx, d.Incident); err != nil {
			return err
		}
		if err := addNote(ctx, tx, d.Incident, now, "sceau", NoteSystem, text); err != nil {
			return err
		}
		extra := text + fmt.Sprintf("\nOnce made: sceau incident obligation done %d %s --reference …", d.Incident, d.Kind)
		if err := s.enqueueText(ctx, tx, in, event, extra, now); err != nil {
			return err
		}
		raised = true
		return s.journal.Append(ctx, tx, audit.Event{Actor: sceau.System("incident"), Action: action, Object: object(d.Incident),
			Details: map[string]any{"kind": d.Kind, "due_at": store.FormatTime(d.DueAt), "left": d.Left.Round(time.Second).String(),
				"title": in.Title}})
	})
	if err != nil || !raised {
		return false, err
	}
	s.o.Log.Warn("incident: "+text, "incident", d.Incident)
	return true, nil
}
