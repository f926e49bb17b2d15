package config

import (
	"net"
	"strings"
	"time"
)

// Clock configures the clock guard (SYS-4, policy §6.7; docs/clock.md):
// the NTP servers the service checks its clock against, and the drift
// beyond which it refuses to sign certificates, CRLs, OCSP responses and
// manifests.
type Clock struct {
	// Servers are NTP servers (RFC 5905), "host" or "host:port" (port
	// 123 by default); the median offset of those that answer is the
	// clock's. Three or more let one wrong server be outvoted. Default:
	// none, the clock is not checked, which a production installation must
	// not do (Sceau cannot guess a trusted time source, and sends nothing
	// to the Internet unasked).
	Servers []string `yaml:"servers"`
	// Interval between checks while the clock is in range (drifted or
	// unanswered: every minute). 1m..24h. Default: 10m.
	Interval Duration `yaml:"interval"`
	// MaxDrift is the largest offset at which Sceau signs (1ms..1m).
	// Default: 1s, the accuracy ETSI EN 319 421 asks of time-stamps
	// under its best-practices policy.
	MaxDrift Duration `yaml:"max_drift"`
	// Grace is how long signing goes on when no server answers, counted
	// from the check that was due (interval after the last one in range).
	// 0 stops at once; interval + grace is at most 24h, so Sceau never
	// signs on a clock last checked more than a day ago (§6.7). Default: 1h.
	Grace Duration `yaml:"grace"`
	// Timeout bounds each server's answer, name resolution included
	// (100ms..30s, below interval). Default: 2s.
	Timeout Duration `yaml:"timeout"`
}

// DefaultClock is the clock section's defaults: no server.
func DefaultClock() Clock {
	return Clock{Interval: Duration{10 * time.Minute}, MaxDrift: Duration{time.Second}, Grace: Duration{time.Hour},
		Timeout: Duration{2 * time.Second}}
}

func (c *Clock) validate(bad func(string, ...any)) {
	if len(c.Servers) > 16 {
		bad("clock.servers: %d servers, more than 16", len(c.Servers))
	}
	seen := map[string]bool{}
	for _, s := range c.Servers {
		host := s
		if h, port, err := net.SplitHostPort(s); err == nil {
			if port == "" || strings.Trim(port, "0123456789") != "" {
				bad("clock.servers: %q has a bad port", s)
			}
			host = h
		}
		if host == "" || strings.ContainsAny(host, " /\t\n") || strings.Contains(s, "://") {
			bad("clock.servers: %q is not a host or host:port", s)
		}
		if seen[s] {
			bad("clock.servers: %q is listed twice", s)
		}
		seen[s] = true
	}
	if d := c.Interval.Duration; d < time.Minute || d > 24*time.Hour {
		bad("clock.interval: %s is not within 1m..24h (SYS-4: at least daily)", c.Interval)
	}
	if d := c.MaxDrift.Duration; d < time.Millisecond || d > time.Minute {
		bad("clock.max_drift: %s is not within 1ms..1m", c.MaxDrift)
	}
	if d := c.Grace.Duration; d < 0 || c.Interval.Duration+d > 24*time.Hour {
		bad("clock.grace: %s with interval %s passes 24h (SYS-4: never sign on a clock checked more than a day ago)", c.Grace, c.Interval)
	}
	if d := c.Timeout.Duration; d < 100*time.Millisecond || d > 30*time.Second || d >= c.Interval.Duration {
		bad("clock.timeout: %s is not within 100ms..30s and below the interval", c.Timeout)
	}
}
