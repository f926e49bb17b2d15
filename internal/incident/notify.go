package incident

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/sceau/sceau/internal/audit"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/store"
)

// Message is one notification as a sender delivers it.
type Message struct {
	ID       int64  `json:"notification"`
	Incident int64  `json:"incident"`
	Event    string `json:"event"` // opened, closed, obligation_due, obligation_overdue
	Subject  string `json:"subject"`
	Body     string `json:"text"`
}

// Sender delivers notifications over one channel. Send returns nil only
// once the message was accepted by the other end (the relay said 250, the
// webhook answered 2xx).
type Sender interface {
	Channel() string
	Send(ctx context.Context, to string, m Message) error
}

// Notification is one message owed to one recipient, with its delivery.
type Notification struct {
	ID          int64     `json:"id"`
	Incident    int64     `json:"incident"`
	Event       string    `json:"event"`
	Channel     string    `json:"channel"`
	Recipient   string    `json:"recipient"`
	Subject     string    `json:"subject"`
	Body        string    `json:"-"`
	CreatedAt   time.Time `json:"created_at"`
	Attempts    int       `json:"attempts"`
	NextTry     time.Time `json:"next_try,omitzero"`
	LastTry     time.Time `json:"last_try,omitzero"`
	DeliveredAt time.Time `json:"delivered_at,omitzero"`
	LastError   string    `json:"last_error,omitempty"`
}

// Delivered says whether it got through.
func (n Notification) Delivered() bool { return !n.DeliveredAt.IsZero() }

// message renders what the recipients are told of in for event.
func (s *Service) message(in *Incident, event string, extra string) (subject, body string) {
	var b strings.Builder
	switch event {
	case "opened":
		subject = fmt.Sprintf("[Sceau] incident %d opened: %s %s: %s", in.ID, strings.ToUpper(string(in.Severity)), in.Kind, in.Title)
	case "closed":
		subject = fmt.Sprintf("[Sceau] incident %d closed: %s", in.ID, in.Title)
	case "escalated":
		subject = fmt.Sprintf("[Sceau] incident %d escalated to %s: %s %s", in.ID, strings.ToUpper(string(in.Severity)), in.Kind, in.Title)
	default:
		first, _, _ := strings.Cut(extra, "\n")
		subject = fmt.Sprintf("[Sceau] incident %d: %s", in.ID, first)
	}
	fmt.Fprintf(&b, "Incident %d (%s)\n\n", in.ID, in.Status)
	fmt.Fprintf(&b, "Kind:      %s\nSeverity:  %s\nTitle:     %s\nDetected:  %s\nOpened:    %s by %s\n",
		in.Kind, in.Severity, in.Title, in.DetectedAt.Format(time.RFC3339), in.OpenedAt.Format(time.RFC3339), in.OpenedBy)
	if in.Description != "" {
		fmt.Fprintf(&b, "\n%s\n", in.Description)
	}
	if extra != "" {
		fmt.Fprintf(&b, "\n%s\n", extra)
	}
	if len(in.Obligations) > 0 {
		b.WriteString("\nOwed within 24 hours of detection (INC-4):\n")
		for _, o := range in.Obligations {
			state := "due " + o.DueAt.Format(time.RFC3339)
			if o.Done() {
				state = "done, reference " + o.Reference
			}
			fmt.Fprintf(&b, "  - notify %s: %s\n", o.Kind.Title(), state)
		}
	}
	if in.Severity == Major && event == "opened" { // escalated: in extra
		fmt.Fprintf(&b, "\nA major incident starts the compromise procedure: %s.\n", s.o.CompromiseCommand)
	}
	if event == "closed" {
		fmt.Fprintf(&b, "\nClosed %s by %s:\n%s\n", in.ClosedAt.Format(time.RFC3339), in.ClosedBy, in.Closure)
	}
	fmt.Fprintf(&b, "\nDetails and timeline: sceau incident show %d\n", in.ID)
	return subject, b.String()
}

// enqueue queues a notification of event to every recipient, in tx.
func (s *Service) enqueue(ctx context.Context, tx *store.Tx, in *Incident, event string, now time.Time) error {
	return s.enqueueText(ctx, tx, in, event, "", now)
}

func (s *Service) enqueueText(ctx context.Context, tx *store.Tx, in *Incident, event, extra string, now time.Time) error {
	subject, body := s.message(in, event, extra)
	for _, r := range s.o.Recipients {
		if _, err := tx.ExecContext(ctx, qInsertNotification, in.ID, event, r.Channel, r.To, subject, body,
			store.FormatTime(now), store.FormatTime(now)); err != nil {
			return store.Classify("incident: notify", err)
		}
	}
	return nil
}

// backoff is the wait after the attempts-th failed attempt.
func (s *Service) backoff(attempts int) time.Duration {
	d := s.o.Backoff
	for i := 1; i < attempts && d < s.o.MaxBackoff; i++ {
		d *= 2
	}
	return min(d, s.o.MaxBackoff)
}

// Delivery counts what one pass delivered.
type Delivery struct {
	Delivered int `json:"delivered"`
	Failed    int `json:"failed"`
}

// Deliver attempts every notification due, in order: serve calls it
// periodically. A failed attempt is recorded with its error and retried
// after an exponential backoff, without end: nothing is dropped.
func (s *Service) Deliver(ctx context.Context) (Delivery, error) {
	var d Delivery
	for {
		due, err := s.due(ctx, qDueNotifications, store.FormatTime(s.o.Clock.Now()), 100)
		if err != nil || len(due) == 0 {
			return d, err
		}
		for _, c := range due {
			ok, err := s.attempt(ctx, c)
			if err != nil {
				return d, err
			}
			if ok {
				d.Delivered++
			} else {
				d.Failed++
			}
		}
		if len(due) < 100 {
			return d, nil
		}
	}
}

// deliverIncident makes the first attempts for one incident's
// notifications; failures are left to Deliver.
func (s *Service) deliverIncident(ctx context.Context, id int64) {
	due, err := s.due(ctx, qDueForIncident, id, store.FormatTime(s.o.Clock.Now()))
	if err != nil {
		s.o.Log.Warn("incident: notifications", "incident", id, "err", err)
		return
	}
	// The person waits for these: past one send timeout in all, the rest
	// is left to serve's next pass.
	budget := time.Now().Add(s.o.SendTimeout)
	for _, c := range due {
		if time.Now().After(budget) {
			return
		}
		if _, err := s.attempt(ctx, c); err != nil {
			s.o.Log.Warn("incident: notification", "incident", id, "err", err)
		}
	}
}

type claim struct {
	id      int64
	nextTry string
}

func (s *Service) due(ctx context.Context, q string, args ...any) ([]claim, error) {
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, store.Classify("incident: deliver", err)
	}
	defer rows.Close()
	var out []claim
	for rows.Next() {
		var c claim
		if err := rows.Scan(&c.id, &c.nextTry); err != nil {
			return nil, store.Classify("incident: deliver", err)
		}
		out = append(out, c)
	}
	return out, store.Classify("incident: deliver", rows.Err())
}

// attempt claims one notification, sends it and records the outcome with
// its journal event. false: the attempt failed (or another node has it).
func (s *Service) attempt(ctx context.Context, c claim) (bool, error) {
	const op = "incident: deliver"
	now := s.o.Clock.Now().UTC()
	lease := now.Add(s.o.SendTimeout + time.Minute)
	res, err := s.db.ExecContext(ctx, qClaim, store.FormatTime(lease), c.id, c.nextTry)
	if err != nil {
		return false, store.Classify(op, err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return false, nil // another node took it
	}
	n, err := scanNotification(s.db.QueryRowContext(ctx, qNotification, c.id))
	if err != nil {
		return false, store.Classify(op, err)
	}
	var sendErr error
	snd, ok := s.senders[n.Channel]
	if !ok {
		sendErr = sceau.Errorf(sceau.Unavailable, op, "no %s sender is configured (incident.%s)", n.Channel, n.Channel)
	} else {
		sctx, cancel := context.WithTimeout(ctx, s.o.SendTimeout)
		sendErr = snd.Send(sctx, n.Recipient, Message{ID: n.ID, Incident: n.Incident, Event: n.Event, Subject: n.Subject, Body: n.Body})
		cancel()
	}
	done := s.o.Clock.Now().UTC()
	attempts := n.Attempts + 1
	details := map[string]any{"notification": n.ID, "event": n.Event, "channel": n.Channel,
		"recipient": Display(n.Channel, n.Recipient), "attempt": attempts}
	// The outcome is recorded even if the caller went away meanwhile.
	ctx = context.WithoutCancel(ctx)
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		if sendErr == nil {
			if _, err := tx.ExecContext(ctx, qDelivered, store.FormatTime(done), store.FormatTime(done), n.ID); err != nil {
				return store.Classify(op, err)
			}
			return s.journal.Append(ctx, tx, audit.Event{Actor: sceau.System("incident"), Action: audit.ActionIncidentNotified,
				Object: object(n.Incident), Details: details})
		}
		next := done.Add(s.backoff(attempts))
		msg := errorText(sendErr)
		if _, err := tx.ExecContext(ctx, qAttemptFailed, store.FormatTime(done), store.FormatTime(next), msg, n.ID); err != nil {
			return store.Classify(op, err)
		}
		details["error"], details["next_try"] = msg, store.FormatTime(next)
		return s.journal.Append(ctx, tx, audit.Event{Actor: sceau.System("incident"), Action: audit.ActionIncidentNotificationFailed,
			Object: object(n.Incident), Details: details})
	})
	if err != nil {
		return false, err
	}
	if sendErr != nil {
		s.o.Log.Warn("incident: notification not delivered, will retry", "incident", n.Incident, "channel", n.Channel,
			"recipient", Display(n.Channel, n.Recipient), "attempt", attempts, "err", sendErr)
	}
	return sendErr == nil, nil
}

// errorText is a failed attempt's error as recorded: one line, bounded.
func errorText(err error) string {
	s := strings.Join(strings.Fields(err.Error()), " ")
	if len(s) > 1000 {
		s = s[:1000] + "…"
	}
	return s
}
