package acme_test

import (
	"testing"

	sacme "github.com/sceau/sceau/internal/acme"
	"github.com/sceau/sceau/internal/sceautest"
)

// TestCAARecordsDecideWhetherWeMayIssue: CAA records (RFC 8659) naming
// another CA, or our issuer domain name with another account or another
// validation method, make the challenge fail with the caa problem; ours
// (or none, or a parent's) let it pass.
func TestCAARecordsDecideWhetherWeMayIssue(t *testing.T) {
	f := newFixture(t, sceautest.OpenSQLite(t), func(o *sacme.Options) { o.CAAIssuerDomains = []string{"sceau.example"} })
	names := []string{"none.sceau-test.fr", "ours.sceau-test.fr", "other.sceau-test.fr", "method.sceau-test.fr", "account.sceau-test.fr",
		"www.parent.sceau-test.fr", "critical.sceau-test.fr"}
	f.dossier = f.validatedDossier(names...)
	f.dns.setCAA(t, "ours.sceau-test.fr", `0 issue "other-ca.example"`, `0 issue "sceau.example; validationmethods=http-01"`, `0 iodef "mailto:x@sceau-test.fr"`)
	f.dns.setCAA(t, "other.sceau-test.fr", `0 issue "other-ca.example"`)
	f.dns.setCAA(t, "method.sceau-test.fr", `0 issue "sceau.example; validationmethods=dns-01"`)
	f.dns.setCAA(t, "account.sceau-test.fr", `0 issue "sceau.example; accounturi=https://elsewhere.example/acct/1"`)
	f.dns.setCAA(t, "parent.sceau-test.fr", `0 issue ";"`)
	f.dns.setCAA(t, "critical.sceau-test.fr", `128 tbs "unknown"`, `0 issue "sceau.example"`)
	r := f.raw("server")
	r.register(names...)
	f.serveHTTP01(func(token string) string { return token + "." + r.thumbprint() })
	for name, want := range map[string]string{"none.sceau-test.fr": "", "ours.sceau-test.fr": "", "other.sceau-test.fr": "caa",
		"method.sceau-test.fr": "caa", "account.sceau-test.fr": "caa", "www.parent.sceau-test.fr": "caa", "critical.sceau-test.fr": "caa"} {
		t.Run(name, func(t *testing.T) {
			o, _ := r.order(name)
			ch, _ := r.http01(o)
			a := r.post(ch, map[string]any{})
			got := ""
			if e, ok := a.body["error"].(map[string]any); ok {
				got = e["type"].(string)[len("urn:ietf:params:acme:error:"):]
			}
			if got != want {
				t.Fatalf("%s: problem %q, want %q: %s", name, got, want, a.raw)
			}
		})
	}
}
