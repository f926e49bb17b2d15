package incident

import (
	"context"
	"time"

	"github.com/sceau/sceau/internal/store"
)

// HolderNotice is what one holder is told of an incident that revoked
// their certificate.
type HolderNotice struct {
	Email, Subject, Body string
}

// EventHolder is the event of the notifications to holders.
const EventHolder = "holder"

// NotifyHoldersTx queues, in tx, one e-mail to each holder of a
// certificate the incident revoked (INC-2: every holder, from the contact
// in their dossier). Like the Security Officers' notifications they are
// recorded with their delivery, retried, and listed by `incident show`;
// with no SMTP sender configured each one says so and waits.
func (s *Service) NotifyHoldersTx(ctx context.Context, tx *store.Tx, incidentID int64, notices []HolderNotice) error {
	now := store.FormatTime(s.o.Clock.Now().UTC().Truncate(time.Second))
	for _, h := range notices {
		if _, err := tx.ExecContext(ctx, qInsertNotification, incidentID, EventHolder, "smtp", h.Email, h.Subject, h.Body, now, now); err != nil {
			return store.Classify("incident: notify holders", err)
		}
	}
	return nil
}
