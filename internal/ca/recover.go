package ca

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/sceau/sceau/internal/audit"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/store"
)

// RecoverFromEvent recreates in tx the part of a certificate's row that ca
// owns from one journal event, for a database restored from a copy older
// than the event (CONT-1; continuity replays the off-site export):
// certificate.prepared reserves the row (serial, CA, profile, subject,
// validity), certificate.issued marks it issued. The certificate's bytes
// are not in the journal: a recovered row has an empty tbs_der and no
// cert_der, and answers OCSP and CRLs as any other. A row that exists is
// left as it is. It reports whether the event was one of these.
func RecoverFromEvent(ctx context.Context, tx *store.Tx, r *audit.Record) (bool, error) {
	const op = "ca: recover from the journal"
	serial, ok := strings.CutPrefix(r.Object, "certificate:")
	if !ok {
		return false, nil
	}
	switch r.Action {
	case audit.ActionCertificatePrepared:
		var d preparedDetails
		if err := json.Unmarshal([]byte(r.Details), &d); err != nil || d.CA == "" || d.NotAfter.IsZero() {
			return false, sceau.Errorf(sceau.Invalid, op, "event %d: the details of %s do not name its CA and validity", r.Seq, serial)
		}
		var n int
		if err := tx.QueryRowContext(ctx, qCountCA, d.CA).Scan(&n); err != nil {
			return false, store.Classify(op, err)
		}
		if n == 0 {
			return false, sceau.Errorf(sceau.Conflict, op, "event %d: certificate %s is of CA %s, which the restored database does not hold "+
				"(created after the backup?): restore a backup made after the CA's creation", r.Seq, serial, d.CA)
		}
		notBefore := r.At
		if !d.NotBefore.IsZero() {
			notBefore = store.FormatTime(d.NotBefore)
		}
		_, err := tx.ExecContext(ctx, qRecoverReservation, serial, d.CA, d.Profile, d.Subject, []byte{}, notBefore,
			store.FormatTime(d.NotAfter), r.At)
		return true, store.Classify(op, err)
	case audit.ActionCertificateIssued:
		_, err := tx.ExecContext(ctx, qRecoverIssued, r.At, serial)
		return true, store.Classify(op, err)
	}
	return false, nil
}
