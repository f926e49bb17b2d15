//go:build cgo

package ca_test

import (
	"context"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sceau/sceau/internal/audit"
	"github.com/sceau/sceau/internal/ca"
	"github.com/sceau/sceau/internal/keys"
	"github.com/sceau/sceau/internal/revocation"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/sceautest"
)

// BenchmarkKEY1_IssueDurableSoftHSMAgainstKeystore measures, in the same
// run, durable issuance with the issuing CA's key in SoftHSM2 (through
// the PKCS#11 session pool) and with it in the software keystore, 16
// requests in flight per core each, and reports both rates and their
// ratio (issue 13: PKCS#11 at ≥ 80 % of the keystore rate). Each side
// issues the same number of certificates per round, rounds alternating
// which goes first so that neither runs on a warmer machine.
func BenchmarkKEY1_IssueDurableSoftHSMAgainstKeystore(b *testing.B) {
	serverGC(b)
	module, label, pin := sceautest.SoftHSM(b)
	token := keys.OpenPKCS11(keys.PKCS11Config{Module: module, TokenLabel: label})
	if err := token.Activate([]byte(pin)); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(token.Deactivate)
	authority := func(withToken bool) *ca.Authority {
		soft := keys.OpenSoftStore(filepath.Join(b.TempDir(), "keys"))
		if err := soft.Init([]byte("test activation secret, not for production")); err != nil {
			b.Fatal(err)
		}
		ring := keys.NewRing(soft)
		if withToken {
			ring.AddCA("issuing", token)
		}
		db := sceautest.OpenSQLite(b)
		journal := audit.NewJournal(nil)
		auth := ca.New(db, journal, ring, revocation.New(db, journal, revocation.Options{}), ca.Options{URLs: ca.URLs{Base: "http://127.0.0.1:8080"}})
		b.Cleanup(auth.Close)
		if err := auth.Bootstrap(context.Background(), sceau.System("bench"), sceautest.Specs()); err != nil {
			b.Fatal(err)
		}
		return auth
	}
	hsm, soft := authority(true), authority(false)
	csrs := benchCSRs(b, 256)
	const perRound = 1000
	issue := func(auth *ca.Authority) time.Duration {
		var next atomic.Int64
		var wg sync.WaitGroup
		start := time.Now()
		for range benchParallelism * runtime.GOMAXPROCS(0) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := next.Add(1); i <= perRound; i = next.Add(1) {
					if _, err := auth.IssueCSR(context.Background(), sceau.System("bench"),
						ca.Request{CA: "issuing", Profile: "server", CSR: csrs[int(i)%len(csrs)]}); err != nil {
						b.Error(err)
						return
					}
				}
			}()
		}
		wg.Wait()
		return time.Since(start)
	}
	issue(hsm) // warm both: sessions opened, keys found, statements prepared
	issue(soft)
	var tHSM, tSoft time.Duration
	round := 0
	for b.Loop() {
		if round%2 == 0 {
			tHSM += issue(hsm)
			tSoft += issue(soft)
		} else {
			tSoft += issue(soft)
			tHSM += issue(hsm)
		}
		round++
	}
	n := float64(perRound * round)
	b.ReportMetric(n/tHSM.Seconds(), "softhsm-certs/s")
	b.ReportMetric(n/tSoft.Seconds(), "keystore-certs/s")
	b.ReportMetric(tSoft.Seconds()/tHSM.Seconds(), "ratio")
}
