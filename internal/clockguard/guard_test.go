package clockguard_test

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sceau/sceau/internal/clockguard"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/sceautest"
)

// changes records the guard's OnChange calls.
type changes struct {
	mu   sync.Mutex
	seen []string
}

func (c *changes) on(prev, cur clockguard.Status) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seen = append(c.seen, string(prev.State)+">"+string(cur.State))
}

func (c *changes) list() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return strings.Join(c.seen, " ")
}

func addrs(servers ...*sceautest.NTPServer) []string {
	var out []string
	for _, s := range servers {
		out = append(out, s.Addr)
	}
	return out
}

// wantRefusal checks that err is the guard's one precise refusal: kind
// Unavailable, wrapping ErrClockDrift, with a message holding each of want.
func wantRefusal(t *testing.T, err error, want ...string) {
	t.Helper()
	if !errors.Is(err, clockguard.ErrClockDrift) || sceau.KindOf(err) != sceau.Unavailable {
		t.Fatalf("refusal %v (kind %v), want Unavailable wrapping ErrClockDrift", err, sceau.KindOf(err))
	}
	for _, w := range want {
		if !strings.Contains(sceau.Message(err), w) {
			t.Errorf("refusal %q does not say %q", sceau.Message(err), w)
		}
	}
}

// SYS-4: a clock within the limit of real NTP servers (RFC 5905 over UDP
// on 127.0.0.1) signs; the same servers 5 s off stop it with the precise
// error naming the offset and the servers; back in range, it signs again.
// Each change is told once, in order.
func TestSYS4_DriftBeyondTheLimitRefusesAndRecoveryResumes(t *testing.T) {
	a, b := sceautest.StartNTP(t, 0), sceautest.StartNTP(t, 0)
	var ch changes
	g := clockguard.New(clockguard.Options{Servers: addrs(a, b), MaxDrift: time.Second, Timeout: time.Second, OnChange: ch.on})
	wantRefusal(t, g.Err(), "not been checked")

	st := g.Measure(t.Context())
	if st.State != clockguard.InSync || st.Answered() != 2 || st.Offset.Abs() > 100*time.Millisecond || !st.Signing {
		t.Fatalf("in sync: %+v", st)
	}
	if err := g.Err(); err != nil {
		t.Fatalf("a clock in sync refuses: %v", err)
	}

	a.SetOffset(5 * time.Second)
	b.SetOffset(5 * time.Second)
	st = g.Measure(t.Context())
	if st.State != clockguard.Drifted || st.Signing || st.Offset < 4900*time.Millisecond || st.Offset > 5100*time.Millisecond {
		t.Fatalf("5 s off: %+v", st)
	}
	wantRefusal(t, g.Err(), "behind the NTP servers", "beyond clock.max_drift 1s", a.Addr, b.Addr)
	if s := g.Summary(); !strings.Contains(s, "drifted: offset +5.0") || !strings.Contains(s, "signing refused") {
		t.Errorf("summary while drifted: %s", s)
	}
	g.Measure(t.Context()) // still drifted: no second change
	// A clock ahead of the servers says so.
	a.SetOffset(-3 * time.Second)
	b.SetOffset(-3 * time.Second)
	g.Measure(t.Context())
	wantRefusal(t, g.Err(), "ahead of the NTP servers")

	a.SetOffset(0)
	b.SetOffset(0)
	if st := g.Measure(t.Context()); st.State != clockguard.InSync || g.Err() != nil {
		t.Fatalf("back in range: %+v, %v", st, g.Err())
	}
	if got, want := ch.list(), "unchecked>in_sync in_sync>drifted drifted>in_sync"; got != want {
		t.Errorf("changes %q, want %q", got, want)
	}
}

// SYS-4: the offset is the median of the servers that answer: one server
// far off among three does not move it, a silent one and one that says it
// is not synchronized do not count, and the status says why.
func TestSYS4_MedianOfTheServersThatAnswer(t *testing.T) {
	good1, good2 := sceautest.StartNTP(t, 20*time.Millisecond), sceautest.StartNTP(t, 40*time.Millisecond)
	falseticker := sceautest.StartNTP(t, 10*time.Minute)
	silent, unsynced := sceautest.StartNTP(t, 0), sceautest.StartNTP(t, 0)
	silent.SetSilent(true)
	unsynced.SetUnsynchronized(true)
	g := clockguard.New(clockguard.Options{Servers: addrs(good1, falseticker, silent, good2, unsynced), Timeout: 300 * time.Millisecond})
	st := g.Measure(t.Context())
	if st.State != clockguard.InSync || st.Answered() != 3 {
		t.Fatalf("status %+v", st)
	}
	if st.Offset < 20*time.Millisecond || st.Offset > 80*time.Millisecond {
		t.Errorf("median offset %s, want about 40ms (the falseticker's 10m ignored)", st.Offset)
	}
	for _, a := range st.Answers {
		switch a.Server {
		case silent.Addr:
			if !strings.Contains(a.Err, "timeout") {
				t.Errorf("silent server: %q", a.Err)
			}
		case unsynced.Addr:
			if !strings.Contains(a.Err, "leap") {
				t.Errorf("unsynchronized server: %q", a.Err)
			}
		default:
			if a.Err != "" {
				t.Errorf("%s: %q", a.Server, a.Err)
			}
		}
	}
	if silent.Requests() == 0 || unsynced.Requests() == 0 {
		t.Error("the servers were not asked")
	}
}

// SYS-4: no answer is not "in sync". At first start nothing is signed;
// after a check in range, signing goes on for Interval + Timeout + Grace
// and then stops with an error naming the servers, and an answer in range
// resumes it.
func TestSYS4_UnreachableServersStopSigningAfterTheGrace(t *testing.T) {
	// A port where nothing listens, and a server that reads and drops.
	closed := func() string {
		c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		return c.LocalAddr().String()
	}()
	srv := sceautest.StartNTP(t, 0)
	srv.SetSilent(true)
	var ch changes
	const interval, timeout, grace = 300 * time.Millisecond, 200 * time.Millisecond, 500 * time.Millisecond
	g := clockguard.New(clockguard.Options{Servers: []string{closed, srv.Addr}, Interval: interval, Timeout: timeout, Grace: grace, OnChange: ch.on})

	st := g.Measure(t.Context())
	if st.State != clockguard.Unreachable || st.Signing || st.Answered() != 0 {
		t.Fatalf("first check without answers: %+v", st)
	}
	wantRefusal(t, g.Err(), "no NTP server answered", closed, srv.Addr)

	srv.SetSilent(false)
	if st := g.Measure(t.Context()); st.State != clockguard.InSync {
		t.Fatalf("answer: %+v", st)
	}
	inSync := time.Now()
	srv.SetSilent(true)
	st = g.Measure(t.Context())
	if st.State != clockguard.Unreachable || !st.Signing || st.SignUntil.IsZero() {
		t.Fatalf("unreachable within the grace: %+v", st)
	}
	if err := g.Err(); err != nil {
		t.Fatalf("within the grace: %v", err)
	}
	for time.Since(inSync) < interval+timeout+grace+50*time.Millisecond {
		time.Sleep(20 * time.Millisecond)
	}
	wantRefusal(t, g.Err(), "no NTP server has answered within clock.max_drift since", srv.Addr)
	if g.Status().Signing {
		t.Error("the status says signing past the grace")
	}
	g.Measure(t.Context()) // the verdict changes: told once
	srv.SetSilent(false)
	g.Measure(t.Context())
	if err := g.Err(); err != nil {
		t.Fatalf("an answer in range: %v", err)
	}
	if got, want := ch.list(), "unchecked>unreachable unreachable>in_sync in_sync>unreachable unreachable>unreachable unreachable>in_sync"; got != want {
		t.Errorf("changes %q, want %q", got, want)
	}
}

// SYS-4: a check that stalls stops signing too, as a silent server would:
// the verdict of a check in range lasts Interval + Timeout + Grace.
func TestSYS4_AVerdictInRangeDoesNotLastForever(t *testing.T) {
	srv := sceautest.StartNTP(t, 0)
	g := clockguard.New(clockguard.Options{Servers: addrs(srv), Interval: 100 * time.Millisecond, Timeout: 100 * time.Millisecond})
	g.Measure(t.Context())
	if err := g.Err(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(250 * time.Millisecond)
	wantRefusal(t, g.Err(), "not checked since")
}

// SYS-4: Err, on every signing path, never touches the network; Run
// checks in the background at the interval.
func TestSYS4_ErrIsCheapAndRunChecksAtTheInterval(t *testing.T) {
	srv := sceautest.StartNTP(t, 0)
	g := clockguard.New(clockguard.Options{Servers: addrs(srv), Interval: 50 * time.Millisecond, Timeout: 200 * time.Millisecond})
	g.Measure(t.Context())
	asked := srv.Requests()
	start := time.Now()
	for range 100000 {
		if err := g.Err(); err != nil {
			t.Fatal(err)
		}
	}
	if d := time.Since(start); d > time.Second { // about 10ms; slack for a loaded machine under -race
		t.Errorf("100000 calls of Err took %s", d)
	}
	if srv.Requests() != asked {
		t.Fatal("Err queried the server")
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { g.Run(ctx); close(done) }()
	deadline := time.Now().Add(5 * time.Second)
	for srv.Requests() < asked+3 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	<-done
	if srv.Requests() < asked+3 {
		t.Errorf("Run made %d checks in 5s at a 50ms interval", srv.Requests()-asked)
	}
}

// SYS-4: without servers the guard is off: it never refuses, checks
// nothing, and says so.
func TestSYS4_NoServersIsOff(t *testing.T) {
	g := clockguard.New(clockguard.Options{})
	if st := g.Measure(t.Context()); st.State != clockguard.Off || !st.Signing {
		t.Fatalf("status %+v", st)
	}
	if err := g.Err(); err != nil {
		t.Fatal(err)
	}
	if s := g.Summary(); !strings.Contains(s, "clock.servers is empty") {
		t.Errorf("summary %q", s)
	}
}
