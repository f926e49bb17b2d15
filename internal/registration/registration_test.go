package registration_test

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sceau/sceau/internal/archive"
	"github.com/sceau/sceau/internal/audit"
	"github.com/sceau/sceau/internal/etsi"
	"github.com/sceau/sceau/internal/registration"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/sceautest"
	"github.com/sceau/sceau/internal/sceautest/ratest"
	"github.com/sceau/sceau/internal/store"
)

// TestCA4_NaturalPersonFromDossierToRevocation walks the whole path in
// the domain: dossier, evidence (its scan sealed in the archive), CGU
// acceptance (its proof archived), validation by another officer,
// issuance from the dossier alone, delivery, the holder's revocation
// request with the secret, its processing by a Revocation Officer.
func TestCA4_NaturalPersonFromDossierToRevocation(t *testing.T) {
	sceautest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		d, err := f.svc.Create(ctx, ra1, natural())
		if err != nil {
			t.Fatal(err)
		}
		if d.State != registration.Draft || d.CreatedBy != "ra1" {
			t.Fatalf("new dossier: %+v", d)
		}
		ev, err := f.svc.AddEvidence(ctx, ra1, d.ID, idCard(f.future()))
		if err != nil {
			t.Fatal(err)
		}
		// ARC-3: the scan is in the archive, confidential, sealed.
		it, err := f.ra.Archive.Item(ctx, ev.ScanLeaf)
		if err != nil {
			t.Fatal(err)
		}
		if it.Kind != registration.KindEvidence || it.Class != archive.Confidential || it.SHA256 != ev.ScanSHA256 || it.Object == it.SHA256 {
			t.Fatalf("evidence item: %+v", it)
		}
		c := f.accept(d.ID)
		it, err = f.ra.Archive.Item(ctx, c.ProofLeaf)
		if err != nil {
			t.Fatal(err)
		}
		if it.Kind != registration.KindCGU || !strings.HasSuffix(c.URL, "/documents/"+ratest.CGUID+".txt") {
			t.Fatalf("acceptance %+v, item %+v", c, it)
		}
		if _, err := f.svc.Submit(ctx, ra1, d.ID); err != nil {
			t.Fatal(err)
		}
		if d, err = f.svc.Validate(ctx, ra2, d.ID); err != nil {
			t.Fatal(err)
		}
		iss, err := f.svc.Issue(ctx, ra2, d.ID, registration.IssueRequest{CSR: f.csr("Mallory Evil")})
		if err != nil {
			t.Fatal(err)
		}
		// CA-4: the certificate holds the dossier's subject, not the CSR's.
		cert := iss.Issued.Cert
		if cert.Subject.CommonName != "Marie Curie" || cert.Subject.SerialNumber != "IDCFR-123456789012" {
			t.Fatalf("subject %s", cert.Subject)
		}
		got, err := f.svc.Dossier(ctx, auditor, d.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.State != registration.Issued || got.Serial != iss.Issued.Serial || got.DecidedBy != "ra2" || got.CGU == nil || len(got.Evidence) != 1 {
			t.Fatalf("issued dossier: %+v", got)
		}
		if _, err := f.svc.Deliver(ctx, ra2, d.ID, "PKCS#10 answer sent by e-mail"); err != nil {
			t.Fatal(err)
		}
		rq, err := f.svc.RequestByHolder(ctx, iss.Issued.Serial, iss.RevocationSecret, "keyCompromise", "laptop stolen")
		if err != nil {
			t.Fatal(err)
		}
		if rq.Source != registration.FromHolder || rq.State != "received" || !rq.DueAt.After(rq.ReceivedAt) {
			t.Fatalf("request: %+v", rq)
		}
		done, err := f.svc.Process(ctx, ra1, rq.ID, true, "", "")
		if err != nil {
			t.Fatal(err)
		}
		if done.State != "revoked" || done.DoneAt == nil || done.Overdue {
			t.Fatalf("processed: %+v", done)
		}
		st, err := f.h.Revocation.Lookup(ctx, db, iss.Issued.Serial)
		if err != nil {
			t.Fatal(err)
		}
		if !st.Revoked || st.Reason != 1 {
			t.Fatalf("status %+v", st)
		}
		// ROLE-5: each step is journaled under the account and its role.
		want := []string{audit.ActionDossierCreated, audit.ActionDossierEvidence, audit.ActionCGUAccepted, audit.ActionDossierSubmitted,
			audit.ActionDossierValidated, audit.ActionDossierIssued, audit.ActionDossierDelivered,
			audit.ActionRevocationRequestReceived, audit.ActionRevocationRequestProcessed}
		recs := f.events(want...)
		var seen []string
		for _, r := range recs {
			seen = append(seen, r.Action)
			if r.Action != audit.ActionRevocationRequestReceived && (r.Role != "registration-officer" || r.Actor == "") {
				t.Errorf("%s by %q as %q", r.Action, r.Actor, r.Role)
			}
		}
		if diff := cmp.Diff(want, seen); diff != "" {
			t.Errorf("journal (-want +got):\n%s", diff)
		}
		for _, r := range recs {
			if r.Action == audit.ActionDossierValidated && r.Actor != "ra2" {
				t.Errorf("validated by %s", r.Actor)
			}
		}
	})
}

// TestCA4_FourEyesValidation: the officer who entered a dossier cannot
// validate or reject it; a person without the Registration Officer role
// cannot either; nothing changes on a refusal.
func TestCA4_FourEyesValidation(t *testing.T) {
	f := newFixture(t, sceautest.OpenSQLite(t))
	ctx := context.Background()
	d := f.submitted()
	before := f.snapshot()
	for _, c := range []struct {
		name string
		do   func() error
		want string
	}{
		{"the creator validates", func() error { _, err := f.svc.Validate(ctx, ra1, d.ID); return err }, "four eyes"},
		{"the creator rejects", func() error { _, err := f.svc.Reject(ctx, ra1, d.ID, "no"); return err }, "four eyes"},
		{"an auditor validates", func() error { _, err := f.svc.Validate(ctx, auditor, d.ID); return err }, "needs the role"},
		{"a security officer validates", func() error { _, err := f.svc.Validate(ctx, so, d.ID); return err }, "needs the role"},
	} {
		err := c.do()
		if sceau.KindOf(err) != sceau.Denied || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want Denied with %q", c.name, err, c.want)
		}
	}
	if diff := cmp.Diff(before, f.snapshot()); diff != "" {
		t.Errorf("a refusal changed something (-before +after):\n%s", diff)
	}
	if _, err := f.svc.Validate(ctx, ra2, d.ID); err != nil {
		t.Fatalf("another officer: %v", err)
	}
}

// TestCA4_BadInputChangesNothing: each bad input gets a precise error and
// changes nothing (a wrong revocation secret is journaled and counted).
func TestCA4_BadInputChangesNothing(t *testing.T) {
	f := newFixture(t, sceautest.OpenSQLite(t))
	ctx := context.Background()
	draft, err := f.svc.Create(ctx, ra1, natural())
	if err != nil {
		t.Fatal(err)
	}
	valid := f.validated()
	past := f.clock.Now().AddDate(0, -1, 0).Format("2006-01-02")
	big := append([]byte("%PDF-1.4\n"), make([]byte, f.svc.MaxScanBytes())...)
	cases := []struct {
		name string
		do   func() error
		want string
	}{
		{"missing field", func() error {
			nd := natural()
			nd.Subject.GivenName = ""
			_, err := f.svc.Create(ctx, ra1, nd)
			return err
		}, "needs the field given_name"},
		{"wrong organizationIdentifier scheme", func() error {
			nd := natural()
			nd.Kind, nd.Subject.Organization, nd.Subject.OrganizationIdentifier = registration.NaturalOfLegal, "Curie SA", "XYZFR-552032534"
			_, err := f.svc.Create(ctx, ra1, nd)
			return err
		}, "organizationIdentifier"},
		{"wrong check digit", func() error {
			nd := natural()
			nd.Kind, nd.Subject.Organization, nd.Subject.OrganizationIdentifier = registration.NaturalOfLegal, "Curie SA", "NTRFR-552032535"
			_, err := f.svc.Create(ctx, ra1, nd)
			return err
		}, etsi.ClauseLegalSemantics},
		{"expired identity document", func() error {
			_, err := f.svc.AddEvidence(ctx, ra1, draft.ID, idCard(past))
			return err
		}, "expired on " + past},
		{"attachment not its declared type", func() error {
			e := idCard(f.future())
			e.ScanType = "image/png"
			_, err := f.svc.AddEvidence(ctx, ra1, draft.ID, e)
			return err
		}, "declared image/png but its content is application/pdf"},
		{"attachment too big", func() error {
			e := idCard(f.future())
			e.Scan = big
			_, err := f.svc.AddEvidence(ctx, ra1, draft.ID, e)
			return err
		}, "more than the"},
		{"submission without evidence or CGU", func() error {
			_, err := f.svc.Submit(ctx, ra1, draft.ID)
			return err
		}, "needs evidence"},
		{"issuance from an unvalidated dossier", func() error {
			_, err := f.svc.Issue(ctx, ra2, draft.ID, registration.IssueRequest{CSR: f.csr("x")})
			return err
		}, "only a validated dossier is issued"},
		{"issuance under another profile", func() error {
			_, err := f.svc.Issue(ctx, ra2, valid.ID, registration.IssueRequest{Profile: "person", CSR: f.csr("x")})
			return err
		}, `validated for profile "qualified-person" and cannot be issued under "person"`},
		{"acceptance of another text", func() error {
			_, err := f.svc.AcceptCGU(ctx, ra1, draft.ID, registration.NewAcceptance{Document: ratest.CGUID, SHA256: strings.Repeat("0", 64),
				How: registration.AcceptClick, ProofType: "application/json", Proof: []byte("{}")})
			return err
		}, "accepted another text"},
	}
	for _, c := range cases {
		before := f.snapshot()
		err := c.do()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error with %q", c.name, err, c.want)
		}
		if diff := cmp.Diff(before, f.snapshot()); diff != "" {
			t.Errorf("%s changed something (-before +after):\n%s", c.name, diff)
		}
	}

	// A withdrawn CGU version: refused at acceptance and at issuance.
	f.ra.WithdrawCGU(t, ratest.CGUID)
	before := f.snapshot()
	if _, err := f.svc.Issue(ctx, ra2, valid.ID, registration.IssueRequest{CSR: f.csr("x")}); err == nil || !strings.Contains(err.Error(), "was withdrawn") {
		t.Errorf("issuance with a withdrawn CGU: %v", err)
	}
	if _, err := f.svc.AcceptCGU(ctx, ra1, draft.ID, registration.NewAcceptance{Document: ratest.CGUID, SHA256: strings.Repeat("0", 64),
		How: registration.AcceptClick, ProofType: "application/json", Proof: []byte("{}")}); err == nil || !strings.Contains(err.Error(), "was withdrawn") {
		t.Errorf("acceptance of a withdrawn CGU: %v", err)
	}
	if diff := cmp.Diff(before, f.snapshot()); diff != "" {
		t.Errorf("a withdrawn CGU changed something:\n%s", diff)
	}
}

// TestCA4_WrongRevocationSecretIsJournaledAndRateLimited: a wrong secret
// is refused and journaled; after SecretAttempts in a row even the right
// one waits for the lockout.
func TestCA4_WrongRevocationSecretIsJournaledAndRateLimited(t *testing.T) {
	f := newFixture(t, sceautest.OpenSQLite(t))
	ctx := context.Background()
	iss, err := f.svc.Issue(ctx, ra2, f.validated().ID, registration.IssueRequest{CSR: f.csr("x")})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 5; i++ {
		_, err := f.svc.RequestByHolder(ctx, iss.Issued.Serial, "WRONG", "keyCompromise", "")
		if sceau.KindOf(err) != sceau.Denied {
			t.Fatalf("attempt %d: %v", i, err)
		}
	}
	_, err = f.svc.RequestByHolder(ctx, iss.Issued.Serial, iss.RevocationSecret, "keyCompromise", "")
	if sceau.KindOf(err) != sceau.Unavailable || !strings.Contains(err.Error(), "too many wrong revocation secrets") {
		t.Fatalf("locked: %v", err)
	}
	if n := len(f.events(audit.ActionRevocationSecretRefused)); n != 6 {
		t.Errorf("%d refusals journaled, want 6", n)
	}
	var n int
	_ = f.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM revocation_requests").Scan(&n)
	if n != 0 {
		t.Errorf("%d requests recorded", n)
	}
	f.clock.Advance(16 * 60 * 1e9)
	if _, err := f.svc.RequestByHolder(ctx, iss.Issued.Serial, iss.RevocationSecret, "keyCompromise", ""); err != nil {
		t.Fatalf("after the lockout: %v", err)
	}
}

// TestCA4_DossierIssuedOnce: a second issuance of the same dossier is
// refused before anything is reserved or signed.
func TestCA4_DossierIssuedOnce(t *testing.T) {
	f := newFixture(t, sceautest.OpenSQLite(t))
	ctx := context.Background()
	d := f.validated()
	if _, err := f.svc.Issue(ctx, ra2, d.ID, registration.IssueRequest{CSR: f.csr("x")}); err != nil {
		t.Fatal(err)
	}
	before := f.snapshot()
	_, err := f.svc.Issue(ctx, ra2, d.ID, registration.IssueRequest{CSR: f.csr("x")})
	if err == nil || !strings.Contains(err.Error(), "is issued") {
		t.Fatalf("second issuance: %v", err)
	}
	if diff := cmp.Diff(before, f.snapshot()); diff != "" {
		t.Errorf("changed:\n%s", diff)
	}
}

// TestCA4_PKCS12ThroughAOneTimeLink: the PKCS#12 is fetched once, the
// dossier is then delivered, and the link never works again.
func TestCA4_PKCS12ThroughAOneTimeLink(t *testing.T) {
	f := newFixture(t, sceautest.OpenSQLite(t))
	ctx := context.Background()
	d := f.validated()
	iss, err := f.svc.Issue(ctx, ra2, d.ID, registration.IssueRequest{KeyType: "ecdsa-p256", Link: true})
	if err != nil {
		t.Fatal(err)
	}
	if iss.Link == "" || iss.PKCS12 != nil || iss.Password == "" {
		t.Fatalf("issuance: link %q, %d bytes, password set %v", iss.Link, len(iss.PKCS12), iss.Password != "")
	}
	pfx, err := f.svc.Download(ctx, iss.Link)
	if err != nil || len(pfx) == 0 {
		t.Fatalf("download: %v", err)
	}
	if _, err := f.svc.Download(ctx, iss.Link); sceau.KindOf(err) != sceau.Conflict {
		t.Fatalf("second download: %v", err)
	}
	got, _ := f.svc.Dossier(ctx, ra1, d.ID)
	if got.State != registration.Delivered || got.Delivery != "pkcs12-link" {
		t.Fatalf("dossier %+v", got)
	}
	var content []byte
	_ = f.db.QueryRowContext(ctx, "SELECT content FROM download_links").Scan(&content)
	if content != nil {
		t.Errorf("the PKCS#12 is still stored after its download (KEY-3)")
	}
	if len(f.events(audit.ActionPKCS12Downloaded)) != 1 {
		t.Error("the download is not journaled")
	}
}

// TestCA4_NothingIsDeleted: the database refuses to delete a dossier or a
// revocation request, or to rewrite evidence.
func TestCA4_NothingIsDeleted(t *testing.T) {
	sceautest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		d := f.validated()
		iss, err := f.svc.Issue(ctx, ra2, d.ID, registration.IssueRequest{CSR: f.csr("x")})
		if err != nil {
			t.Fatal(err)
		}
		first, err := f.svc.RequestByOfficer(ctx, ra1, registration.NewRequest{Serial: iss.Issued.Serial, Reason: "superseded"})
		if err != nil {
			t.Fatal(err)
		}
		// A second request for a revoked certificate is done at once.
		rq, err := f.svc.RequestByOfficer(ctx, ra1, registration.NewRequest{Serial: iss.Issued.Serial, Reason: "keyCompromise"})
		if err != nil {
			t.Fatal(err)
		}
		if done, err := f.svc.Process(ctx, ra2, first.ID, true, "", ""); err != nil || done.State != "revoked" {
			t.Fatalf("first request: %v", err)
		}
		if done, err := f.svc.Process(ctx, ra2, rq.ID, true, "", ""); err != nil || !strings.HasPrefix(done.Decision, "already revoked") {
			t.Fatalf("second request: %+v, %v", done, err)
		}
		for _, q := range []string{"DELETE FROM dossiers", "DELETE FROM dossier_evidence", "UPDATE dossier_evidence SET doc_number = 'x'",
			"DELETE FROM cgu_acceptances", "DELETE FROM revocation_requests"} {
			if _, err := db.ExecContext(ctx, q); err == nil {
				t.Errorf("%s: accepted", q)
			}
		}
		if _, err := f.svc.Dossier(ctx, ra1, d.ID); err != nil {
			t.Fatal(err)
		}
	})
}

// TestCA4_DraftUpdateAndRejection: a draft is corrected, then a submitted
// dossier is rejected by another officer with a reason, and stays
// rejected: it cannot be issued.
func TestCA4_DraftUpdateAndRejection(t *testing.T) {
	f := newFixture(t, sceautest.OpenSQLite(t))
	ctx := context.Background()
	d, err := f.svc.Create(ctx, ra1, natural())
	if err != nil {
		t.Fatal(err)
	}
	nd := natural()
	nd.Subject.CommonName = "Marie Skłodowska-Curie"
	if d, err = f.svc.Update(ctx, ra1, d.ID, nd); err != nil || d.Subject.CommonName != nd.Subject.CommonName {
		t.Fatalf("Update: %v", err)
	}
	d = f.submitted()
	if _, err := f.svc.Reject(ctx, ra2, d.ID, ""); err == nil {
		t.Error("a rejection without a reason is accepted")
	}
	if d, err = f.svc.Reject(ctx, ra2, d.ID, "the identity card photo does not match"); err != nil || d.State != registration.Rejected {
		t.Fatalf("Reject: %v", err)
	}
	if _, err := f.svc.Issue(ctx, ra2, d.ID, registration.IssueRequest{CSR: f.csr("x")}); err == nil {
		t.Error("a rejected dossier is issued")
	}
	if len(f.events(audit.ActionDossierUpdated)) != 1 || len(f.events(audit.ActionDossierRejected)) != 1 {
		t.Error("the update or the rejection is not journaled")
	}
}
