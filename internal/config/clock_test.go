package config_test

import (
	"strings"
	"testing"
	"time"

	"github.com/sceau/sceau/internal/config"
)

// SYS-4: without a clock section the guard is off (no server) with the
// documented limits; a section is read and checked, every problem at once.
func TestSYS4_ClockSectionDefaultsAndLimits(t *testing.T) {
	c, err := config.Parse([]byte(minimal))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Clock.Servers) != 0 || c.Clock.Interval.Duration != 10*time.Minute || c.Clock.MaxDrift.Duration != time.Second ||
		c.Clock.Grace.Duration != time.Hour || c.Clock.Timeout.Duration != 2*time.Second {
		t.Errorf("clock defaults: %+v", c.Clock)
	}
	c, err = config.Parse([]byte(minimal + "clock: {servers: [ntp1.example.org, \"192.0.2.1:123\", \"[2001:db8::1]:1123\"], interval: 1h, max_drift: 100ms, grace: 0s}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Clock.Servers) != 3 || c.Clock.Interval.Duration != time.Hour || c.Clock.MaxDrift.Duration != 100*time.Millisecond || c.Clock.Grace.Duration != 0 {
		t.Errorf("clock section: %+v", c.Clock)
	}
	for _, tc := range []struct{ section, want string }{
		{"{interval: 25h}", "clock.interval"},
		{"{interval: 30s}", "clock.interval"},
		{"{interval: 20h, grace: 5h}", "clock.grace"},
		{"{grace: -1m}", "clock.grace"},
		{"{max_drift: 0s}", "clock.max_drift"},
		{"{max_drift: 2m}", "clock.max_drift"},
		{"{timeout: 10ms}", "clock.timeout"},
		{"{servers: [\"\"]}", "is not a host"},
		{"{servers: [\"ntp://x\"]}", "is not a host"},
		{"{servers: [\"x:ntp\"]}", "bad port"},
		{"{servers: [a, a]}", "listed twice"},
		{"{serveurs: [a]}", "serveurs"},
	} {
		_, err := config.Parse([]byte(minimal + "clock: " + tc.section + "\n"))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("clock: %s: %v, want an error naming %s", tc.section, err, tc.want)
		}
	}
}
