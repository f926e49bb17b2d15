package node

import (
	"context"
	"os"
	"time"

	"github.com/sceau/sceau/internal/audit"
	"github.com/sceau/sceau/internal/clockguard"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/server"
	"github.com/sceau/sceau/internal/store"
)

// newClockGuard makes the node's clock guard from clock: (SYS-4). Each
// change of its verdict is journaled once and logged; the analysis raises
// the alerts (clock_drift, clock_unreachable).
func (n *Node) newClockGuard() *clockguard.Guard {
	c := n.Config.Clock
	return clockguard.New(clockguard.Options{Servers: c.Servers, Interval: c.Interval.Duration, MaxDrift: c.MaxDrift.Duration,
		Grace: c.Grace.Duration, Timeout: c.Timeout.Duration, OnChange: n.clockChanged})
}

// clockChanged journals a change of the clock guard's verdict (SYS-4):
// clock.in_sync (the first check, or a recovery), clock.drifted, and
// clock.unreachable (when no server answers, and again when the grace
// runs out and signing stops).
func (n *Node) clockChanged(prev, cur clockguard.Status) {
	action := audit.ActionClockInSync
	switch cur.State {
	case clockguard.Drifted:
		action = audit.ActionClockDrifted
		n.Log.Error("SYS-4: the clock drifted beyond clock.max_drift: nothing is signed until it is back within",
			"offset", cur.Offset, "max_drift", cur.MaxDrift, "answered", cur.Answered())
	case clockguard.Unreachable:
		action = audit.ActionClockUnreachable
		if cur.Signing {
			n.Log.Warn("SYS-4: no NTP server answers; signing goes on until the grace runs out", "until", cur.SignUntil)
		} else {
			n.Log.Error("SYS-4: no NTP server answers: nothing is signed until one answers within clock.max_drift")
		}
	default:
		n.Log.Info("SYS-4: the clock is within clock.max_drift of the NTP servers", "offset", cur.Offset, "answered", cur.Answered())
	}
	servers := make([]map[string]any, 0, len(cur.Answers))
	for _, a := range cur.Answers {
		s := map[string]any{"server": a.Server}
		if a.Err != "" {
			s["error"] = a.Err
		} else {
			s["offset_seconds"] = a.Offset.Seconds()
		}
		servers = append(servers, s)
	}
	details := map[string]any{"state": cur.State, "previous": prev.State, "offset_seconds": cur.Offset.Seconds(),
		"max_drift": cur.MaxDrift.String(), "answered": cur.Answered(), "servers": servers, "signing": cur.Signing}
	if !cur.SignUntil.IsZero() {
		details["signing_until"] = cur.SignUntil
	}
	if !cur.InSyncAt.IsZero() {
		details["in_sync_at"] = cur.InSyncAt
	}
	host, _ := os.Hostname()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := n.DB.InTx(ctx, func(tx *store.Tx) error {
		return n.Journal.Append(ctx, tx, audit.Event{Actor: sceau.System("clock"), Action: action, Object: "clock:" + host, Details: details})
	})
	if err != nil {
		n.Log.Error("cannot record the clock check in the audit journal", "action", action, "err", err)
	}
}

// clockReading is what the metrics show of the guard (SYS-4).
func (n *Node) clockReading() server.ClockReading {
	st := n.ClockGuard.Status()
	return server.ClockReading{Offset: st.Offset, CheckedAt: st.CheckedAt, InSync: st.State == clockguard.InSync,
		Refused: !st.Signing, Answered: st.Answered()}
}
