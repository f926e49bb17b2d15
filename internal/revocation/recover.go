package revocation

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/sceau/sceau/internal/audit"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/store"
)

// RecoverFromEvent recreates in tx the revocation a certificate.revoked
// journal event records, for a database restored from a copy older than
// the event (CONT-1; continuity replays the off-site export): revoked_at
// (the event's revoked_at, else its time) and revocation_reason; the
// stored OCSP response is dropped so that none says good. A row revoked
// already is left as it is. It reports whether the event was a revocation.
func RecoverFromEvent(ctx context.Context, tx *store.Tx, r *audit.Record) (bool, error) {
	const op = "revocation: recover from the journal"
	serial, ok := strings.CutPrefix(r.Object, "certificate:")
	if r.Action != audit.ActionCertificateRevoked || !ok {
		return false, nil
	}
	var d struct {
		Code      *int   `json:"reason_code"`
		RevokedAt string `json:"revoked_at"`
	}
	if err := json.Unmarshal([]byte(r.Details), &d); err != nil || d.Code == nil {
		return false, sceau.Errorf(sceau.Invalid, op, "event %d: the details of %s give no reason code", r.Seq, serial)
	}
	at := d.RevokedAt
	if at == "" {
		t, err := store.ParseTime(r.At)
		if err != nil {
			return false, err
		}
		at = store.FormatTime(t.UTC().Truncate(1e9))
	}
	_, err := tx.ExecContext(ctx, qRecoverRevocation, at, *d.Code, serial)
	return true, store.Classify(op, err)
}
