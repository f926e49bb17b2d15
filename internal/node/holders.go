package node

import (
	"context"
	"fmt"

	"github.com/sceau/sceau/internal/incident"
	"github.com/sceau/sceau/internal/registration"
	"github.com/sceau/sceau/internal/revocation"
	"github.com/sceau/sceau/internal/store"
)

// notifyHolders tells, in tx, every holder whose certificate the incident
// just revoked with reason (of caID, or of any CA when caID is ""), from
// the contact in their dossier (INC-2, INC-3), in French and English, and
// returns how many were told. why says what happened, in both languages.
func (n *Node) notifyHolders(ctx context.Context, tx *store.Tx, incidentID int64, caID, reason string, why [2]string) (int, error) {
	if n.Incidents == nil || incidentID == 0 {
		return 0, nil
	}
	code, err := revocation.ParseReason("notify holders", reason)
	if err != nil {
		return 0, err
	}
	holders, err := registration.RevokedHolders(ctx, tx, caID, code)
	if err != nil {
		return 0, err
	}
	site := n.Config.Public.BaseURL
	notices := make([]incident.HolderNotice, 0, len(holders))
	for _, h := range holders {
		notices = append(notices, incident.HolderNotice{Email: h.Email,
			Subject: "[Sceau] Votre certificat est révoqué / Your certificate is revoked (" + h.Serial + ")",
			Body: fmt.Sprintf(`Bonjour %[1]s,

Votre certificat de numéro de série %[2]s (dossier %[3]d) est révoqué (motif %[4]s) : %[5]s
Il ne doit plus être utilisé. Demandez un nouveau certificat auprès de votre autorité d'enregistrement.
Avis publié : %[6]s/fr/notices

Hello %[1]s,

Your certificate with serial number %[2]s (dossier %[3]d) is revoked (reason %[4]s): %[7]s
Do not use it any more. Ask your registration authority for a new certificate.
Published notice: %[6]s/en/notices

Incident %[8]d
`, h.Name, h.Serial, h.Dossier, reason, why[0], site, why[1], incidentID)})
	}
	return len(notices), n.Incidents.NotifyHoldersTx(ctx, tx, incidentID, notices)
}
