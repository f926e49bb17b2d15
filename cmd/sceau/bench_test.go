package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// 'sceau bench site' measures OCSP then the site in one run and prints
// both, with the site's ratios to OCSP.
func TestBenchSite(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a real installation")
	}
	c := cli{t: t}
	r := c.ok("bench", "site", "--clients", "2", "--count", "100", "--certs", "2", "--json")
	var got struct {
		OCSP      struct{ Bench string } `json:"ocsp"`
		Site      struct{ Bench string } `json:"site"`
		RateRatio float64                `json:"rate_ratio"`
		P99Ratio  float64                `json:"p99_ratio"`
		Target    struct {
			Rate float64 `json:"rate_ratio"`
			P99  float64 `json:"p99_ratio"`
		} `json:"target"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
		t.Fatalf("%v\n%s", err, r.stdout)
	}
	if got.OCSP.Bench != "ocsp" || got.Site.Bench != "site" || got.RateRatio <= 0 || got.P99Ratio <= 0 || got.Target.Rate != 1 || got.Target.P99 != 1 {
		t.Errorf("unexpected comparison: %s", r.stdout)
	}
	r = c.ok("bench", "site", "--clients", "1", "--count", "50", "--certs", "1")
	for _, want := range []string{"sceau bench ocsp:", "sceau bench site:", "site / ocsp", "target >= 1.00"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("report lacks %q:\n%s", want, r.stdout)
		}
	}
}

func TestBenchFlagsAreChecked(t *testing.T) {
	c := cli{t: t}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"bench", "site", "--clients", "0"}, "--clients must be at least 1"},
		{[]string{"bench", "site", "--certs", "0"}, "--certs must be at least 1"},
		{[]string{"bench", "ocsp", "--count", "-1"}, "--count must not be negative"},
		{[]string{"bench", "issue", "--duration", "0s"}, "--duration must be positive"},
	} {
		r := c.run(tc.args...)
		if r.code == 0 || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("sceau %s: exit %d, stderr %q; want an error naming %q", strings.Join(tc.args, " "), r.code, r.stderr, tc.want)
		}
	}
}
