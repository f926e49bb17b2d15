package node

import (
	"context"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/sceau/sceau/internal/audit"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/server"
	"github.com/sceau/sceau/internal/store"
)

// Refused handshakes are journalled as login.failed on the peer (AUD-6), so
// the failed-logins rule sees a probe of the admin port. A prober must not
// be able to flood the journal: each peer host gets at most refusalsPerPeer
// events per refusalWindow, and all peers together refusalsTotal; the
// refusals beyond are counted and the count goes into the peer's next event
// and the log.
const (
	refusalWindow   = time.Minute
	refusalsPerPeer = 10
	refusalsTotal   = 120
	maxPeerWindows  = 10000
)

type peerWindow struct {
	start      time.Time
	recorded   int
	suppressed int
}

// handshakeRecorder turns the admin listener's refusals into events and
// log lines.
type handshakeRecorder struct {
	db      *store.DB
	journal *audit.Journal
	log     *slog.Logger
	now     func() time.Time

	mu          sync.Mutex
	peers       map[string]*peerWindow
	windowStart time.Time
	total       int
}

func newHandshakeRecorder(n *Node, log *slog.Logger) *handshakeRecorder {
	return &handshakeRecorder{db: n.DB, journal: n.Journal, log: log, now: time.Now, peers: map[string]*peerWindow{}}
}

// admit says whether a refusal from host is recorded now and how many of
// its refusals were suppressed before it.
func (h *handshakeRecorder) admit(host string) (record bool, suppressed int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	now := h.now()
	if now.Sub(h.windowStart) >= refusalWindow {
		h.windowStart, h.total = now, 0
	}
	w := h.peers[host]
	if w == nil || now.Sub(w.start) >= refusalWindow {
		carried := 0
		if w != nil {
			carried = w.suppressed
		}
		if len(h.peers) >= maxPeerWindows {
			for k, o := range h.peers {
				if now.Sub(o.start) >= refusalWindow {
					delete(h.peers, k)
				}
			}
		}
		w = &peerWindow{start: now, suppressed: carried}
		h.peers[host] = w
	}
	if w.recorded >= refusalsPerPeer || h.total >= refusalsTotal {
		w.suppressed++
		return false, 0
	}
	w.recorded++
	h.total++
	suppressed, w.suppressed = w.suppressed, 0
	return true, suppressed
}

func (h *handshakeRecorder) refused(r server.HandshakeRefusal) {
	host, _, err := net.SplitHostPort(r.Peer)
	if err != nil {
		host = r.Peer
	}
	record, suppressed := h.admit(host)
	if !record {
		return
	}
	args := []any{"peer", r.Peer, "reason", r.Reason}
	details := map[string]any{"peer": r.Peer, "reason": r.Reason, "listener": "admin"}
	if r.SHA256 != "" {
		args = append(args, "subject", r.Subject, "issuer", r.Issuer, "sha256", r.SHA256)
		details["certificate"] = map[string]any{"subject": r.Subject, "issuer": r.Issuer, "sha256": r.SHA256}
	}
	if suppressed > 0 {
		args = append(args, "suppressed_before", suppressed)
		details["suppressed_before"] = suppressed
	}
	h.log.Warn("admin TLS handshake refused", args...)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	peer := "peer:" + host
	err = h.db.InTx(ctx, func(tx *store.Tx) error {
		return h.journal.Append(ctx, tx, audit.Event{Actor: sceau.Actor{ID: peer}, Action: audit.ActionLoginFailed, Object: peer, Details: details})
	})
	if err != nil {
		h.log.Error("cannot record a refused admin handshake in the journal", "peer", r.Peer, "err", err)
	}
}
