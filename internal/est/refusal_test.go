package est_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sceau/sceau/internal/audit"
	"github.com/sceau/sceau/internal/est"
	"github.com/sceau/sceau/internal/revocation"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/sceautest"
	"github.com/sceau/sceau/internal/store"
)

// TestCA4_ESTRefusals: a wrong password, an unknown user, no
// authentication, a credential for a dossier not validated, a CSR naming
// what the dossier does not hold, a malformed CSR, an oversized body, a
// revoked credential, and re-enrollments without a client certificate,
// with a foreign one, a revoked one and an expired one are each refused
// with their status and a clear message (curl, openssl); nothing is
// issued, and each refusal is journaled (est.refused) with its reason,
// never the password.
func TestCA4_ESTRefusals(t *testing.T) {
	sceautest.NeedOpenSSL(t)
	sceautest.LookPath(t, "curl", "apt-get install curl")
	sceautest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		cred, err := f.svc.CreateCredential(ctx, ra1, f.dossier.ID)
		if err != nil {
			t.Fatal(err)
		}
		// A certificate to re-enroll with, obtained first.
		f.newCSR("good", "/CN=app.sceau-test.fr", "DNS:app.sceau-test.fr")
		basic := []string{"--user", cred.Username + ":" + cred.Password}
		if status, body := f.curl("good.p7", append(basic, "-H", "Content-Type: application/pkcs10", "--data-binary", "@good.b64",
			f.url("simpleenroll"))...); status != "200" {
			t.Fatalf("simpleenroll: %s %s", status, body)
		}
		f.p7ToPEM("good.p7", "good.pem")
		issued := f.count("certificates")
		enrolled := f.count("est_enrollments")

		// The non-validated dossier gets no credential.
		draft := f.submitted("draft.sceau-test.fr")
		if _, err := f.svc.CreateCredential(ctx, ra1, draft.ID); sceau.KindOf(err) != sceau.Invalid ||
			!strings.Contains(err.Error(), "validated dossier only") {
			t.Errorf("a credential for a submitted dossier: %v", err)
		}
		if n := f.count("est_credentials"); n != 1 {
			t.Errorf("%d credentials", n)
		}

		write := func(name string, b []byte) {
			if err := os.WriteFile(filepath.Join(f.dir, name), b, 0o600); err != nil {
				t.Fatal(err)
			}
		}
		f.newCSR("evil", "/CN=app.sceau-test.fr", "DNS:app.sceau-test.fr", "DNS:evil.example.org")
		f.newCSR("evilcn", "/CN=evil.example.org/O=Evil")
		write("garbage.b64", []byte("bm90IGEgY2VydGlmaWNhdGUgcmVxdWVzdA==\n"))
		write("notb64.txt", []byte("%%% not base64 %%%"))
		write("big.b64", []byte(strings.Repeat("QUFB", 5<<10)))
		// A certificate this server did not issue, with its key.
		f.run("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", "foreign.key",
			"-out", "foreign.pem", "-subj", "/CN=app.sceau-test.fr", "-days", "30")
		f.newCSR("renew", "/CN=app.sceau-test.fr")
		post := func(op, file string, auth ...string) []string {
			return append(append(auth, "-H", "Content-Type: application/pkcs10", "--data-binary", "@"+file), f.url(op))
		}
		cases := []struct {
			name   string
			args   []string
			status string
			msg    string // in the answer
			reason string // in the journal; "" for none
			before func()
		}{
			{name: "wrong password", args: post("simpleenroll", "good.b64", "--user", cred.Username+":not-the-password"),
				status: "401", msg: "the user name or the password is wrong", reason: "wrong password"},
			{name: "unknown user", args: post("simpleenroll", "good.b64", "--user", "est-99-000000:whatever"),
				status: "401", msg: "the user name or the password is wrong", reason: "unknown user name"},
			// The Basic challenge to a client that sent no credentials is
			// the protocol's first step, not journaled (reason "").
			{name: "no authentication", args: post("simpleenroll", "good.b64"),
				status: "401", msg: "authenticate with the EST user name and password"},
			{name: "name not in the dossier", args: post("simpleenroll", "evil.b64", basic...),
				status: "403", msg: `the dossier does not hold the DNS name "evil.example.org"`, reason: "evil.example.org"},
			{name: "subject not in the dossier", args: post("simpleenroll", "evilcn.b64", basic...),
				status: "403", msg: "the dossier does not hold the subject attribute", reason: "subject attribute"},
			{name: "malformed CSR", args: post("simpleenroll", "garbage.b64", basic...),
				status: "400", msg: "not a DER PKCS#10 certificate request", reason: "PKCS#10"},
			{name: "not base64", args: post("simpleenroll", "notb64.txt", basic...),
				status: "400", msg: "not a base64 PKCS#10", reason: "base64"},
			{name: "oversized body", args: post("simpleenroll", "big.b64", basic...),
				status: "413", msg: "the request is over 16384 bytes", reason: "over 16384 bytes"},
			{name: "wrong media type", args: append(append([]string{}, basic...), "-H", "Content-Type: application/json",
				"--data-binary", "@good.b64", f.url("simpleenroll")), status: "415", msg: "application/pkcs10", reason: "application/json"},
			{name: "re-enroll without a client certificate", args: post("simplereenroll", "renew.b64"),
				status: "403", msg: "present the certificate to renew as the TLS client certificate", reason: "TLS client certificate"},
			{name: "re-enroll with a foreign certificate", args: post("simplereenroll", "renew.b64", "--cert", "foreign.pem", "--key", "foreign.key"),
				status: "403", msg: "not issued by this EST server", reason: "not issued by this EST server"},
			{name: "re-enroll with a revoked certificate", args: post("simplereenroll", "renew.b64", "--cert", "good.pem", "--key", "good.key"),
				status: "403", msg: "the client certificate is revoked", reason: "revoked",
				before: func() {
					if err := f.h.Revocation.Revoke(ctx, sceau.Actor{ID: "test"}, revocation.SerialHex(f.readPEMCert("good.pem").SerialNumber), 4); err != nil {
						t.Fatal(err)
					}
				}},
			{name: "revoked credential", args: post("simpleenroll", "good.b64", basic...),
				status: "403", msg: "this EST credential was revoked", reason: "revoked",
				before: func() {
					if err := f.svc.RevokeCredential(ctx, ra1, cred.Username); err != nil {
						t.Fatal(err)
					}
					if evs := f.events(audit.ActionESTCredentialRevoked); len(evs) != 1 || evs[0].Object != "est-credential:"+cred.Username {
						t.Fatalf("revocation events %+v", evs)
					}
				}},
		}
		for i, c := range cases {
			if c.before != nil {
				c.before()
			}
			refusals := len(f.events(audit.ActionESTRefused))
			out := "refused" + string(rune('a'+i))
			status, body := f.curl(out, append([]string{"-D", out + ".hdr"}, c.args...)...)
			if status != c.status || !strings.Contains(body, c.msg) {
				t.Errorf("%s: %s %q, want %s %q", c.name, status, body, c.status, c.msg)
			}
			if status == "401" {
				hdr, _ := os.ReadFile(filepath.Join(f.dir, out+".hdr"))
				if !strings.Contains(strings.ToLower(string(hdr)), `www-authenticate: basic realm="sceau-est"`) {
					t.Errorf("%s: no Basic challenge:\n%s", c.name, hdr)
				}
			}
			evs := f.events(audit.ActionESTRefused)
			if c.reason == "" {
				if len(evs) != refusals {
					t.Errorf("%s: %d refusals journaled, want none", c.name, len(evs)-refusals)
				}
				continue
			}
			if len(evs) != refusals+1 {
				t.Errorf("%s: %d refusals journaled, want 1", c.name, len(evs)-refusals)
				continue
			}
			if r, _ := det(evs[len(evs)-1])["reason"].(string); !strings.Contains(r, c.reason) {
				t.Errorf("%s: journaled reason %q, want %q", c.name, r, c.reason)
			}
		}

		// An expired certificate re-enrolls nothing (a fresh credential and
		// certificate, then a year and a half later).
		cred2, err := f.svc.CreateCredential(ctx, ra1, f.dossier.ID)
		if err != nil {
			t.Fatal(err)
		}
		if status, body := f.curl("late.p7", post("simpleenroll", "good.b64", "--user", cred2.Username+":"+cred2.Password)...); status != "200" {
			t.Fatalf("simpleenroll: %s %s", status, body)
		}
		f.p7ToPEM("late.p7", "late.pem")
		issued, enrolled = issued+1, enrolled+1
		f.clock.Advance(400 * 24 * time.Hour)
		if status, body := f.curl("expired", post("simplereenroll", "renew.b64", "--cert", "late.pem", "--key", "good.key")...); status != "403" ||
			!strings.Contains(body, "expired") {
			t.Errorf("re-enroll with an expired certificate: %s %q", status, body)
		}
		if n := f.count("certificates"); n != issued {
			t.Errorf("%d certificates, want %d: a refused request issued one", n, issued)
		}
		if n := f.count("est_enrollments"); n != enrolled {
			t.Errorf("%d enrollments, want %d", n, enrolled)
		}
		recs, _ := audit.Read(ctx, db, 0, 1000000)
		for _, r := range recs {
			if strings.Contains(r.Details, cred.Password) || strings.Contains(r.Details, "not-the-password") {
				t.Fatalf("a password is in the journal: %s", r.Action)
			}
		}
	})
}

// TestCA4_ESTOperations: csrattrs lists what the CA's profiles take, the
// operations Sceau does not offer answer 501, a wrong method 405 and an
// unknown CA label 404; the labelled path serves the same CA.
func TestCA4_ESTOperations(t *testing.T) {
	sceautest.NeedOpenSSL(t)
	sceautest.LookPath(t, "curl", "apt-get install curl")
	f := newFixture(t, sceautest.OpenSQLite(t))
	status, body := f.curl("attrs.b64", "-D", "attrs.hdr", f.url("csrattrs"))
	hdr, _ := os.ReadFile(filepath.Join(f.dir, "attrs.hdr"))
	if status != "200" || !strings.Contains(strings.ToLower(string(hdr)), "content-type: application/csrattrs") {
		t.Fatalf("csrattrs: %s %s\n%s", status, body, hdr)
	}
	f.run("openssl", "base64", "-d", "-in", "attrs.b64", "-out", "attrs.der")
	parsed := f.run("openssl", "asn1parse", "-inform", "DER", "-in", "attrs.der")
	for _, want := range []string{"Extension Request", "id-ecPublicKey", "prime256v1", "ecdsa-with-SHA256", "rsaEncryption"} {
		if !strings.Contains(parsed, want) {
			t.Errorf("csrattrs lacks %s:\n%s", want, parsed)
		}
	}
	for _, c := range []struct {
		args   []string
		status string
	}{
		{[]string{f.url("serverkeygen"), "--data-binary", "x"}, "501"},
		{[]string{f.url("fullcmc"), "--data-binary", "x"}, "501"},
		{[]string{f.url("simpleenroll")}, "405"},
		{[]string{f.url("cacerts"), "--data-binary", "x"}, "405"},
		{[]string{f.srv.URL + est.Prefix + "nosuchca/cacerts"}, "404"},
		{[]string{f.srv.URL + est.Prefix + "issuing/cacerts"}, "200"},
		{[]string{f.url("nosuchop")}, "404"},
	} {
		if status, body := f.curl("op.out", c.args...); status != c.status {
			t.Errorf("%v: %s %s, want %s", c.args, status, body, c.status)
		}
	}
}

// TestCA4_ESTWhileTheCAIsNotActivated: with the CA's key deactivated,
// simpleenroll answers 503 with Retry-After (RFC 7030 §4.2.3), journals
// the refusal and signs nothing; once activated again the same request
// is issued.
func TestCA4_ESTWhileTheCAIsNotActivated(t *testing.T) {
	sceautest.NeedOpenSSL(t)
	sceautest.LookPath(t, "curl", "apt-get install curl")
	ctx := context.Background()
	f := newFixture(t, sceautest.OpenSQLite(t))
	cred, err := f.svc.CreateCredential(ctx, ra1, f.dossier.ID)
	if err != nil {
		t.Fatal(err)
	}
	f.newCSR("dev", "/CN=app.sceau-test.fr")
	args := []string{"-D", "dev.hdr", "--user", cred.Username + ":" + cred.Password, "-H", "Content-Type: application/pkcs10",
		"--data-binary", "@dev.b64", f.url("simpleenroll")}
	issuedBefore := f.countIssued()
	f.h.Keys.Deactivate()
	status, body := f.curl("dev.p7", args...)
	hdr, _ := os.ReadFile(filepath.Join(f.dir, "dev.hdr"))
	if status != "503" || !strings.Contains(strings.ToLower(string(hdr)), "retry-after: 60") {
		t.Fatalf("simpleenroll with the CA inactive: %s %q\n%s", status, body, hdr)
	}
	if n := f.countIssued(); n != issuedBefore {
		t.Fatalf("%d certificates signed while the CA was inactive", n-issuedBefore)
	}
	if evs := f.events(audit.ActionESTRefused); len(evs) != 1 {
		t.Fatalf("%d refusals journaled, want 1", len(evs))
	}
	if err := f.h.Keys.Activate([]byte("test activation secret, not for production")); err != nil {
		t.Fatal(err)
	}
	if status, body := f.curl("dev.p7", args[2:]...); status != "200" {
		t.Fatalf("simpleenroll once activated: %s %q", status, body)
	}
	// The metrics count both (sceau_est_enrollments_total).
	f.observedMu.Lock()
	defer f.observedMu.Unlock()
	if got := strings.Join(f.observed, " "); got != "simpleenroll/503 simpleenroll/issued" {
		t.Fatalf("observed %q", got)
	}
}

// countIssued counts the certificates signed and stored.
func (f *fixture) countIssued() int {
	f.t.Helper()
	var n int
	if err := f.db.QueryRowContext(context.Background(), "SELECT COUNT(*) FROM certificates WHERE status = 'issued'").Scan(&n); err != nil {
		f.t.Fatal(err)
	}
	return n
}
