package config

// Archive configures the ten-year archive (ARC-1..ARC-6, AUD-4; docs/archive.md).
type Archive struct{}

// DefaultArchive is the archive section's defaults.
func DefaultArchive() Archive { return Archive{} }

func (a *Archive) validate(c *Config, bad func(string, ...any)) {}
