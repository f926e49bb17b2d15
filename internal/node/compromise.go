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
		if err := n.Revocation.RevokeCATx(ctx, tx, actor, revocation.SerialHex(c.Cert.SerialNumber), "cACompromise", approval); err != nil {
			return "", err
		}
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
	notices, err := n.publishCompromiseNotice(ctx, tx, actor, caID, c.Cert.Subject.String(), reason, approval)
	if err != nil {
		return "", err
	}
	if err := n.Journal.Append(ctx, tx, audit.Event{Actor: actor, Action: audit.ActionCACompromised, Object: "ca:" + caID,
		Details: map[string]any{"reason": reason, "approval": approval, "revoked": revoked, "parent": c.Spec.Parent,
			"incident": incidentID, "notices": notices}}); err != nil {
		return "", err
	}
	return fmt.Sprintf("CA %s compromised: terminated, %d certificates revoked (cACompromise), %s; incident %d opened; notices %v published; "+
		"its final CRL and the destruction of its key follow (docs/incident.md)", caID, revoked, atParent, incidentID, notices), nil
}

// publishCompromiseNotice publishes the notice of a CA key compromise in
// both languages of the site (INC-2, PUB-1) and returns its versions.
func (n *Node) publishCompromiseNotice(ctx context.Context, tx *store.Tx, actor sceau.Actor, caID, subject, reason, approval string) ([]string, error) {
	now := time.Now().UTC()
	texts := map[string][2]string{
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
	}
	var out []string
	for _, lang := range publication.Languages {
		t := texts[lang]
		digest, err := n.Publication.StoreTx(ctx, tx, actor, "text/plain", []byte(t[1]))
		if err != nil {
			return nil, err
		}
		ch, err := publication.AddChange(publication.Meta{Kind: publication.Notice, Ident: "compromise-" + caID, Version: now.Format("2006-01-02T1504"),
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
