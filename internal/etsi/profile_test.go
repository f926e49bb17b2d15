package etsi

import (
	"strings"
	"testing"

	"github.com/sceau/sceau/internal/sceau"
)

func TestCA2_ProfileConsistency(t *testing.T) {
	nat, _ := good("natural")
	web, _ := good("website")
	for _, tc := range []struct {
		name string
		p    Profile
		want string // "" when valid
	}{
		{"good natural", nat, ""},
		{"good website", web, ""},
		{"no kind", Profile{}, "kind must be"},
		{"no usage", func() Profile { p := nat; p.Usage = 0; return p }(), "signature (nonRepudiation) or authentication"},
		{"qualified without pds", func() Profile { p := nat; p.PDS = nil; return p }(), "needs PDS URLs, one of them in English (EN 319 412-5 §4.3.4)"},
		{"http pds", func() Profile {
			p := nat
			p.PDS = []PDSLocation{{URL: "http://x.example/en", Language: "en"}}
			return p
		}(), "is not an https URL"},
		{"no english", func() Profile { p := nat; p.PDS = testPDS[1:]; return p }(), "no PDS in English"},
		{"qscd with non-qscd policy", func() Profile { p := nat; p.Policy = OIDQCPNatural; return p }(), "is not QCP-n-qscd or QCP-l-qscd"},
		{"qscd policy without qscd", func() Profile { p := nat; p.QSCD = false; return p }(), "requires the key on a QSCD"},
		{"qualified with ncp", func() Profile { p := nat; p.QSCD = false; p.Policy = OIDNCPPlus; return p }(), "is not a qualified policy"},
		{"qcp on non-qualified", Profile{Kind: LegalPerson, Usage: Signature, Policy: OIDQCPLegal}, "is qualified but the profile is not"},
		{"legal policy for natural", func() Profile { p := nat; p.Policy = OIDQCPLegalQSCD; return p }(), "is not a qualified policy for a natural person"},
		{"wrong qctype", func() Profile { p := nat; p.QcType = QcTypeWeb; return p }(), "qctype web does not fit a natural person"},
		{"website qscd", func() Profile { p := web; p.QSCD = true; return p }(), "a website key is not on a QSCD"},
		{"dvcp qualified", func() Profile { p := web; p.Policy = OIDDVCP; return p }(), "is not a qualified policy for a website"},
		{"negative retention", func() Profile { p := nat; p.RetentionYears = -1; return p }(), "retention period -1 years is negative"},
		{"semantics on legal", Profile{Kind: LegalPerson, Usage: Signature, Policy: OIDLCP, SerialNumberSemantics: true}, "serialNumber semantics are for natural persons"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.p.Validate()
			if tc.want == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) || sceau.KindOf(err) != sceau.Invalid {
				t.Fatalf("Validate = %v, want an invalid error containing %q", err, tc.want)
			}
		})
	}
	// Every problem at once.
	err := Profile{Kind: NaturalPerson, Qualified: true, QSCD: true, Policy: OIDNCP, RetentionYears: -2}.Validate()
	for _, want := range []string{"signature (nonRepudiation)", "not a qualified policy", "needs PDS URLs", "negative"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate of a profile with several problems: %v, lacks %q", err, want)
		}
	}
}
