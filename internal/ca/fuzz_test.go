package ca_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"testing"

	"github.com/sceau/sceau/internal/ca"
	"github.com/sceau/sceau/internal/keys"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/sceautest"
)

// checkRefusal fails unless err is nil or a *sceau.Error saying the input
// is at fault: outside input never causes an Internal error.
func checkRefusal(t *testing.T, what string, err error) {
	t.Helper()
	if err == nil {
		return
	}
	var se *sceau.Error
	if !errors.As(err, &se) {
		t.Fatalf("%s: %T %v, want a *sceau.Error", what, err, err)
	}
	if se.Kind != sceau.Invalid && se.Kind != sceau.NotFound {
		t.Fatalf("%s: kind %s (%v), want invalid or not found", what, se.Kind, err)
	}
}

// CA-2: PKCS#10 requests are outside input. ParseCSR and Prepare never
// panic on them, and refuse anything wrong as the requester's fault.
// Inputs that parse but fail their signature are also signed again with a
// key of ours, so that the checks behind proof of possession (subject,
// names, extensions, profile, lints) see fuzzed content too; what Prepare
// accepts, Issue must sign, as an end-entity certificate of the issuing
// CA. The seed corpus is in testdata/fuzz/FuzzCA2_CSRIntake.
func FuzzCA2_CSRIntake(f *testing.F) {
	key := sceautest.NewKey(f, keys.ECDSAP256)
	valid := sceautest.CSR(f, key, "fuzz.example", "fuzz.example", "www.fuzz.example")
	broken := bytes.Clone(valid)
	broken[len(broken)-3] ^= 0x55 // in the signature
	f.Add(valid)
	f.Add(broken)
	f.Add(valid[:len(valid)/2])
	f.Add(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: valid}))
	f.Add([]byte{})

	// One hierarchy per fuzzing process, before f.Fuzz: every input runs
	// against the same CAs and database.
	h := sceautest.NewHierarchy(f, sceautest.OpenSQLite(f), sceautest.HierarchyOptions{})
	issuing, err := h.Authority.CA("issuing")
	if err != nil {
		f.Fatal(err)
	}
	resigner := sceautest.NewKey(f, keys.ECDSAP256)
	actor := sceau.System("fuzz")

	f.Fuzz(func(t *testing.T, der []byte) {
		ctx := context.Background()
		csr, err := ca.ParseCSR(der)
		checkRefusal(t, "ParseCSR", err)
		if err == nil && csr == nil {
			t.Fatal("ParseCSR returned neither a request nor an error")
		}
		inputs := [][]byte{der}
		if err != nil {
			if parsed, perr := x509.ParseCertificateRequest(der); perr == nil {
				tmpl := &x509.CertificateRequest{RawSubject: parsed.RawSubject, ExtraExtensions: parsed.Extensions}
				if again, err := x509.CreateCertificateRequest(rand.Reader, tmpl, resigner); err == nil {
					inputs = append(inputs, again)
				}
			}
		}
		for i, in := range inputs {
			for _, profile := range []string{"server", "person"} {
				p, err := h.Authority.Prepare(ctx, actor, ca.Request{CA: "issuing", Profile: profile, CSR: in})
				checkRefusal(t, "Prepare("+profile+")", err)
				if err != nil {
					t.Logf("input %d, %s: refused: %v", i, profile, err)
					continue
				}
				if p == nil || p.Serial() == "" {
					t.Fatalf("Prepare(%s) returned no reservation and no error", profile)
				}
				// Accepted and recorded: signing it must work, and the
				// signed certificate is the linted one.
				iss, err := h.Authority.Issue(ctx, p)
				if err != nil {
					t.Fatalf("Issue(%s) of an accepted request: %v", profile, err)
				}
				if iss.Serial != p.Serial() {
					t.Fatalf("Issue(%s): serial %s, reserved %s", profile, iss.Serial, p.Serial())
				}
				if iss.Cert.IsCA || iss.Cert.CheckSignatureFrom(issuing.Cert) != nil {
					t.Fatalf("Issue(%s): a CA certificate or one the issuing CA did not sign", profile)
				}
				t.Logf("input %d, %s: issued %s", i, profile, iss.Serial)
			}
		}
	})
}
