package fault

import (
	"math/rand/v2"
	"testing"
	"time"
)

// engines are the databases every fault class runs on.
var engines = []string{sqlite, postgres}

// trialCounts is what the ledger of an installation holds, to tell what one
// trial added.
type trialCounts struct{ issued, revoked, refused, bad int }

func (in *installation) snapshot() trialCounts {
	l := in.ledger
	l.mu.Lock()
	defer l.mu.Unlock()
	return trialCounts{len(l.certs), len(l.revoked), l.refused, l.badCount}
}

// since is the figures of one trial of class: what the ledger gained.
func (in *installation) since(class string, before trialCounts, lost int) figures {
	now := in.snapshot()
	return figures{Class: class, Engine: in.engine, Trials: 1, Faults: 1,
		Issued: now.issued - before.issued, Revoked: now.revoked - before.revoked, Refused: now.refused - before.refused, Bad: now.bad - before.bad, Lost: lost}
}

// TestCA3_KillUnderLoadLosesNothing kills `sceau serve` with SIGKILL while
// clients issue (admin API and CLI) and revoke (keyCompromise), restarts it,
// and checks that every acknowledged issuance is stored and journaled and
// every acknowledged revocation is on the CRL and in OCSP (CA-2, CA-3).
func TestCA3_KillUnderLoadLosesNothing(t *testing.T) {
	for _, engine := range engines {
		t.Run(engine, func(t *testing.T) {
			in := newInstallation(t, engine, installOptions{})
			in.mustStart()
			for trial := 1; trial <= *trials; trial++ {
				before := in.snapshot()
				l := in.startLoad(trial, loadOptions{})
				// Kill at a random moment once the load is going: some
				// requests are always in flight.
				time.Sleep(400*time.Millisecond + rand.N(1200*time.Millisecond))
				in.kill9()
				time.Sleep(200 * time.Millisecond) // clients meet the dead listener
				l.halt()
				if err := in.start(); err != nil {
					t.Fatalf("trial %d: restart after kill -9: %v", trial, err)
				}
				lost := in.verifyAll(trial)
				addFigures(t, in.since("kill-9", before, lost))
				if stopEarly(t) {
					return
				}
			}
			in.stop()
		})
	}
}
