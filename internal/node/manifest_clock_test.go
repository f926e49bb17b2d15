package node

import (
	"errors"
	"testing"
	"time"

	"github.com/sceau/sceau/internal/clockguard"
	"github.com/sceau/sceau/internal/sceautest"
)

// SYS-4: the publication manifest is not signed on a clock 5 s off a real
// NTP server: the signer refuses with the guard's error before the key is
// asked (it has none here), and the site keeps its last manifest.
func TestSYS4_ManifestIsNotSignedOnAnUntrustedClock(t *testing.T) {
	srv := sceautest.StartNTP(t, 5*time.Second)
	g := clockguard.New(clockguard.Options{Servers: []string{srv.Addr}, Timeout: time.Second})
	g.Measure(t.Context())
	m := &manifestSigner{guard: g.Err}
	if _, err := m.SignManifest([]byte(`{"number": 2}`)); !errors.Is(err, clockguard.ErrClockDrift) {
		t.Fatalf("manifest on a clock 5 s off: %v, want clockguard.ErrClockDrift", err)
	}
}
