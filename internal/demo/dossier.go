package demo

import (
	"context"
	"fmt"
	"time"

	"github.com/sceau/sceau/internal/access"
	"github.com/sceau/sceau/internal/adminapi"
	"github.com/sceau/sceau/internal/config"
	"github.com/sceau/sceau/internal/node"
	"github.com/sceau/sceau/internal/publication"
	"github.com/sceau/sceau/internal/registration"
	"github.com/sceau/sceau/internal/sceau"
)

// SampleDossier is the demo's registration dossier and the officers who
// handled it.
type SampleDossier struct {
	Dossier     *registration.Dossier
	EnteredBy   string
	ValidatedBy string
}

// scanPDF stands in for a scanned record of the domain check.
var scanPDF = []byte("%PDF-1.4\n% DEMO: the record of the check that the applicant controls localhost\n%%EOF\n")

// MakeDossier makes, once, a validated device dossier for localhost under
// the internal-server profile through the admin API, the way Registration
// Officers would (CA-4): the operator (the admin client certificate's
// account, a Registration Officer) enters it with its evidence and the
// applicant's acceptance of the CGU in force, and submits it; a demo
// Registration Officer, logged in as a person, validates it (four eyes).
// Run again, it returns the validated dossier it made before, without a
// login (a TOTP code is accepted once).
func MakeDossier(ctx context.Context, cfg *config.Config, c *adminapi.Client) (*SampleDossier, error) {
	out := &SampleDossier{EnteredBy: node.OperatorAccount}
	have, err := c.Dossiers(ctx, "", 0, 100)
	if err != nil {
		return nil, err
	}
	for i := range have {
		if have[i].Profile == "internal-server" && have[i].DecidedBy != "" {
			out.Dossier, out.ValidatedBy = &have[i], have[i].DecidedBy
			return out, nil
		}
	}
	people, err := node.DemoPeople(node.LayoutOf(cfg))
	if err != nil {
		return nil, sceau.E(sceau.NotFound, op, "the demo people", err)
	}
	officers, accounts, err := loginAs(ctx, cfg, c, people, access.RegistrationOfficer)
	if err != nil {
		return nil, err
	}
	out.ValidatedBy = accounts[0]
	d, err := c.CreateDossier(ctx, registration.NewDossier{Kind: registration.Device, CA: "issuing", Profile: "internal-server",
		Subject: registration.Subject{DNSNames: []string{"localhost"}},
		Contact: registration.Contact{Name: "Demo web team", Email: "web@demo.invalid"}})
	if err != nil {
		return nil, fmt.Errorf("demo: the sample dossier: %w", err)
	}
	if _, err := c.AddEvidence(ctx, d.ID, registration.NewEvidence{DocType: registration.DocDomainControl, Number: "DEMO-DNS-1",
		IssuingCountry: "FR", Expires: time.Now().AddDate(1, 0, 0).Format(time.DateOnly), Method: registration.FaceToFace,
		ScanType: "application/pdf", Scan: scanPDF}); err != nil {
		return nil, fmt.Errorf("demo: the sample dossier's evidence: %w", err)
	}
	cgu, err := currentCGU(ctx, c)
	if err != nil {
		return nil, err
	}
	if _, err := c.AcceptCGU(ctx, d.ID, registration.NewAcceptance{Document: cgu.ID, SHA256: cgu.SHA256, How: registration.AcceptClick,
		ProofType: "application/json", Proof: []byte(`{"demo":"accepted by a click on the one-time page"}`)}); err != nil {
		return nil, fmt.Errorf("demo: the sample dossier's CGU acceptance: %w", err)
	}
	if _, err := c.DossierStep(ctx, d.ID, "submit", nil); err != nil {
		return nil, fmt.Errorf("demo: submit the sample dossier: %w", err)
	}
	if out.Dossier, err = officers[0].DossierStep(ctx, d.ID, "validate", nil); err != nil {
		return nil, fmt.Errorf("demo: validate the sample dossier: %w", err)
	}
	return out, nil
}

// currentCGU is the French CGU version the demo published.
func currentCGU(ctx context.Context, c *adminapi.Client) (*publication.Document, error) {
	l, err := c.Documents(ctx)
	if err != nil {
		return nil, err
	}
	for _, d := range l.Documents {
		if d.Kind == publication.CGU && d.Lang == "fr" && !d.Withdrawn() {
			return d, nil
		}
	}
	return nil, sceau.Errorf(sceau.NotFound, op, "no CGU version is published: the demo publishes its samples first")
}
