package ca

import (
	"context"
	"database/sql"
	"errors"

	"github.com/sceau/sceau/internal/audit"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/store"
)

// CA termination (ROLE-3, ca.terminate), the minimal part: the CA is
// marked terminated in the transaction of the last approval and issues no
// certificate any more; it keeps signing CRLs and OCSP responses for what
// it issued. Revoking its own certificate at its parent, the final CRL and
// the destruction of its key are the full termination procedure, not done
// here.

// CheckTerminable refuses terminating a CA that does not exist or is
// terminated already.
func (a *Authority) CheckTerminable(ctx context.Context, q store.Querier, caID string) error {
	const op = "ca: terminate"
	var terminated sql.NullString
	err := q.QueryRowContext(ctx, qTerminatedAt, caID).Scan(&terminated)
	if errors.Is(err, sql.ErrNoRows) {
		return sceau.Errorf(sceau.NotFound, op, "unknown CA %q", caID)
	}
	if err != nil {
		return store.Classify(op, err)
	}
	if terminated.Valid {
		return sceau.Errorf(sceau.Conflict, op, "CA %q was terminated on %s", caID, terminated.String)
	}
	return nil
}

// Terminate marks caID terminated in tx, with its audit event.
func (a *Authority) Terminate(ctx context.Context, tx *store.Tx, actor sceau.Actor, caID, reason, approval string) error {
	const op = "ca: terminate"
	if err := a.CheckTerminable(ctx, tx, caID); err != nil {
		return err
	}
	now := a.clock.Now().UTC()
	if _, err := tx.ExecContext(ctx, qTerminateCA, store.FormatTime(now), actor.ID, approval, caID); err != nil {
		return store.Classify(op, err)
	}
	return a.journal.Append(ctx, tx, audit.Event{Actor: actor, Action: "ca.terminated", Object: "ca:" + caID,
		Details: map[string]any{"reason": reason, "approval": approval,
			"effect": "issues no certificate any more; CRLs and OCSP continue"}})
}

// refuseTerminated refuses issuance by a terminated CA, read in the
// issuing transaction.
func (a *Authority) refuseTerminated(ctx context.Context, q store.Querier, caID string) error {
	var terminated sql.NullString
	if err := q.QueryRowContext(ctx, qTerminatedAt, caID).Scan(&terminated); err != nil {
		return store.Classify("ca: prepare", err)
	}
	if terminated.Valid {
		return sceau.Errorf(sceau.Invalid, "ca: prepare", "CA %q was terminated on %s: it issues no certificate", caID, terminated.String)
	}
	return nil
}
