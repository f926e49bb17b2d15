package registration

import (
	"context"
	"encoding/json"

	"github.com/sceau/sceau/internal/store"
)

// Holder is the contact of a dossier whose certificate was revoked, for
// telling them (INC-2, INC-3).
type Holder struct {
	Dossier int64
	Serial  string
	Name    string
	Email   string
}

// qRevokedHolders reads the dossiers of the certificates revoked by the
// last revocation with reason (of caID, or of any CA when caID is ""):
// one procedure's revocation stamps every certificate with the same
// second, the latest one with that reason, in the transaction that
// revoked them.
const qRevokedHolders = `SELECT d.id, d.serial, d.contact FROM dossiers d JOIN certificates c ON c.serial = d.serial
	WHERE c.revocation_reason = ? AND (? = '' OR c.ca_id = ?)
	  AND c.revoked_at = (SELECT MAX(revoked_at) FROM certificates WHERE revocation_reason = ? AND (? = '' OR ca_id = ?))
	ORDER BY d.id`

// RevokedHolders are the holders, with an e-mail address in their
// dossier, of the certificates the latest revocation with reason revoked
// (a compromise's or a weak algorithm's, read in its own transaction q).
// Certificates issued without a dossier have no contact here.
func RevokedHolders(ctx context.Context, q store.Querier, caID string, reason int) ([]Holder, error) {
	const op = "registration: holders"
	rows, err := q.QueryContext(ctx, qRevokedHolders, reason, caID, caID, reason, caID, caID)
	if err != nil {
		return nil, store.Classify(op, err)
	}
	defer rows.Close()
	var out []Holder
	for rows.Next() {
		var h Holder
		var contact string
		if err := rows.Scan(&h.Dossier, &h.Serial, &contact); err != nil {
			return nil, store.Classify(op, err)
		}
		var c Contact
		if json.Unmarshal([]byte(contact), &c) != nil || c.Email == "" {
			continue
		}
		h.Name, h.Email = c.Name, c.Email
		out = append(out, h)
	}
	return out, store.Classify(op, rows.Err())
}
