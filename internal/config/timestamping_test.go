package config_test

import (
	"strings"
	"testing"
	"time"

	"github.com/sceau/sceau/internal/config"
)

// withTSAProfile is minimal with a timestamping profile on the issuing CA.
const withTSAProfile = minimal + `      - name: timestamping
        key_usage: [digitalSignature]
        ext_key_usage: [timeStamping]
        policies: [{oid: 1.2.250.1.999.1.5, cps_uri: "http://x/cps"}]
        validity: 3y
`

// ARC-5: without a timestamping section there is no unit, with the
// documented defaults; a section is read and checked, every problem at
// once.
func TestARC5_TimestampingSectionDefaultsAndLimits(t *testing.T) {
	c, err := config.Parse([]byte(minimal))
	if err != nil {
		t.Fatal(err)
	}
	if ts := c.Timestamping; ts.SignerCA != "" || ts.ExternalURL != "" || ts.Profile != "timestamping" || ts.Accuracy.Duration != time.Second ||
		ts.ListenPath != "/tsa" || ts.Policy != "" {
		t.Errorf("timestamping defaults: %+v", ts)
	}
	c, err = config.Parse([]byte(withTSAProfile + "timestamping: {signer_ca: issuing, policy: 0.4.0.2023.1.1, accuracy: 2s, listen_path: /time/stamp}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if ts := c.Timestamping; ts.SignerCA != "issuing" || ts.Policy != "0.4.0.2023.1.1" || ts.Accuracy.Duration != 2*time.Second || ts.ListenPath != "/time/stamp" {
		t.Errorf("timestamping section: %+v", ts)
	}
	if _, err := config.Parse([]byte(minimal + "timestamping: {external_url: \"https://tsa.example.org/\", external_ca_file: tsa-roots.pem}\n")); err != nil {
		t.Errorf("an external TSA: %v", err)
	}
	for _, tc := range []struct{ base, section, want string }{
		{withTSAProfile, "{signer_ca: issuing}", "timestamping.policy: required with signer_ca"},
		{withTSAProfile, "{signer_ca: nowhere, policy: 1.2.3}", `timestamping.signer_ca: no CA "nowhere"`},
		{withTSAProfile, "{signer_ca: issuing, policy: 1.2.3, profile: tsa}", `timestamping.profile: CA issuing has no profile "tsa"`},
		{minimal, "{signer_ca: issuing, policy: 1.2.3, profile: server}", "RFC 3161 §2.3 asks [timeStamping] alone"},
		{withTSAProfile, "{signer_ca: issuing, policy: x.y}", `timestamping.policy: "x.y" is not an OID`},
		{withTSAProfile, "{signer_ca: issuing, policy: 1.2.3, external_url: \"https://t/\", external_ca_file: r.pem}", "exclude each other"},
		{minimal, "{external_url: \"ftp://t/\", external_ca_file: r.pem}", "is not an http or https URL"},
		{minimal, "{external_url: \"https://t/\"}", "timestamping.external_ca_file: required with external_url"},
		{minimal, "{external_ca_file: r.pem}", "only with external_url"},
		{withTSAProfile, "{signer_ca: issuing, policy: 1.2.3, accuracy: 100ms}", "timestamping.accuracy: 100ms is below clock.max_drift (1s)"},
		{minimal, "{accuracy: 2m}", "timestamping.accuracy: 2m0s is not within 1ms..1m"},
		{minimal, "{accuracy: 0s}", "timestamping.accuracy"},
		{minimal, "{listen_path: tsa}", "timestamping.listen_path"},
		{minimal, "{listen_path: /tsa/}", "timestamping.listen_path"},
		{minimal, "{listen_path: /ocsp/tsa}", "not under /ocsp"},
		{minimal, "{signer: issuing}", "signer"},
	} {
		_, err := config.Parse([]byte(tc.base + "timestamping: " + tc.section + "\n"))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("timestamping: %s: %v, want an error holding %q", tc.section, err, tc.want)
		}
	}
	// A finer accuracy goes with a finer clock guard.
	if _, err := config.Parse([]byte(withTSAProfile + "clock: {max_drift: 100ms}\ntimestamping: {signer_ca: issuing, policy: 1.2.3, accuracy: 100ms}\n")); err != nil {
		t.Errorf("accuracy 100ms with max_drift 100ms: %v", err)
	}
}
