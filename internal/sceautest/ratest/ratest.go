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
