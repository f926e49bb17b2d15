package config

import "time"

// Compliance sets the limits of the self-audit (COMP-1, COMP-2;
// docs/compliance.md): how old the last backup and the last restore test
// may be, and how long a failed clause has to be put right.
type Compliance struct {
	// FollowUp is the deadline given to each failed clause, from the
	// report's date (COMP-2). 1d..365d. Default: 30d.
	FollowUp Duration `yaml:"follow_up"`
	// BackupMaxAge: a last backup older than this fails CONT-1. Default:
	// 26h (a daily backup, with slack).
	BackupMaxAge Duration `yaml:"backup_max_age"`
	// RestoreTestMaxAge: a last verified restore (sceau backup verify)
	// older than this fails CONT-1. Default: 31d.
	RestoreTestMaxAge Duration `yaml:"restore_test_max_age"`
}

// DefaultCompliance is the compliance section's defaults.
func DefaultCompliance() Compliance {
	return Compliance{FollowUp: Duration{30 * 24 * time.Hour}, BackupMaxAge: Duration{26 * time.Hour},
		RestoreTestMaxAge: Duration{31 * 24 * time.Hour}}
}

func (c *Compliance) validate(bad func(string, ...any)) {
	if d := c.FollowUp.Duration; d < 24*time.Hour || d > 365*24*time.Hour {
		bad("compliance.follow_up: %s is not within 1d..365d", c.FollowUp)
	}
	if c.BackupMaxAge.Duration < time.Hour {
		bad("compliance.backup_max_age: %s is below 1h", c.BackupMaxAge)
	}
	if c.RestoreTestMaxAge.Duration < 24*time.Hour {
		bad("compliance.restore_test_max_age: %s is below 1d", c.RestoreTestMaxAge)
	}
}
