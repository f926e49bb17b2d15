package config_test

import (
	"strings"
	"testing"
	"time"

	"github.com/sceau/sceau/internal/config"
)

const minimal = `
cas:
  - id: root
    subject: {common_name: Root}
    key_type: ecdsa-p384
    validity: 10y
  - id: issuing
    parent: root
    subject: {common_name: Issuing}
    key_type: ecdsa-p256
    validity: 5y
    profiles:
      - name: server
        key_usage: [digitalSignature]
        ext_key_usage: [serverAuth]
        policies: [{oid: 1.2.250.1.999.1.1, cps_uri: "http://x/cps"}]
        validity: 397d
`

func TestParseAppliesDefaults(t *testing.T) {
	c, err := config.Parse([]byte(minimal))
	if err != nil {
		t.Fatal(err)
	}
	if c.Database.Engine != "sqlite" || c.Public.BaseURL != "http://127.0.0.1:8080" || c.Issuance.BatchMax != 128 {
		t.Errorf("defaults not applied: %+v", c)
	}
	if c.CAs[0].CRL.Validity.Duration != 7*24*time.Hour || c.CAs[1].CRL.Validity.Duration != 24*time.Hour {
		t.Errorf("CRL validity defaults: %v %v", c.CAs[0].CRL.Validity, c.CAs[1].CRL.Validity)
	}
	if *c.CAs[0].PathLen != -1 || *c.CAs[1].PathLen != 0 {
		t.Errorf("path_len defaults %d %d", *c.CAs[0].PathLen, *c.CAs[1].PathLen)
	}
	p := c.CAs[1].Profiles[0]
	if p.MaxValidity != p.Validity || len(p.KeyTypes) != 5 || strings.Join(p.Lints, ",") != "rfc5280,etsi" {
		t.Errorf("profile defaults: %+v", p)
	}
}

func TestParseIsStrict(t *testing.T) {
	_, err := config.Parse([]byte(minimal + "bogus: 1\n"))
	if err == nil || !strings.Contains(err.Error(), "bogus") {
		t.Fatalf("unknown key: %v", err)
	}
}

func TestKEY7_ConfigRefusesCAAboveTenYears(t *testing.T) {
	_, err := config.Parse([]byte(strings.Replace(minimal, "validity: 10y", "validity: 11y", 1)))
	if err == nil || !strings.Contains(err.Error(), "KEY-7") {
		t.Fatalf("11y CA: %v", err)
	}
}

func TestValidateReportsEveryProblemAtOnce(t *testing.T) {
	bad := strings.NewReplacer(
		"key_type: ecdsa-p384", "key_type: dsa-1024",
		"parent: root", "parent: nowhere",
		"[digitalSignature]", "[signEverything]",
		"1.2.250.1.999.1.1", "1..2",
	).Replace(minimal) + "admin: {listen: \"127.0.0.1:8080\"}\n"
	_, err := config.Parse([]byte(bad))
	if err == nil {
		t.Fatal("accepted")
	}
	for _, want := range []string{"dsa-1024", `parent "nowhere"`, "signEverything", `"1..2"`, "SYS-2"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not mention %s:\n%v", want, err)
		}
	}
}

func TestDurations(t *testing.T) {
	for in, want := range map[string]time.Duration{"90m": 90 * time.Minute, "397d": 397 * 24 * time.Hour, "10y": 3650 * 24 * time.Hour} {
		got, err := config.ParseDuration(in)
		if err != nil || got != want {
			t.Errorf("%s: %v %v", in, got, err)
		}
	}
	for _, in := range []string{"", "1w", "-3d", "d"} {
		if _, err := config.ParseDuration(in); err == nil {
			t.Errorf("%q accepted", in)
		}
	}
}
