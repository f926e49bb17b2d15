package server_test

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/sceau/sceau/internal/access"
	"github.com/sceau/sceau/internal/keys"
	"github.com/sceau/sceau/internal/registration"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/sceautest"
	"github.com/sceau/sceau/internal/sceautest/ratest"
	"github.com/sceau/sceau/internal/server"
)

// BenchmarkCA4_DossierIssuance measures, in the same run and through the
// admin API, plain CSR issuance (POST /api/v1/certificates) and issuance
// from pre-validated dossiers (POST /api/v1/dossiers/{id}/issue), 16
// requests in flight each, and reports both rates and their ratio
// (CA-4: the registration layer must keep ≥ 80% of plain issuance).
func BenchmarkCA4_DossierIssuance(b *testing.B) {
	ctx := context.Background()
	clock := sceautest.NewClock(time.Now().UTC().Truncate(time.Second))
	db := sceautest.OpenSQLite(b)
	h := sceautest.NewHierarchy(b, db, sceautest.HierarchyOptions{Clock: clock})
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	acc := access.New(db, h.Journal, access.Options{Clock: clock, KDF: access.KDFParams{Memory: 1024, Time: 1, Threads: 1}})
	cert := clientCert(b, "ra")
	if _, err := acc.Bootstrap(ctx, sceau.System("test"), []access.Person{{Name: "ra", Roles: []access.Role{access.RegistrationOfficer},
		CertificateOnly: true, Certificate: cert}}); err != nil {
		b.Fatal(err)
	}
	reg := ratest.NewRegistration(b, h, clock, registration.Options{})
	adm := (&server.Admin{Authority: h.Authority, Revocation: h.Revocation, Metrics: server.NewMetrics(), Log: log, MaxBodyBytes: 64 << 10,
		Access: acc, Registration: reg.Service}).Handler()
	tlsState := verified(cert)

	n := b.N
	// The same profile and the same certificate content both ways: the
	// plain CSR names what the dossier holds (personDossier), so that
	// only the registration layer's own work differs.
	subject := personDossier().Subject.Name()
	csrs := make([]string, 2*n)
	for i := range csrs {
		der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: subject,
			EmailAddresses: []string{"marie@example.org"}}, sceautest.NewKey(b, keys.ECDSAP256))
		if err != nil {
			b.Fatal(err)
		}
		csrs[i] = csrPEM(der)
	}
	// Pre-validated dossiers, entered by walker and validated by another.
	doc, _ := reg.Publication.Document(ctx, ratest.CGUID)
	entry := access.Principal{Account: "walker", Roles: []access.Role{access.RegistrationOfficer}}
	other := access.Principal{Account: "ra2", Roles: entry.Roles}
	ids := make([]int64, n)
	for i := range ids {
		d, err := reg.Service.Create(ctx, entry, personDossier())
		if err == nil {
			_, err = reg.Service.AddEvidence(ctx, entry, d.ID, evidence(clock))
		}
		if err == nil {
			_, err = reg.Service.AcceptCGU(ctx, entry, d.ID, registration.NewAcceptance{Document: doc.ID, SHA256: doc.SHA256,
				How: registration.AcceptClick, ProofType: "application/json", Proof: []byte(`{"click":1}`)})
		}
		if err == nil {
			_, err = reg.Service.Submit(ctx, entry, d.ID)
		}
		if err == nil {
			_, err = reg.Service.Validate(ctx, other, d.ID)
		}
		if err != nil {
			b.Fatal(err)
		}
		ids[i] = d.ID
	}
	run := func(body func(i int) (string, string)) func(from, to int) time.Duration {
		return func(from, to int) time.Duration {
			return inFlight(b, 16, from, to, func(_, i int) error {
				path, js := body(i)
				r := httptest.NewRequest("POST", path, strings.NewReader(js))
				r.TLS = tlsState
				w := httptest.NewRecorder()
				adm.ServeHTTP(w, r)
				if w.Code != 201 {
					return fmt.Errorf("%s: %d %s", path, w.Code, w.Body)
				}
				return nil
			})
		}
	}
	plainBody := func(i int) (string, string) {
		return "/api/v1/certificates", fmt.Sprintf(`{"ca":"issuing","profile":"person","csr":%q}`, csrs[i])
	}
	dossierBody := func(i int) (string, string) {
		return fmt.Sprintf("/api/v1/dossiers/%d/issue", ids[i]), fmt.Sprintf(`{"csr":%q}`, csrs[n+i])
	}
	alternated(b, 8, "csr", run(plainBody), "dossier", run(dossierBody))
}
