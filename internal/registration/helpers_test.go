package registration_test

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"testing"
	"time"

	"github.com/sceau/sceau/internal/access"
	"github.com/sceau/sceau/internal/audit"
	"github.com/sceau/sceau/internal/keys"
	"github.com/sceau/sceau/internal/registration"
	"github.com/sceau/sceau/internal/sceautest"
	"github.com/sceau/sceau/internal/sceautest/ratest"
	"github.com/sceau/sceau/internal/store"
)

// The people of the tests: two Registration & Revocation Officers, an
// Auditor and a Security Officer.
var (
	ra1     = access.Principal{Account: "ra1", Roles: []access.Role{access.RegistrationOfficer}}
	ra2     = access.Principal{Account: "ra2", Roles: []access.Role{access.RegistrationOfficer}}
	auditor = access.Principal{Account: "au", Roles: []access.Role{access.SystemAuditor}}
	so      = access.Principal{Account: "so", Roles: []access.Role{access.SecurityOfficer}}
)

// A minimal PDF and PNG, as their content sniffs.
var (
	pdfScan = []byte("%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")
	pngScan = append([]byte("\x89PNG\r\n\x1a\n"), make([]byte, 64)...)
)

type fixture struct {
	t     testing.TB
	db    *store.DB
	clock *sceautest.Clock
	h     *sceautest.Hierarchy
	ra    *ratest.Registration
	svc   *registration.Service
}

func newFixture(t testing.TB, db *store.DB) *fixture {
	t.Helper()
	clock := sceautest.NewClock(time.Now().UTC().Truncate(time.Second))
	h := sceautest.NewHierarchy(t, db, sceautest.HierarchyOptions{Clock: clock, Specs: sceautest.RegistrationSpecs()})
	ra := ratest.NewRegistration(t, h, clock, registration.Options{})
	return &fixture{t: t, db: db, clock: clock, h: h, ra: ra, svc: ra.Service}
}

// natural is a dossier for Marie Curie under the qualified natural person profile.
func natural() registration.NewDossier {
	return registration.NewDossier{Kind: registration.Natural, CA: "issuing", Profile: "qualified-person",
		Subject: registration.Subject{CommonName: "Marie Curie", GivenName: "Marie", Surname: "Curie", SerialNumber: "IDCFR-123456789012",
			Country: "FR"},
		Contact: registration.Contact{Name: "Marie Curie", Email: "marie@example.org", Phone: "+33 1 23 45 67 89"}}
}

func idCard(expires string) registration.NewEvidence {
	return registration.NewEvidence{DocType: registration.DocIDCard, Number: "123456789012", IssuingCountry: "FR", Expires: expires,
		Method: registration.FaceToFace, ScanType: "application/pdf", Scan: pdfScan}
}

func (f *fixture) future() string { return f.clock.Now().AddDate(3, 0, 0).Format(time.DateOnly) }

// accept records a click acceptance of the fixture's CGU.
func (f *fixture) accept(id int64) *registration.CGU {
	f.t.Helper()
	doc, err := f.ra.Publication.Document(context.Background(), ratest.CGUID)
	if err != nil {
		f.t.Fatal(err)
	}
	c, err := f.svc.AcceptCGU(context.Background(), ra1, id, registration.NewAcceptance{Document: doc.ID, SHA256: doc.SHA256,
		How: registration.AcceptClick, ProofType: "application/json", Proof: []byte(`{"link":"one-time","ip":"192.0.2.7"}`)})
	if err != nil {
		f.t.Fatalf("AcceptCGU: %v", err)
	}
	return c
}

// submitted is a complete natural-person dossier entered and submitted by ra1.
func (f *fixture) submitted() *registration.Dossier {
	f.t.Helper()
	ctx := context.Background()
	d, err := f.svc.Create(ctx, ra1, natural())
	if err != nil {
		f.t.Fatalf("Create: %v", err)
	}
	if _, err := f.svc.AddEvidence(ctx, ra1, d.ID, idCard(f.future())); err != nil {
		f.t.Fatalf("AddEvidence: %v", err)
	}
	f.accept(d.ID)
	if d, err = f.svc.Submit(ctx, ra1, d.ID); err != nil {
		f.t.Fatalf("Submit: %v", err)
	}
	return d
}

// validated is a dossier validated by ra2.
func (f *fixture) validated() *registration.Dossier {
	f.t.Helper()
	d, err := f.svc.Validate(context.Background(), ra2, f.submitted().ID)
	if err != nil {
		f.t.Fatalf("Validate: %v", err)
	}
	return d
}

func (f *fixture) csr(cn string) []byte {
	return sceautest.CSR(f.t, sceautest.NewKey(f.t, keys.ECDSAP256), cn)
}

// events returns the journal's events of the given actions.
func (f *fixture) events(actions ...string) []audit.Record {
	f.t.Helper()
	recs, err := audit.Read(context.Background(), f.db, 0, 1000000)
	if err != nil {
		f.t.Fatal(err)
	}
	var out []audit.Record
	for _, r := range recs {
		for _, a := range actions {
			if r.Action == a {
				out = append(out, r)
			}
		}
	}
	return out
}

// snapshot counts what the registration tables, the archive and the
// journal hold, to check that a refusal changes nothing but its own
// journal entry.
func (f *fixture) snapshot() map[string]int {
	f.t.Helper()
	out := map[string]int{}
	for _, table := range []string{"dossiers", "dossier_evidence", "cgu_acceptances", "revocation_requests", "archive_items", "certificates"} {
		var n int
		if err := f.db.QueryRowContext(context.Background(), "SELECT COUNT(*) FROM "+table).Scan(&n); err != nil {
			f.t.Fatal(err)
		}
		out[table] = n
	}
	rows, err := f.db.QueryContext(context.Background(), "SELECT id, state FROM dossiers ORDER BY id")
	if err != nil {
		f.t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var state string
		if err := rows.Scan(&id, &state); err != nil {
			f.t.Fatal(err)
		}
		out[fmt.Sprintf("dossier %d %s", id, state)] = 1
	}
	return out
}

func parsePEM(t testing.TB, der []byte) *x509.Certificate {
	t.Helper()
	if b, _ := pem.Decode(der); b != nil {
		der = b.Bytes
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
