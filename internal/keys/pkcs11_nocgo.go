//go:build !cgo

package keys

import (
	"crypto"
	"time"

	"github.com/sceau/sceau/internal/sceau"
)

// PKCS11Config says which token of which PKCS#11 module holds the CA keys.
type PKCS11Config struct {
	// Module is the path of the vendor's PKCS#11 library (for SoftHSM2,
	// libsofthsm2.so).
	Module string
	// TokenLabel selects the token by its label.
	TokenLabel string
	// MaxSessions bounds the sessions opened on the token; one of them only
	// holds the login, the others sign in parallel. 0 means
	// 2×GOMAXPROCS + 1, at least 5; 1 is refused.
	MaxSessions int
	// PoolWaitTimeout bounds how long an operation waits for a free
	// session before failing as Unavailable. 0 means 30 seconds.
	PoolWaitTimeout time.Duration
	// AllowBackup generates (and restores) keys extractable, so that the
	// token can wrap them for a backup under dual control (KEY-4). They
	// stay sensitive: no one can read them in clear (KEY-3). Default
	// false: keys never leave the token, and cannot be backed up.
	AllowBackup bool
}

// PKCS11Store would keep CA keys inside a PKCS#11 device, but this binary
// was built without cgo, which PKCS#11 needs: every method fails with
// Unavailable.
type PKCS11Store struct {
	cfg PKCS11Config
}

// errNoPKCS11 reads "keys: PKCS#11 support is not compiled in (build with
// CGO_ENABLED=1)".
var errNoPKCS11 = sceau.Errorf(sceau.Unavailable, "keys", "PKCS#11 support is not compiled in (build with CGO_ENABLED=1)")

// OpenPKCS11 returns a store that cannot be activated in this build.
func OpenPKCS11(cfg PKCS11Config) *PKCS11Store { return &PKCS11Store{cfg: cfg} }

// Activate fails: PKCS#11 support is not compiled in.
func (s *PKCS11Store) Activate(pin []byte) error { return errNoPKCS11 }

// Deactivate does nothing: the store is never activated.
func (s *PKCS11Store) Deactivate() {}

// Active reports false.
func (s *PKCS11Store) Active() bool { return false }

// Generate fails: PKCS#11 support is not compiled in.
func (s *PKCS11Store) Generate(label string, t Type) (crypto.Signer, error) {
	return nil, errNoPKCS11
}

// Signer fails: PKCS#11 support is not compiled in.
func (s *PKCS11Store) Signer(label string) (crypto.Signer, error) {
	return nil, errNoPKCS11
}

// SetTokenPIN fails: PKCS#11 support is not compiled in.
func SetTokenPIN(module, tokenLabel string, oldPIN, newPIN []byte) error { return errNoPKCS11 }

// BackupKey fails: PKCS#11 support is not compiled in.
func (s *PKCS11Store) BackupKey(label string, wrapKey []byte, ref BackupRef) (*Backup, error) {
	return nil, errNoPKCS11
}

// RestoreKey fails: PKCS#11 support is not compiled in.
func (s *PKCS11Store) RestoreKey(b *Backup, wrapKey []byte) error { return errNoPKCS11 }

// DestroyKey fails: PKCS#11 support is not compiled in.
func (s *PKCS11Store) DestroyKey(label string) error { return errNoPKCS11 }
