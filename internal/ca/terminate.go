package ca

import (
	"context"
	"database/sql"
	"errors"

	"github.com/sceau/sceau/internal/audit"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/store"
)

// CA termination (END-1, ROLE-3, ca.terminate). In the transaction of the
// last approval the CA is marked terminated (it issues no certificate any
// more) and every unexpired certificate it issued is revoked
// (cessationOfOperation, by the approvals' executor). Then, resumed until
// done (the node's finisher, which needs the CA key activated once more):
// its final CRL, whose nextUpdate is 99991231235959Z, and the destruction
// of its key, every backup and the share carriers (KEY-6). The chain, the
// final CRL and the archive stay published.

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

// Termination is a terminated CA's progress through its last steps.
type Termination struct {
	CA           string
	Approval     string
	FinalCRL     bool // its final CRL is issued
	KeyDestroyed bool
}

// UnfinishedTerminations lists the terminated CAs whose key is not yet
// destroyed (END-1).
func (a *Authority) UnfinishedTerminations(ctx context.Context) ([]Termination, error) {
	const op = "ca: terminations"
	rows, err := a.db.QueryContext(ctx, qUnfinishedTerminations)
	if err != nil {
		return nil, store.Classify(op, err)
	}
	defer rows.Close()
	var out []Termination
	for rows.Next() {
		var t Termination
		if err := rows.Scan(&t.CA, &t.Approval, &t.FinalCRL, &t.KeyDestroyed); err != nil {
			return nil, store.Classify(op, err)
		}
		out = append(out, t)
	}
	return out, store.Classify(op, rows.Err())
}

// RecordFinalCRL records that caID issued its final CRL number.
func (a *Authority) RecordFinalCRL(ctx context.Context, caID string, number int64) error {
	_, err := a.db.ExecContext(ctx, qSetFinalCRL, number, caID)
	return store.Classify("ca: terminate", err)
}

// RecordKeyDestroyed records in tx, with the event that closes the
// termination, that caID's key is destroyed (END-1).
func (a *Authority) RecordKeyDestroyed(ctx context.Context, tx *store.Tx, actor sceau.Actor, caID, approval string) error {
	if _, err := tx.ExecContext(ctx, qSetKeyDestroyed, store.FormatTime(a.clock.Now()), caID); err != nil {
		return store.Classify("ca: terminate", err)
	}
	return a.journal.Append(ctx, tx, audit.Event{Actor: actor, Action: audit.ActionCATerminationCompleted, Object: "ca:" + caID,
		Details: map[string]any{"approval": approval, "final_crl": "nextUpdate 99991231235959Z", "key": "destroyed with its backups; share carriers revoked"}})
}
