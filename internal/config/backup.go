package config

// Backup configures the backups of the installation (CONT-1; docs/continuity.md).
type Backup struct{}

// DefaultBackup is the backup section's defaults.
func DefaultBackup() Backup { return Backup{} }

func (a *Backup) validate(c *Config, bad func(string, ...any)) {}
