package sceautest

import (
	"context"
	"crypto/x509"
	"encoding/asn1"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/sceau/sceau/internal/access"
	"github.com/sceau/sceau/internal/archive"
	"github.com/sceau/sceau/internal/ca"
	"github.com/sceau/sceau/internal/etsi"
	"github.com/sceau/sceau/internal/keys"
	"github.com/sceau/sceau/internal/publication"
	"github.com/sceau/sceau/internal/registration"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/store"
)

// RegistrationSpecs are Specs with a qualified natural person profile
// (QCP-n, EN 319 412-2) on the issuing CA, which takes anyPolicy for it.
func RegistrationSpecs() []ca.Spec {
	specs := Specs()
	specs[1].Policies = append(specs[1].Policies, ca.Policy{OID: asn1.ObjectIdentifier{2, 5, 29, 32, 0}})
	specs[1].Profiles = append(specs[1].Profiles, ca.Profile{Name: "qualified-person", KeyUsage: x509.KeyUsageContentCommitment,
		Policies: []ca.Policy{{OID: etsi.OIDQCPNatural}, {OID: TestPolicyOID}}, KeyTypes: []keys.Type{keys.ECDSAP256, keys.RSA2048},
		Validity: 365 * 24 * time.Hour, MaxValidity: 3 * 365 * 24 * time.Hour, Lints: []string{"rfc5280", "etsi"},
		ETSI: &etsi.Profile{Kind: etsi.NaturalPerson, Usage: etsi.Signature, Qualified: true, Policy: etsi.OIDQCPNatural,
			SerialNumberSemantics: true, RetentionYears: 10,
			PDS: []etsi.PDSLocation{{URL: "https://pki.example.fr/pds/en.html", Language: "en"}, {URL: "https://pki.example.fr/pds/fr.html", Language: "fr"}}}})
	return specs
}

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
func NewRegistration(t testing.TB, h *Hierarchy, clock sceau.Clock, o registration.Options) *Registration {
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
