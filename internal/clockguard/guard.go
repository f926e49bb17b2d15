package clockguard

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sceau/sceau/internal/sceau"
)

// ErrClockDrift is wrapped by every refusal of the guard (SYS-4): the
// clock was measured beyond the drift limit, or could not be measured
// recently enough. errors.Is(err, clockguard.ErrClockDrift) tells it from
// any other unavailability; its kind is sceau.Unavailable.
var ErrClockDrift = errors.New("clockguard: the clock is not trusted for signing")

// State is what the last check found.
type State string

// The states of a guard.
const (
	Off         State = "off"         // no server configured: nothing is checked
	Unchecked   State = "unchecked"   // servers configured, no check made yet
	InSync      State = "in_sync"     // the last check measured an offset within MaxDrift
	Drifted     State = "drifted"     // the last check measured an offset beyond MaxDrift
	Unreachable State = "unreachable" // no server gave a valid answer at the last check
)

// Answer is one server's part in a check.
type Answer struct {
	Server string
	// Offset is the server's time minus this machine's (RFC 5905 θ):
	// positive when the local clock is behind.
	Offset time.Duration
	// Err says why the server does not count (no answer, an answer that
	// is not valid or not synchronized); empty when it answered.
	Err string
}

// Status is what the guard knows after its last check.
type Status struct {
	State State
	// CheckedAt is when the last check ended; zero before the first.
	CheckedAt time.Time
	// Offset is the median offset of the last check that got answers
	// (kept while no server answers); see Answer.Offset for its sign.
	Offset time.Duration
	// Answers are the servers' results at the last check.
	Answers []Answer
	// InSyncAt is when the last check within MaxDrift ended; zero if
	// none since the guard was made.
	InSyncAt time.Time
	// Signing tells whether the guard lets Sceau sign now; SignUntil is
	// when it stops without a new check in range (zero when Off or not
	// signing).
	Signing   bool
	SignUntil time.Time
	MaxDrift  time.Duration
	Servers   []string
}

// Answered is how many servers answered at the last check.
func (s Status) Answered() int {
	n := 0
	for _, a := range s.Answers {
		if a.Err == "" {
			n++
		}
	}
	return n
}

// Options configure a Guard.
type Options struct {
	// Servers are the NTP servers, "host" or "host:port" (port 123 by
	// default). None: the guard is Off.
	Servers []string
	// Interval between checks while in sync. Default: 10m.
	Interval time.Duration
	// Retry is the time between checks while drifted or unreachable, so
	// that a recovery is seen soon. Default: the shorter of Interval and 1m.
	Retry time.Duration
	// MaxDrift is the largest offset at which Sceau signs. Default: 1s.
	MaxDrift time.Duration
	// Grace is how long signing goes on past a check that was due
	// (Interval after the last one in range, plus Timeout) when no server
	// answers. Default: 0, stop at once.
	Grace time.Duration
	// Timeout bounds each server's query, name resolution included.
	// Default: 2s.
	Timeout time.Duration
	// OnChange, if set, is called after a check that changed the state or
	// the signing verdict, with the status before and after; calls come
	// one at a time, in order.
	OnChange func(prev, cur Status)
}

// Guard checks the clock and answers whether Sceau may sign (SYS-4).
type Guard struct {
	opts Options
	mu   sync.Mutex // one check at a time; OnChange calls in order
	cur  atomic.Pointer[snapshot]
}

// snapshot is one immutable verdict, swapped whole after each check.
type snapshot struct {
	st      Status
	inSync  time.Time // st.InSyncAt with its monotonic reading
	refusal error     // refused whatever the time (drifted, never in sync)
	until   time.Time // with a monotonic reading: signing stops then
	expired error     // the refusal once until has passed
}

// New returns a guard for o. It has checked nothing yet: with servers it
// refuses until Measure finds the clock in sync.
func New(o Options) *Guard {
	if o.Interval <= 0 {
		o.Interval = 10 * time.Minute
	}
	if o.Retry <= 0 {
		o.Retry = min(o.Interval, time.Minute)
	}
	if o.MaxDrift <= 0 {
		o.MaxDrift = time.Second
	}
	if o.Timeout <= 0 {
		o.Timeout = 2 * time.Second
	}
	o.Servers = append([]string(nil), o.Servers...)
	g := &Guard{opts: o}
	st := Status{State: Unchecked, MaxDrift: o.MaxDrift, Servers: o.Servers}
	s := &snapshot{st: st, refusal: refuse("the clock has not been checked against the NTP servers (%s) yet: nothing is signed until it is (SYS-4)",
		strings.Join(o.Servers, ", "))}
	if len(o.Servers) == 0 {
		st.State, st.Signing = Off, true
		s = &snapshot{st: st}
	}
	g.cur.Store(s)
	return g
}

// Err is nil while Sceau may sign, and otherwise the refusal: a
// sceau.Error of kind Unavailable wrapping ErrClockDrift, which names the
// offset or the missing answers. It is cheap (no network): every signing
// path calls it, SYS-4.
func (g *Guard) Err() error {
	s := g.cur.Load()
	if s.refusal != nil {
		return s.refusal
	}
	if s.expired != nil && !time.Now().Before(s.until) {
		return s.expired
	}
	return nil
}

// Status is the guard's last check, with the signing verdict of now.
func (g *Guard) Status() Status {
	s := g.cur.Load()
	st := s.st
	if st.Signing && g.Err() != nil {
		st.Signing, st.SignUntil = false, time.Time{}
	}
	return st
}

// Measure checks the clock now against every server and returns the new
// status. A check interrupted by ctx changes nothing.
func (g *Guard) Measure(ctx context.Context) Status {
	if len(g.opts.Servers) == 0 {
		return g.Status()
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	answers := g.query()
	if ctx.Err() != nil {
		return g.Status() // stopping: not a verdict on the clock
	}
	now := time.Now()
	prev := g.cur.Load()
	next := &snapshot{st: prev.st, inSync: prev.inSync}
	st := &next.st
	st.CheckedAt, st.Answers = now.Round(0), answers
	var offsets []time.Duration
	for _, a := range answers {
		if a.Err == "" {
			offsets = append(offsets, a.Offset)
		}
	}
	switch {
	case len(offsets) == 0:
		st.State = Unreachable
	default:
		st.Offset = median(offsets)
		st.State = Drifted
		if st.Offset.Abs() <= g.opts.MaxDrift {
			st.State, next.inSync, st.InSyncAt = InSync, now, now.Round(0)
		}
	}
	g.judge(next, now)
	g.cur.Store(next)
	if g.opts.OnChange != nil && (prev.st.State != st.State || prev.st.Signing != st.Signing) {
		g.opts.OnChange(prev.st, *st)
	}
	return *st
}

// judge sets the verdict of s, a check that ended at now (SYS-4).
func (g *Guard) judge(s *snapshot, now time.Time) {
	st := &s.st
	switch {
	case st.State == Drifted:
		ahead := "behind"
		if st.Offset < 0 {
			ahead = "ahead of"
		}
		s.refusal = refuse("the clock is %s %s the NTP servers (median of %d of %d answers: %s), beyond clock.max_drift %s: "+
			"nothing is signed until it is back within (SYS-4)", st.Offset.Abs(), ahead, st.Answered(), len(st.Answers), answersText(st.Answers), g.opts.MaxDrift)
	case s.inSync.IsZero():
		s.refusal = refuse("no NTP server answered (%s): the clock cannot be checked, so nothing is signed until one answers "+
			"within clock.max_drift (SYS-4)", answersText(st.Answers))
	default:
		s.until = s.inSync.Add(g.opts.Interval + g.opts.Timeout + g.opts.Grace)
		if st.State == InSync {
			s.expired = refuse("the clock was last found within clock.max_drift at %s and not checked since: signing stopped at %s (SYS-4)",
				stamp(st.InSyncAt), stamp(s.until))
		} else {
			s.expired = refuse("no NTP server has answered within clock.max_drift since %s (%s): signing stopped at %s, "+
				"clock.interval + clock.grace after that check (SYS-4)", stamp(st.InSyncAt), answersText(st.Answers), stamp(s.until))
		}
	}
	st.Signing = s.refusal == nil && now.Before(s.until)
	st.SignUntil = time.Time{}
	if st.Signing {
		st.SignUntil = s.until.Round(0)
	}
}

// Run checks the clock every Interval while in sync, and every Retry
// otherwise, until ctx ends. The first check is the caller's (Measure).
func (g *Guard) Run(ctx context.Context) {
	if len(g.opts.Servers) == 0 {
		return
	}
	for {
		wait := g.opts.Interval
		if g.cur.Load().st.State != InSync {
			wait = g.opts.Retry
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		g.Measure(ctx)
	}
}

// Summary is one line on the guard for /healthz and logs.
func (g *Guard) Summary() string {
	st := g.Status()
	switch st.State {
	case Off:
		return "off: clock.servers is empty, the clock is not checked against NTP (SYS-4)"
	case Unchecked:
		return "unchecked: no check made yet, nothing is signed"
	}
	line := fmt.Sprintf("%s: offset %+.3fs (limit %s), %d of %d NTP servers answered at %s", strings.ReplaceAll(string(st.State), "_", " "),
		st.Offset.Seconds(), st.MaxDrift, st.Answered(), len(st.Answers), stamp(st.CheckedAt))
	if st.Signing {
		return line + ", signing allowed until " + stamp(st.SignUntil) + " without a new check"
	}
	return line + ", signing refused"
}

func refuse(format string, args ...any) error {
	return sceau.E(sceau.Unavailable, "clock", fmt.Sprintf(format, args...), ErrClockDrift)
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// answersText lists each server with its offset or why it does not count.
func answersText(as []Answer) string {
	parts := make([]string, 0, len(as))
	for _, a := range as {
		if a.Err != "" {
			parts = append(parts, a.Server+": "+a.Err)
		} else {
			parts = append(parts, fmt.Sprintf("%s %+.3fs", a.Server, a.Offset.Seconds()))
		}
	}
	return strings.Join(parts, "; ")
}
