package server_test

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// inFlight runs one(w, i) for every i in [from, to) on workers goroutines
// (w is the worker's index) and returns the time it took; an error fails b
// and stops that worker.
func inFlight(b *testing.B, workers, from, to int, one func(w, i int) error) time.Duration {
	var next atomic.Int64
	next.Store(int64(from))
	var wg sync.WaitGroup
	start := time.Now()
	for w := range workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= to {
					return
				}
				if err := one(w, i); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	return time.Since(start)
}

// alternated measures x and y over b.N items each in rounds, alternating
// which goes first, so that neither runs on a larger database or a quieter
// machine only, and reports both rates (xUnit/s, yUnit/s) and y's over
// x's ("ratio"). It resets and stops b's timer.
func alternated(b *testing.B, rounds int, xUnit string, x func(from, to int) time.Duration, yUnit string, y func(from, to int) time.Duration) {
	n := b.N
	b.ResetTimer()
	var tx, ty time.Duration
	for r := range rounds {
		from, to := n*r/rounds, n*(r+1)/rounds
		if r%2 == 0 {
			tx += x(from, to)
			ty += y(from, to)
		} else {
			ty += y(from, to)
			tx += x(from, to)
		}
	}
	b.StopTimer()
	xRate, yRate := float64(n)/tx.Seconds(), float64(n)/ty.Seconds()
	b.ReportMetric(xRate, xUnit+"/s")
	b.ReportMetric(yRate, yUnit+"/s")
	b.ReportMetric(yRate/xRate, "ratio")
}
