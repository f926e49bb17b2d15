package node

import (
	"testing"
	"time"
)

// AUD-6: the journal hears of at most refusalsPerPeer refusals per peer and
// window, and refusalsTotal from all peers; the next event of a peer says
// how many of its refusals were only counted.
func TestAUD6_RefusalsAreRateLimitedPerPeerAndInAll(t *testing.T) {
	now := time.Date(2026, 12, 7, 3, 0, 0, 0, time.UTC)
	h := &handshakeRecorder{now: func() time.Time { return now }, peers: map[string]*peerWindow{}}
	for i := range refusalsPerPeer + 5 {
		ok, sup := h.admit("192.0.2.1")
		if ok != (i < refusalsPerPeer) || sup != 0 {
			t.Fatalf("refusal %d: recorded %v, suppressed %d", i+1, ok, sup)
		}
	}
	now = now.Add(refusalWindow)
	if ok, sup := h.admit("192.0.2.1"); !ok || sup != 5 {
		t.Errorf("first refusal of the next window: recorded %v, suppressed before %d; want true, 5", ok, sup)
	}
	if ok, sup := h.admit("192.0.2.1"); !ok || sup != 0 {
		t.Errorf("second refusal of the next window: recorded %v, suppressed before %d; want true, 0", ok, sup)
	}
	recorded := 2
	for i := 0; recorded < refusalsTotal+10; i++ {
		peer := "198.51.100." + string(rune('0'+i%10)) + string(rune('0'+i/10%10))
		if ok, _ := h.admit(peer); ok {
			recorded++
		} else {
			break
		}
	}
	if recorded != refusalsTotal {
		t.Errorf("%d refusals recorded in one window from many peers; want the total limit %d", recorded, refusalsTotal)
	}
}
