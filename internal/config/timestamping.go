package config

// Timestamping configures the RFC 3161 time-stamping unit (ARC-5; docs/archive.md).
type Timestamping struct{}

// DefaultTimestamping is the timestamping section's defaults.
func DefaultTimestamping() Timestamping { return Timestamping{} }

func (a *Timestamping) validate(c *Config, bad func(string, ...any)) {}
