package incident

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/sceau/sceau/internal/audit"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/store"
)

// Escalate raises an open incident's severity, with the reason: what was
// learnt since it was opened. Raised to major, it owes the notifications
// to the authorities, due 24 hours after its detection (not after the
// escalation: INC-4), and starts the compromise procedure. A severity is
// never lowered: the register keeps what was feared.
func (s *Service) Escalate(ctx context.Context, actor sceau.Actor, id int64, to Severity, reason string) (*Incident, error) {
	const op = "incident: escalate"
	to, err := ParseSeverity(string(to))
	if err != nil {
		return nil, err
	}
	if reason, err = checkText(op, "a reason (what was learnt)", reason, maxText, true); err != nil {
		return nil, err
	}
	now := s.o.Clock.Now().UTC()
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		in, err := openIncident(ctx, tx, op, id)
		if err != nil {
			return err
		}
		from := in.Severity
		if slices.Index(Severities, to) <= slices.Index(Severities, from) {
			return sceau.Errorf(sceau.Conflict, op, "incident %d is %s already; a severity is only raised (to %s: not above)", id, from, to)
		}
		res, err := tx.ExecContext(ctx, qEscalate, string(to), id, string(from))
		if err != nil {
			return store.Classify(op, err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return sceau.Errorf(sceau.Conflict, op, "incident %d changed meanwhile; look again", id)
		}
		in.Severity = to
		if err := addNote(ctx, tx, id, now, actor.String(), NoteSystem, fmt.Sprintf("escalated from %s to %s: %s", from, to, reason)); err != nil {
			return err
		}
		details := map[string]any{"from": from, "to": to, "reason": reason}
		if to == Major {
			due := in.DetectedAt.Add(ObligationDelay)
			for _, k := range ObligationKinds {
				if _, err := tx.ExecContext(ctx, qInsertObligation, id, string(k), store.FormatTime(due)); err != nil {
					return store.Classify(op, err)
				}
				in.Obligations = append(in.Obligations, Obligation{Incident: id, Kind: k, DueAt: due})
				if err := addNote(ctx, tx, id, now, "sceau", NoteSystem, fmt.Sprintf("obligation: notify %s by %s (INC-4: 24 hours after detection)",
					k.Title(), due.Format(time.RFC3339))); err != nil {
					return err
				}
			}
			if err := addNote(ctx, tx, id, now, "sceau", NoteSystem, "compromise procedure: to start — "+s.o.CompromiseCommand); err != nil {
				return err
			}
			details["due_at"], details["compromise_procedure"] = store.FormatTime(due), "to start"
		}
		extra := fmt.Sprintf("Escalated from %s to %s by %s: %s", from, to, actor, reason)
		if to == Major {
			extra += "\nA major incident starts the compromise procedure: " + s.o.CompromiseCommand + "."
		}
		if err := s.enqueueText(ctx, tx, in, "escalated", extra, now); err != nil {
			return err
		}
		return s.journal.Append(ctx, tx, audit.Event{Actor: actor, Action: audit.ActionIncidentEscalated, Object: object(id), Details: details})
	})
	if err != nil {
		return nil, err
	}
	s.o.Log.Warn("incident escalated", "id", id, "severity", to)
	s.deliverIncident(ctx, id)
	in, err := s.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if to == Major && s.o.OnMajor != nil {
		s.o.OnMajor(ctx, in)
	}
	return in, nil
}
