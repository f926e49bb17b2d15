package registration_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/sceau/sceau/internal/registration"
	"github.com/sceau/sceau/internal/sceautest"
	"github.com/sceau/sceau/internal/sceautest/ratest"
)

// TestARC1_IssuanceRefusedUnlessTheCGUAreTheCurrentOnesOfTheProfilesCP:
// with registration.cgu naming the CGU of the qualified-person policy, a
// dossier that accepted another CGU (in force, but not that policy's) is
// refused issuance with a precise error, and so is one whose accepted
// version of the right CGU was superseded since; the acceptance of the
// wrong CGU is refused at once too. Nothing is issued.
func TestARC1_IssuanceRefusedUnlessTheCGUAreTheCurrentOnesOfTheProfilesCP(t *testing.T) {
	f := newFixture(t, sceautest.OpenSQLite(t))
	ctx := context.Background()
	// Under the fixture's configuration (no registration.cgu), dossiers
	// accept cgu/sceau-test and are validated.
	other, superseded := f.validated(), f.validated()
	// The same installation, its configuration now naming the CP's CGU.
	strict := func(ident string) *registration.Service {
		return registration.New(f.db, f.h.Journal, f.h.Authority, f.h.Revocation, f.ra.Archive, f.ra.Publication,
			registration.Options{Clock: f.clock, CGU: map[string]string{"qualified-person": ident}})
	}
	before := f.snapshot()
	_, err := strict("sceau-qualified").Issue(ctx, ra1, other.ID, registration.IssueRequest{CSR: f.csr("x")})
	if err == nil || !strings.Contains(err.Error(), "CGU "+ratest.CGUID+" are not the terms of use of profile qualified-person") ||
		!strings.Contains(err.Error(), "cgu/sceau-qualified/<version>/<lang>") {
		t.Fatalf("issuance with another CP's CGU: %v", err)
	}
	// The right CGU, whose version 2 is now in force: version 1 no longer issues.
	svc := strict("sceau-test")
	f.ra.PublishCGU(t, "2", "Conditions générales d'utilisation, version 2.\n", f.clock.Now())
	_, err = svc.Issue(ctx, ra1, superseded.ID, registration.IssueRequest{CSR: f.csr("x")})
	if err == nil || !strings.Contains(err.Error(), "CGU "+ratest.CGUID+" is superseded, not the version in force") {
		t.Fatalf("issuance with a superseded version: %v", err)
	}
	after := f.snapshot()
	delete(after, "archive_items") // the publication of version 2 archives it
	delete(before, "archive_items")
	if fmt.Sprint(after) != fmt.Sprint(before) {
		t.Fatalf("a refused issuance changed %v into %v", before, after)
	}
	// Accepting another CP's CGU is refused when it is recorded.
	d, err := strict("sceau-qualified").Create(ctx, ra1, natural())
	if err != nil {
		t.Fatal(err)
	}
	doc, err := f.ra.Publication.Document(ctx, "cgu/sceau-test/2/fr")
	if err != nil {
		t.Fatal(err)
	}
	_, err = strict("sceau-qualified").AcceptCGU(ctx, ra1, d.ID, registration.NewAcceptance{Document: doc.ID, SHA256: doc.SHA256,
		How: registration.AcceptClick, ProofType: "application/json", Proof: []byte(`{"link":"one-time"}`)})
	if err == nil || !strings.Contains(err.Error(), "are not the terms of use of profile qualified-person") {
		t.Fatalf("acceptance of another CP's CGU: %v", err)
	}
}
