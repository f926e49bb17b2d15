package bench

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sceau/sceau/internal/sceau"
)

// run is what runClients measured.
type run struct {
	elapsed    time.Duration
	latencies  []time.Duration // of the successful requests, sorted
	requests   int64
	errors     int64
	firstError string
}

// runClients runs do from one goroutine per client, for d or, if
// count > 0, for exactly count requests (i is the request's number),
// timing each one. With a profile file, the run is CPU-profiled. Progress
// goes to pw unless it is nil.
func runClients(ctx context.Context, pw io.Writer, name string, clients []*rawClient, d time.Duration, count int, profile string,
	do func(c *rawClient, i int) error) (*run, error) {
	var (
		next, done, failed atomic.Int64
		firstErr           sync.Once
		r                  run
		mu                 sync.Mutex
	)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if profile != "" {
		f, err := os.Create(profile)
		if err != nil {
			return nil, sceau.E(sceau.Invalid, "bench", "cannot create the profile file", err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return nil, sceau.E(sceau.Internal, "bench", "cannot start the CPU profile", err)
		}
		defer pprof.StopCPUProfile()
	}
	resetPeakMemory()
	start := time.Now()
	deadline := start.Add(d)
	stopProgress := showProgress(pw, name, start, &done, &failed)
	var wg sync.WaitGroup
	for _, c := range clients {
		wg.Go(func() {
			lat := make([]time.Duration, 0, 1<<14)
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if count > 0 && i >= count || count == 0 && !time.Now().Before(deadline) {
					break
				}
				t := time.Now()
				err := do(c, i)
				el := time.Since(t)
				if err != nil {
					if ctx.Err() != nil {
						break
					}
					failed.Add(1)
					firstErr.Do(func() { r.firstError = err.Error() })
				} else {
					lat = append(lat, el)
				}
				done.Add(1)
			}
			mu.Lock()
			r.latencies = append(r.latencies, lat...)
			mu.Unlock()
		})
	}
	wg.Wait()
	r.elapsed = time.Since(start)
	stopProgress()
	if err := ctx.Err(); err != nil {
		return nil, sceau.E(sceau.Unavailable, "bench", "interrupted", err)
	}
	r.requests, r.errors = done.Load(), failed.Load()
	slices.Sort(r.latencies)
	if r.requests > 0 && r.errors == r.requests {
		return &r, sceau.Errorf(sceau.Unavailable, "bench", "%s: every request failed; the first: %s", name, r.firstError)
	}
	return &r, nil
}

// progress prints a step to pw, over the line before; nil prints nothing.
func progress(pw io.Writer, format string, args ...any) {
	if pw != nil {
		fmt.Fprintf(pw, "\r\033[K"+format, args...)
	}
}

// showProgress rewrites one status line on pw until stopped; nil shows
// nothing.
func showProgress(pw io.Writer, name string, start time.Time, done, failed *atomic.Int64) (stop func()) {
	if pw == nil {
		return func() {}
	}
	quit, finished := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(250 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-quit:
				fmt.Fprint(pw, "\r\033[K")
				return
			case <-t.C:
				n := done.Load()
				fmt.Fprintf(pw, "\r\033[K%s: %d requests, %d errors, %.0f/s", name, n, failed.Load(),
					float64(n)/time.Since(start).Seconds())
			}
		}
	}()
	return func() { close(quit); <-finished }
}
