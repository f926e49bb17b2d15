package clockguard

import (
	"net"
	"slices"
	"sync"
	"time"

	"github.com/beevik/ntp"
)

// query asks every server at once and waits for all of them (each within
// Timeout).
func (g *Guard) query() []Answer {
	out := make([]Answer, len(g.opts.Servers))
	var wg sync.WaitGroup
	for i, server := range g.opts.Servers {
		wg.Go(func() {
			out[i] = Answer{Server: server}
			off, err := queryNTP(server, g.opts.Timeout)
			if err != nil {
				out[i].Err = err.Error()
				return
			}
			out[i].Offset = off
		})
	}
	wg.Wait()
	return out
}

// queryNTP asks one server for its time (RFC 5905, NTPv4 client mode) and
// returns the clock offset it measures. An answer that the RFC's checks
// reject (kiss-o'-death, stratum 0 or 16, leap indicator 3: not
// synchronized, stale reference time, excessive dispersion) is an error:
// it does not count.
func queryNTP(server string, timeout time.Duration) (time.Duration, error) {
	r, err := ntp.QueryWithOptions(server, ntp.QueryOptions{
		Timeout: timeout,
		// Resolving the name is bounded by the timeout too.
		Dialer: func(_, remote string) (net.Conn, error) {
			return (&net.Dialer{Timeout: timeout}).Dial("udp", remote)
		},
	})
	if err != nil {
		return 0, err
	}
	if err := r.Validate(); err != nil {
		return 0, err
	}
	return r.ClockOffset, nil
}

// median is the middle offset, or the mean of the two middle ones: one
// server that is far off (a falseticker) among three cannot move it.
func median(offsets []time.Duration) time.Duration {
	s := slices.Clone(offsets)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return s[n/2-1] + (s[n/2]-s[n/2-1])/2
}
