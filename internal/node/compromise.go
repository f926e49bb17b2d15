package node

import (
	"context"
	"fmt"
	"time"

	"github.com/sceau/sceau/internal/access"
	"github.com/sceau/sceau/internal/audit"
	"github.com/sceau/sceau/internal/incident"
	"github.com/sceau/sceau/internal/publication"
	"github.com/sceau/sceau/internal/revocation"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/store"
)

// The compromise procedure of a CA key (INC-2, policy §5.6.1, §5.6.3),
// carried out in the transaction of its last approval, all or nothing:
//
//  1. the CA is terminated: it issues nothing more, and the termination
//     loop then signs its final CRL and destroys its key (END-1);
//  2. every unexpired certificate it issued is revoked (cACompromise);
//  3. its own certificate is revoked at its parent (cACompromise), whose
//     CRL is reissued at once;
//  4. a major incident is opened in the register, whose notifications go
//     to the Security Officers and the partners (INC-1) and whose 24-hour
//     obligations start (INC-4);
//  5. a notice, in French and in English, is published on the site.
func (n *Node) compromise() access.CACompromise {
	return access.CACompromise{
		Check: func(ctx context.Context, q store.Querier, caID string) error {
			if _, err := n.Authority.CA(caID); err != nil {
				return err
			}
			return n.Authority.CheckTerminable(ctx, q, caID)
		},
		Execute: n.carryOutCompromise,
	}
}

func (n *Node) carryOutCompromise(ctx context.Context, tx *store.Tx, actor sceau.Actor, caID, reason, approval string) (string, error) {
	c, err := n.Authority.CA(caID)
	if err != nil {
		return "", err
	}
	if err := n.Authority.Terminate(ctx, tx, actor, caID, "key compromise: "+reason, approval); err != nil {
		return "", err
	}
	revoked, err := n.Revocation.RevokeAll(ctx, tx, actor, caID, "cACompromise", approval)
	if err != nil {
		return "", err
	}
	atParent := "it is a root: relying parties must remove it from their trust stores"
	if p := c.Spec.Parent; p != "" {
		code, _ := revocation.ParseReason("ca compromise", "cACompromise")
		if _, err := n.Revocation.RevokeTx(ctx, tx, actor, revocation.SerialHex(c.Cert.SerialNumber), code); err != nil {
			return "", err
		}
		n.Revocation.Revoked(p) // the parent's CRL, reissued at once
		atParent = "its certificate is revoked by " + p
	}
	var incidentID int64
	if n.Incidents != nil {
		if incidentID, err = n.Incidents.OpenTx(ctx, tx, actor, incident.New{Kind: incident.SuspectedCompromise, Severity: incident.Major,
			Title: "Compromise of the key of CA " + caID, Description: reason,
			Started: fmt.Sprintf("sceau ca compromise %s, approval %s: CA terminated, %d certificates revoked, %s", caID, approval, revoked, atParent)}); err != nil {
			return "", err
		}
	}
	holders, err := n.notifyHolders(ctx, tx, incidentID, caID, "cACompromise", [2]string{ // INC-2: every holder, from their dossier
		"la clé de l'autorité de certification " + caID + " qui l'a émis est compromise.",
		"the key of certification authority " + caID + ", which issued it, is compromised."})
	if err != nil {
		return "", err
	}
	notices, err := n.publishCompromiseNotice(ctx, tx, actor, caID, c.Cert.Subject.String(), reason, approval)
	if err != nil {
		return "", err
	}
	if err := n.Journal.Append(ctx, tx, audit.Event{Actor: actor, Action: audit.ActionCACompromised, Object: "ca:" + caID,
		Details: map[string]any{"reason": reason, "approval": approval, "revoked": revoked, "parent": c.Spec.Parent,
			"incident": incidentID, "notices": notices, "holders_notified": holders}}); err != nil {
		return "", err
	}
	return fmt.Sprintf("CA %s compromised: terminated, %d certificates revoked (cACompromise), %s; incident %d opened; %d holders notified; "+
		"notices %v published; its final CRL and the destruction of its key follow (docs/incident.md)", caID, revoked, atParent, incidentID, holders, notices), nil
}

// publishCompromiseNotice publishes the notice of a CA key compromise in
// both languages of the site (INC-2, PUB-1) and returns its versions.
func (n *Node) publishCompromiseNotice(ctx context.Context, tx *store.Tx, actor sceau.Actor, caID, subject, reason, approval string) ([]string, error) {
	now := time.Now().UTC()
	return n.publishNotice(ctx, tx, actor, "compromise-"+caID, approval, map[string][2]string{
		"fr": {"Compromission de la clé de l'AC " + caID, fmt.Sprintf(`Avis d'incident — compromission de la clé d'une autorité de certification

Le %s, la clé privée de l'autorité de certification %s (%s) a été déclarée compromise.
Motif : %s

Mesures prises :
- l'AC n'émet plus aucun certificat ;
- tous les certificats qu'elle a émis et qui n'étaient pas expirés sont révoqués (motif cACompromise) ;
- son propre certificat est révoqué par l'AC parente (motif cACompromise) ;
- les listes de révocation sont publiées sur ce site.

Ne vous fiez plus à aucun certificat émis par cette AC. Les porteurs doivent demander un nouveau certificat.
`, now.Format("2006-01-02 15:04 UTC"), caID, subject, reason)},
		"en": {"Compromise of the key of CA " + caID, fmt.Sprintf(`Incident notice — compromise of a certification authority key

On %s, the private key of certification authority %s (%s) was declared compromised.
Reason: %s

What was done:
- the CA issues no certificate any more;
- every unexpired certificate it issued is revoked (reason cACompromise);
- its own certificate is revoked by its parent CA (reason cACompromise);
- the revocation lists are published on this site.

Do not rely on any certificate issued by this CA. Holders must request a new certificate.
`, now.Format("2006-01-02 15:04 UTC"), caID, subject, reason)},
	})
}

// publishNotice publishes a notice (title and text per language of the
// site) under ident, versioned by the minute, in tx: the procedure's own
// approval is the publication's (PUB-4).
func (n *Node) publishNotice(ctx context.Context, tx *store.Tx, actor sceau.Actor, ident, approval string, texts map[string][2]string) ([]string, error) {
	now := time.Now().UTC()
	var out []string
	for _, lang := range publication.Languages {
		t := texts[lang]
		digest, err := n.Publication.StoreTx(ctx, tx, actor, "text/plain", []byte(t[1]))
		if err != nil {
			return nil, err
		}
		ch, err := publication.AddChange(publication.Meta{Kind: publication.Notice, Ident: ident, Version: now.Format("2006-01-02T1504"),
			Lang: lang, Title: t[0], EffectiveAt: now, MediaType: "text/plain"}, digest)
		if err != nil {
			return nil, err
		}
		if _, err := n.Publication.Apply(ctx, tx, actor, ch, approval); err != nil {
			return nil, err
		}
		out = append(out, ch.Document)
	}
	return out, nil
}

// weakAlgorithm is the selective revocation of INC-3 as the node carries
// it out: the revocation, then, in the same transaction, an incident in
// the register (its notifications) and a notice on the site.
type weakAlgorithm struct{ n *Node }

func (w weakAlgorithm) CheckSelection(ctx context.Context, q store.Querier, payload []byte) error {
	return w.n.Revocation.CheckSelection(ctx, q, payload)
}

func (w weakAlgorithm) RevokeSelected(ctx context.Context, tx *store.Tx, actor sceau.Actor, payload []byte, approval string) (int, error) {
	revoked, err := w.n.Revocation.RevokeSelected(ctx, tx, actor, payload, approval)
	if err != nil {
		return revoked, err
	}
	pl, err := revocation.DecodeSelection(payload)
	if err != nil {
		return revoked, err
	}
	what := pl.Selector.String()
	var incidentID int64
	if w.n.Incidents != nil {
		if incidentID, err = w.n.Incidents.OpenTx(ctx, tx, actor, incident.New{Kind: incident.WeakAlgorithm, Severity: incident.Moderate,
			Title:       "Weak algorithm: certificates revoked (" + clipText(what, 120) + ")",
			Description: fmt.Sprintf("%d certificates matching %s revoked (%s), approval %s", revoked, what, pl.Reason, approval)}); err != nil {
			return revoked, err
		}
	}
	if _, err := w.n.notifyHolders(ctx, tx, incidentID, "", pl.Reason, [2]string{ // INC-3: notifications as for INC-2
		"son algorithme ou sa taille de clé est jugé insuffisant (" + clipText(what, 120) + ").",
		"its algorithm or key size is judged insufficient (" + clipText(what, 120) + ")."}); err != nil {
		return revoked, err
	}
	now := time.Now().UTC().Format("2006-01-02 15:04 UTC")
	if _, err := w.n.publishNotice(ctx, tx, actor, "weak-algorithm", approval, map[string][2]string{
		"fr": {"Algorithme jugé insuffisant : certificats révoqués", fmt.Sprintf(`Avis — algorithme ou paramètre jugé insuffisant

Le %s, %d certificats ont été révoqués (motif %s) : ceux qui correspondaient à « %s ».
Les porteurs concernés doivent demander un nouveau certificat avec un algorithme et une taille de clé conformes.
`, now, revoked, pl.Reason, what)},
		"en": {"Algorithm judged insufficient: certificates revoked", fmt.Sprintf(`Notice — algorithm or parameter judged insufficient

On %s, %d certificates were revoked (reason %s): those matching "%s".
Their holders must request a new certificate with a compliant algorithm and key size.
`, now, revoked, pl.Reason, what)},
	}); err != nil {
		return revoked, err
	}
	return revoked, nil
}

func clipText(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}
