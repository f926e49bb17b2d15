package config

import (
	"strings"
	"time"
)

// Registration configures the registration authority (CA-4,
// docs/registration.md): dossiers, identity evidence, CGU acceptance,
// revocation requests.
type Registration struct {
	// RevocationDeadline is the policy's time to process a revocation
	// request: its due time is this long after it is received (1m..7d).
	// Default: 24h.
	RevocationDeadline Duration `yaml:"revocation_deadline"`
	// MaxScanBytes bounds an evidence scan or a CGU acceptance proof
	// (1 KiB..64 MiB, and at most archive.max_item_bytes). Default: 5 MiB.
	MaxScanBytes int `yaml:"max_scan_bytes"`
	// SecretAttempts wrong revocation secrets in a row lock a certificate's
	// holder requests for SecretLockout (1..100; 1m..24h). Defaults: 5, 15m.
	SecretAttempts int      `yaml:"secret_attempts"`
	SecretLockout  Duration `yaml:"secret_lockout"`
	// LinkValidity is how long a PKCS#12 one-time download link works
	// (1h..30d). Default: 7d.
	LinkValidity Duration `yaml:"link_validity"`
	// CGU names, for each certificate profile (hence its CP), the
	// identifier of the terms of use its holders accept: a dossier for
	// that profile is refused (acceptance, submission, validation,
	// issuance) unless it accepted the version in force of
	// cgu/<identifier>/<version>/<lang>. A profile not named takes the
	// version in force of any CGU identifier.
	CGU map[string]string `yaml:"cgu"`
}

// DefaultRegistration is the registration section's defaults.
func DefaultRegistration() Registration {
	return Registration{RevocationDeadline: Duration{24 * time.Hour}, MaxScanBytes: 5 << 20, SecretAttempts: 5,
		SecretLockout: Duration{15 * time.Minute}, LinkValidity: Duration{7 * 24 * time.Hour}}
}

func (r *Registration) validate(bad func(string, ...any)) {
	between := func(name string, d Duration, lo, hi time.Duration) {
		if d.Duration < lo || d.Duration > hi {
			bad("registration.%s: %s is outside %s..%s", name, d.Duration, lo, hi)
		}
	}
	between("revocation_deadline", r.RevocationDeadline, time.Minute, 7*24*time.Hour)
	between("secret_lockout", r.SecretLockout, time.Minute, 24*time.Hour)
	between("link_validity", r.LinkValidity, time.Hour, 30*24*time.Hour)
	if r.MaxScanBytes < 1<<10 || r.MaxScanBytes > 64<<20 {
		bad("registration.max_scan_bytes: %d is outside 1024..67108864", r.MaxScanBytes)
	}
	for profile, ident := range r.CGU {
		if profile == "" || ident == "" || strings.ContainsAny(ident, "/ ") {
			bad("registration.cgu: %q: %q is not a CGU identifier (the <ident> of cgu/<ident>/<version>/<lang>)", profile, ident)
		}
	}
	if r.SecretAttempts < 1 || r.SecretAttempts > 100 {
		bad("registration.secret_attempts: %d is outside 1..100", r.SecretAttempts)
	}
}
