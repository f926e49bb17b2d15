package demo

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/sceau/sceau/internal/access"
	"github.com/sceau/sceau/internal/adminapi"
	"github.com/sceau/sceau/internal/config"
	"github.com/sceau/sceau/internal/node"
	"github.com/sceau/sceau/internal/publication"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/server"
)

// sampleDocument is one version the demo publishes.
type sampleDocument struct {
	meta    publication.Meta
	content string
}

// sampleDocuments are what a trust service provider publishes first: its
// CP, CPS and PKI disclosure statement in French and English, its terms
// of use and an information notice. Short, and marked as demo texts.
func sampleDocuments(org string, effective time.Time) []sampleDocument {
	html := func(lang, title, body string) string {
		return `<!DOCTYPE html><html lang="` + lang + `"><head><meta charset="utf-8"><title>` + title + `</title></head><body><h1>` +
			title + `</h1><p><strong>DEMO</strong></p>` + body + `</body></html>`
	}
	doc := func(k publication.Kind, ident, lang, title, mt, content string) sampleDocument {
		return sampleDocument{publication.Meta{Kind: k, Ident: ident, Version: "1.0", Lang: lang, Title: title,
			EffectiveAt: effective, MediaType: mt}, content}
	}
	const oid = "1.2.250.1.999.1.1"
	return []sampleDocument{
		doc(publication.CP, oid, "fr", "Politique de certification (démonstration)", "text/html", html("fr", "Politique de certification",
			"<p>Cette politique ("+oid+") régit les certificats que délivre l'AC "+org+". Texte de démonstration.</p>")),
		doc(publication.CP, oid, "en", "Certificate policy (demo)", "text/html", html("en", "Certificate policy",
			"<p>This policy ("+oid+") governs the certificates that the "+org+" CA issues. Demo text.</p>")),
		doc(publication.CPS, "dpc", "fr", "Déclaration des pratiques de certification (démonstration)", "text/html", html("fr",
			"Déclaration des pratiques de certification", "<p>Comment l'AC "+org+" met en œuvre sa politique. Texte de démonstration.</p>")),
		doc(publication.CPS, "dpc", "en", "Certification practice statement (demo)", "text/html", html("en",
			"Certification practice statement", "<p>How the "+org+" CA carries out its policy. Demo text.</p>")),
		doc(publication.PDS, "pds", "fr", "Déclaration d'information de l'IGC (démonstration)", "text/html", html("fr",
			"Déclaration d'information de l'IGC", "<p>L'essentiel de la politique de l'AC "+org+" pour les utilisateurs (EN 319 411-1 annexe A). Texte de démonstration.</p>")),
		doc(publication.PDS, "pds", "en", "PKI disclosure statement (demo)", "text/html", html("en",
			"PKI disclosure statement", "<p>The essentials of the "+org+" CA's policy for its users (EN 319 411-1 annex A). Demo text.</p>")),
		doc(publication.CGU, "cgu", "fr", "Conditions générales d'utilisation (démonstration)", "text/plain",
			"Conditions générales d'utilisation — DÉMONSTRATION\n\nLes certificats de cette démonstration n'ont aucune valeur.\n"),
		doc(publication.CGU, "cgu", "en", "Terms of use (demo)", "text/plain",
			"Terms of use — DEMO\n\nThe certificates of this demo have no value.\n"),
		doc(publication.Notice, "ouverture", "fr", "Ouverture du service de démonstration", "text/plain",
			"Le service de démonstration "+org+" est ouvert.\n"),
		doc(publication.Notice, "ouverture", "en", "The demo service is open", "text/plain",
			"The "+org+" demo service is open.\n"),
	}
}

// PublishSamples publishes, once, the sample documents through the admin
// API under dual control (PUB-4): the demo Application Administrator
// requests each version and the demo Security Officers approve it (as
// many as access.approvals asks), each logged in with their password and TOTP as a person would be. It
// returns how many versions it published; run again, it publishes none.
func PublishSamples(ctx context.Context, cfg *config.Config, c *adminapi.Client, org string) (int, error) {
	have, err := c.Documents(ctx)
	if err != nil {
		return 0, err
	}
	if len(have.Documents) > 0 {
		return 0, nil
	}
	people, err := node.DemoPeople(node.LayoutOf(cfg))
	if err != nil {
		return 0, sceau.E(sceau.NotFound, op, "the demo people", err)
	}
	requesters, _, err := loginAs(ctx, cfg, c, people, access.ApplicationAdministrator)
	if err != nil {
		return 0, err
	}
	approvers, _, err := loginAs(ctx, cfg, c, people, access.SecurityOfficer)
	if err != nil {
		return 0, err
	}
	today := time.Now().UTC().Truncate(24 * time.Hour)
	n := 0
	for _, d := range sampleDocuments(org, today) {
		r, err := requesters[0].RequestPublication(ctx, d.meta, []byte(d.content))
		if err != nil {
			return n, err
		}
		for _, a := range approvers {
			if r.Status != access.StatusPending {
				break
			}
			if r, err = a.Approve(ctx, r.ID); err != nil {
				return n, err
			}
		}
		if r.Status != access.StatusExecuted {
			return n, sceau.Errorf(sceau.Internal, op, "the publication of %s/%s/%s is %s after its approval: %s", d.meta.Kind, d.meta.Ident, d.meta.Lang, r.Status, r.Result)
		}
		n++
	}
	return n, nil
}

// loginAs opens a session for each demo person with role, and returns
// clients that present them and the persons' accounts, in the same order.
func loginAs(ctx context.Context, cfg *config.Config, c *adminapi.Client, people []node.Person, role access.Role) ([]*adminapi.Client, []string, error) {
	var out []*adminapi.Client
	var accounts []string
	for _, p := range people {
		if !slices.Contains(p.Roles, role) || p.TOTP == nil {
			continue
		}
		// The previous time step's code, which the server still accepts:
		// a code is accepted once, so the current one stays for the
		// visitor who logs in as this person right after the demo starts.
		code, err := access.TOTPCode(p.TOTP.Secret, time.Now().Add(-30*time.Second))
		if err != nil {
			return nil, nil, err
		}
		s, err := c.WithoutSession().Login(ctx, server.LoginRequest{Account: p.Account, Password: p.Password, TOTP: code})
		if err != nil {
			return nil, nil, fmt.Errorf("demo: log in as %s: %w", p.Account, err)
		}
		pc, err := adminapi.New(cfg, adminapi.Credentials{Token: s.Token})
		if err != nil {
			return nil, nil, err
		}
		out = append(out, pc)
		accounts = append(accounts, p.Account)
	}
	if len(out) == 0 {
		return nil, nil, sceau.Errorf(sceau.NotFound, op, "no demo person is a %s", role.Title())
	}
	return out, accounts, nil
}
