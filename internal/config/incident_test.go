package config_test

import (
	"strings"
	"testing"
	"time"

	"github.com/sceau/sceau/internal/config"
)

// INC-1, INC-4: the incident section's defaults, and what it refuses: an
// address that is not one, officers without a relay, a webhook without
// its secret, a margin outside 10m..23h.
func TestINC1_ConfigRefusesAnIncidentSectionThatReachesNoOne(t *testing.T) {
	c, err := config.Parse([]byte(minimal))
	if err != nil {
		t.Fatal(err)
	}
	if in := c.Incident; in.AlertMargin.Duration != 4*time.Hour || in.SMTP.TLS != "starttls" || in.RetryInterval.Duration != 30*time.Second {
		t.Errorf("defaults: %+v", in)
	}
	_, err = config.Parse([]byte(minimal + `incident:
  security_officers: [rssi@example.org, "not an address"]
  webhook: {url: "https://soc.example.org/hook"}
  alert_margin: 1m
`))
	if err == nil {
		t.Fatal("accepted")
	}
	for _, want := range []string{`incident.security_officers: "not an address"`, "incident.smtp.relay", "incident.webhook.secret_file",
		"incident.alert_margin: 1m"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error does not mention %s:\n%v", want, err)
		}
	}
	if _, err := config.Parse([]byte(minimal + `incident:
  security_officers: [rssi@example.org]
  smtp: {relay: "smtp.example.org:587", from: "sceau@example.org"}
`)); err != nil {
		t.Errorf("a complete section: %v", err)
	}
}
