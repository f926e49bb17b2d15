package revocation

import (
	"context"
	"time"

	"github.com/sceau/sceau/internal/audit"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/store"
)

// Mass revocation (ROLE-3, revocation.mass): every unexpired certificate of
// a CA, revoked in the transaction of the last approval, in batches. The
// pre-signed OCSP responses are dropped: the responder signs the revoked
// status on demand and the refresh pre-signs it again.

// massBatch is how many certificates one statement revokes.
const massBatch = 500

func checkMass(caID, reason string) (int, error) {
	const op = "revocation: mass"
	code, err := ParseReason(op, reason)
	if err != nil {
		return 0, err
	}
	if caID == "" {
		return 0, sceau.Errorf(sceau.Invalid, op, "a CA is required")
	}
	return code, nil
}

// CountRevocable validates a mass revocation of caID for reason and
// returns how many certificates it would revoke now.
func (s *Service) CountRevocable(ctx context.Context, q store.Querier, caID, reason string) (int, error) {
	if _, err := checkMass(caID, reason); err != nil {
		return 0, err
	}
	if _, err := s.Issuer(caID); err != nil {
		return 0, err
	}
	var n int
	err := q.QueryRowContext(ctx, qCountLive,
		caID, store.FormatTime(s.clock.Now())).Scan(&n)
	return n, store.Classify("revocation: mass", err)
}

// RevokeAll revokes, in tx, every unexpired certificate of caID not revoked
// yet, for reason, each with its certificate.revoked event naming the
// approval; it returns how many. The CRL is reissued by the scheduler
// (OnRevoke is called before tx commits, so the reissue may wait for the
// next refresh).
func (s *Service) RevokeAll(ctx context.Context, tx *store.Tx, actor sceau.Actor, caID, reason, approval string) (int, error) {
	const op = "revocation: mass"
	code, err := checkMass(caID, reason)
	if err != nil {
		return 0, err
	}
	if _, err := s.Issuer(caID); err != nil {
		return 0, err
	}
	now := s.clock.Now().UTC().Truncate(time.Second)
	// One statement revokes them all and names them (RETURNING, both
	// engines): a million rows in one pass, where batches found by a query
	// each walked the rows revoked before them.
	rows, err := tx.QueryContext(ctx, qRevokeAllLive, store.FormatTime(now), code, caID, store.FormatTime(now))
	if err != nil {
		return 0, store.Classify(op, err)
	}
	var serials []string
	for rows.Next() {
		var sn string
		if err := rows.Scan(&sn); err != nil {
			rows.Close()
			return 0, store.Classify(op, err)
		}
		serials = append(serials, sn)
	}
	err = rows.Err()
	rows.Close()
	if err != nil {
		return 0, store.Classify(op, err)
	}
	total := 0
	for len(serials) > 0 {
		batch := serials[:min(len(serials), 1000)]
		serials = serials[len(batch):]
		evs := make([]audit.Event, 0, len(batch))
		for _, sn := range batch {
			evs = append(evs, audit.Event{Actor: actor, Action: "certificate.revoked", Object: "certificate:" + sn,
				Details: map[string]any{"ca": caID, "reason": reason, "reason_code": code, "mass": true, "approval": approval,
					"revoked_at": store.FormatTime(now)}})
		}
		if err := s.journal.Append(ctx, tx, evs...); err != nil {
			return total, err
		}
		total += len(batch)
	}
	if total > 0 && s.opts.OnRevoke != nil {
		s.opts.OnRevoke(caID)
	}
	return total, nil
}
