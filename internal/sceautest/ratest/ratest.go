// Package ratest builds a registration authority for tests (CA-4): an
// archive sealing to a fresh age identity and a publication service with a
// CGU in force, over a sceautest hierarchy. It is apart from sceautest,
// which the archive's own dependencies test with.
package ratest

import (
	"context"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/sceau/sceau/internal/access"
	"github.com/sceau/sceau/internal/archive"
	"github.com/sceau/sceau/internal/publication"
	"github.com/sceau/sceau/internal/registration"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/sceautest"
	"github.com/sceau/sceau/internal/store"
)

// Registration is a registration authority over a hierarchy, with an
// archive that seals confidential items to Identity and a publication
// service holding the CGU.
type Registration struct {
	Service     *registration.Service
	Archive     *archive.Service
	Publication *publication.Service
	Identity    *age.X25519Identity
	db          *store.DB
}

// The CGU the fixture publishes first.
const (
	CGUText = "Conditions générales d'utilisation, version 1.\n"
	CGUID   = "cgu/sceau-test/1/fr"
)

// NewRegistration builds the registration authority over h and publishes
// CGUID, effective a day before clock's time.
func NewRegistration(t testing.TB, h *sceautest.Hierarchy, clock sceau.Clock, o registration.Options) *Registration {
	t.Helper()
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	arc := archive.NewService(h.DB, h.Journal, archive.Options{Clock: clock, Recipients: []age.Recipient{id.Recipient()}})
	pub := publication.NewService(h.DB, h.Journal, publication.Options{Clock: clock})
	if o.Clock == nil {
		o.Clock = clock
	}
	if o.SiteURL == "" {
		o.SiteURL = "http://127.0.0.1:8080"
	}
	r := &Registration{Service: registration.New(h.DB, h.Journal, h.Authority, h.Revocation, arc, pub, o), Archive: arc,
		Publication: pub, Identity: id, db: h.DB}
	r.PublishCGU(t, "1", CGUText, clock.Now().Add(-24*time.Hour))
	return r
}

// PublishCGU publishes version of the test CGU, as an approved
// publication request would.
func (r *Registration) PublishCGU(t testing.TB, version, text string, effective time.Time) *publication.Document {
	t.Helper()
	ctx := context.Background()
	actor := sceau.Actor{ID: "aa", Role: string(access.ApplicationAdministrator)}
	sum, err := r.Publication.Store(ctx, actor, "text/plain", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	ch, err := publication.AddChange(publication.Meta{Kind: publication.CGU, Ident: "sceau-test", Version: version, Lang: "fr",
		Title: "CGU " + version, EffectiveAt: effective, MediaType: "text/plain"}, sum)
	if err != nil {
		t.Fatal(err)
	}
	r.apply(t, actor, ch)
	d, err := r.Publication.Document(ctx, ch.Document)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// WithdrawCGU withdraws a published version.
func (r *Registration) WithdrawCGU(t testing.TB, id string) {
	t.Helper()
	ch, err := publication.WithdrawChange(id, "replaced after a legal review")
	if err != nil {
		t.Fatal(err)
	}
	r.apply(t, sceau.Actor{ID: "aa", Role: string(access.ApplicationAdministrator)}, ch)
}

func (r *Registration) apply(t testing.TB, actor sceau.Actor, ch publication.Change) {
	t.Helper()
	if err := r.db.InTx(context.Background(), func(tx *store.Tx) error {
		_, err := r.Publication.Apply(context.Background(), tx, actor, ch, "test-approval")
		return err
	}); err != nil {
		t.Fatal(err)
	}
}

// ScanPDF stands in for a scanned piece of evidence.
var ScanPDF = []byte("%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")

// SubmittedDevice is a device (website) dossier of CA issuing, profile
// server, for names: entered by entry with a domain-control record and
// the acceptance of the CGU in force, and submitted (CA-4).
func (r *Registration) SubmittedDevice(t testing.TB, entry access.Principal, names ...string) *registration.Dossier {
	t.Helper()
	ctx := context.Background()
	s := r.Service
	d, err := s.Create(ctx, entry, registration.NewDossier{Kind: registration.Device, CA: "issuing", Profile: "server",
		Subject: registration.Subject{DNSNames: names}, Contact: registration.Contact{Name: "Web team", Email: "web@sceau-test.fr"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddEvidence(ctx, entry, d.ID, registration.NewEvidence{DocType: registration.DocDomainControl, Number: "WHOIS-1",
		IssuingCountry: "FR", Expires: time.Now().AddDate(1, 0, 0).Format(time.DateOnly), Method: registration.FaceToFace,
		ScanType: "application/pdf", Scan: ScanPDF}); err != nil {
		t.Fatal(err)
	}
	doc, err := r.Publication.Document(ctx, CGUID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.AcceptCGU(ctx, entry, d.ID, registration.NewAcceptance{Document: doc.ID, SHA256: doc.SHA256,
		How: registration.AcceptClick, ProofType: "application/json", Proof: []byte(`{"ip":"192.0.2.7"}`)}); err != nil {
		t.Fatal(err)
	}
	if d, err = s.Submit(ctx, entry, d.ID); err != nil {
		t.Fatal(err)
	}
	return d
}

// ValidatedDevice is SubmittedDevice validated by check, another
// Registration Officer (four eyes).
func (r *Registration) ValidatedDevice(t testing.TB, entry, check access.Principal, names ...string) *registration.Dossier {
	t.Helper()
	d, err := r.Service.Validate(context.Background(), check, r.SubmittedDevice(t, entry, names...).ID)
	if err != nil {
		t.Fatal(err)
	}
	return d
}
