package server_test

import (
	"context"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sceau/sceau/internal/access"
	"github.com/sceau/sceau/internal/config"
	"github.com/sceau/sceau/internal/keys"
	"github.com/sceau/sceau/internal/node"
	"github.com/sceau/sceau/internal/registration"
	"github.com/sceau/sceau/internal/sceautest"
	"github.com/sceau/sceau/internal/sceautest/ratest"
)

// templateHierarchy is a hierarchy with the CAs and profiles of the
// shipped configuration template, eIDAS profiles included.
func templateHierarchy(t *testing.T, clock *sceautest.Clock) *sceautest.Hierarchy {
	t.Helper()
	cfg, err := config.Parse(node.RenderConfig(node.ConfigValues{Org: "Sceau Test", PublicListen: "127.0.0.1:18080",
		AdminListen: "127.0.0.1:18443", BaseURL: "http://127.0.0.1:18080"}))
	if err != nil {
		t.Fatal(err)
	}
	specs, err := node.Specs(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return sceautest.NewHierarchy(t, sceautest.OpenSQLite(t), sceautest.HierarchyOptions{Clock: clock, Specs: specs,
		BaseURL: "http://127.0.0.1:18080"})
}

// attributes is a name's attributes as a sorted list of "OID=value": of
// a name built in Go, or, parsed, of every attribute it carries (Names).
func attributes(n pkix.Name) []string {
	var out []string
	if len(n.Names) > 0 {
		for _, a := range n.Names {
			out = append(out, fmt.Sprintf("%s=%v", a.Type, a.Value))
		}
	} else {
		for _, rdn := range n.ToRDNSequence() {
			for _, a := range rdn {
				out = append(out, fmt.Sprintf("%s=%v", a.Type, a.Value))
			}
		}
	}
	slices.Sort(out)
	return out
}

// TestCA4_EveryEIDASProfileFromADossierPassesTheGateAndOpenSSL issues,
// for each eIDAS profile of the template (and the S/MIME and TLS ones),
// a certificate through a validated dossier: issuance runs the profile's
// lint gate, openssl verifies the chain, and the certificate carries only
// what the dossier holds, never the names of the CSR.
func TestCA4_EveryEIDASProfileFromADossierPassesTheGateAndOpenSSL(t *testing.T) {
	sceautest.NeedOpenSSL(t)
	clock := sceautest.NewClock(time.Now().UTC().Truncate(time.Second))
	h := templateHierarchy(t, clock)
	ra := ratest.NewRegistration(t, h, clock, registration.Options{})
	s := ra.Service
	ctx := context.Background()
	entry := access.Principal{Account: "ra1", Roles: []access.Role{access.RegistrationOfficer}}
	check := access.Principal{Account: "ra2", Roles: []access.Role{access.RegistrationOfficer}}
	expires := clock.Now().AddDate(4, 0, 0).Format(time.DateOnly)
	ev := func(doc string) registration.NewEvidence {
		return registration.NewEvidence{DocType: doc, Number: "DOC-" + doc, IssuingCountry: "FR", Expires: expires,
			Method: registration.FaceToFace, ScanType: "application/pdf", Scan: testPDF}
	}
	mandate := &registration.Mandate{Representative: "Irène Joliot-Curie", Capacity: "présidente", Reference: "PV AG 2026-06-30"}
	cases := []struct {
		nd   registration.NewDossier
		docs []string
	}{
		{registration.NewDossier{Kind: registration.Natural, Profile: "qualified-person", Subject: registration.Subject{CommonName: "Marie Curie",
			GivenName: "Marie", Surname: "Curie", SerialNumber: "IDCFR-123456789012", Country: "FR"}}, []string{registration.DocIDCard}},
		{registration.NewDossier{Kind: registration.Legal, Profile: "qualified-seal", Mandate: mandate, Subject: registration.Subject{
			CommonName: "Sceau Test Cachet", Organization: "Sceau Test SA", OrganizationIdentifier: "NTRFR-552032534", Country: "FR"}},
			[]string{registration.DocRegistryExtract, registration.DocIDCard, registration.DocMandate}},
		{registration.NewDossier{Kind: registration.Device, Profile: "qualified-website", Subject: registration.Subject{
			CommonName: "www.sceau-test.fr", Organization: "Sceau Test SA", Locality: "Paris", Country: "FR", DNSNames: []string{"www.sceau-test.fr"}}},
			[]string{registration.DocDomainControl, registration.DocRegistryExtract}},
		{registration.NewDossier{Kind: registration.Natural, Profile: "person", Subject: registration.Subject{CommonName: "Pierre Curie",
			GivenName: "Pierre", Surname: "Curie", Emails: []string{"pierre@sceau-test.fr"}}}, []string{registration.DocPassport}},
		{registration.NewDossier{Kind: registration.Device, Profile: "server", Subject: registration.Subject{DNSNames: []string{"api.sceau-test.fr"}}},
			[]string{registration.DocDomainControl}},
	}
	dir := t.TempDir()
	writePEM := func(name string, ders ...[]byte) string {
		p := filepath.Join(dir, name)
		var b []byte
		for _, d := range ders {
			b = append(b, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: d})...)
		}
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, c := range cases {
		t.Run(c.nd.Profile, func(t *testing.T) {
			nd := c.nd
			nd.CA, nd.Contact = "issuing", registration.Contact{Name: "Applicant", Email: "applicant@sceau-test.fr"}
			d, err := s.Create(ctx, entry, nd)
			if err != nil {
				t.Fatal(err)
			}
			for _, doc := range c.docs {
				if _, err := s.AddEvidence(ctx, entry, d.ID, ev(doc)); err != nil {
					t.Fatal(err)
				}
			}
			doc, _ := ra.Publication.Document(ctx, ratest.CGUID)
			if _, err := s.AcceptCGU(ctx, entry, d.ID, registration.NewAcceptance{Document: doc.ID, SHA256: doc.SHA256,
				How: registration.AcceptHandwritten, ProofType: "application/pdf", Proof: testPDF}); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Submit(ctx, entry, d.ID); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Validate(ctx, check, d.ID); err != nil {
				t.Fatal(err)
			}
			// The CSR names someone else: only its key is used.
			csr := sceautest.CSR(t, sceautest.NewKey(t, keys.ECDSAP256), "Mallory", "evil.sceau-test.fr")
			iss, err := s.Issue(ctx, check, d.ID, registration.IssueRequest{CSR: csr})
			if err != nil {
				t.Fatalf("issuance through the dossier (lint gate): %v", err)
			}
			cert := iss.Issued.Cert
			if diff := cmp.Diff(attributes(nd.Subject.Name()), attributes(cert.Subject)); diff != "" {
				t.Errorf("subject is not the dossier's (-dossier +certificate):\n%s", diff)
			}
			if !slices.Equal(cert.DNSNames, nd.Subject.DNSNames) || !slices.Equal(cert.EmailAddresses, nd.Subject.Emails) || len(cert.IPAddresses) != 0 {
				t.Errorf("names %v %v %v, want the dossier's %v %v", cert.DNSNames, cert.EmailAddresses, cert.IPAddresses, nd.Subject.DNSNames, nd.Subject.Emails)
			}
			chain := iss.Issued.Chain
			root := writePEM(nd.Profile+"-root.pem", chain[len(chain)-1].Raw)
			inter := writePEM(nd.Profile+"-issuing.pem", chain[0].Raw)
			leaf := writePEM(nd.Profile+".pem", cert.Raw)
			out, err := exec.Command("openssl", "verify", "-x509_strict", "-CAfile", root, "-untrusted", inter, leaf).CombinedOutput()
			if err != nil {
				t.Fatalf("openssl verify: %v\n%s", err, out)
			}
			if _, err := x509.ParseCertificate(cert.Raw); err != nil {
				t.Fatal(err)
			}
		})
	}
}
