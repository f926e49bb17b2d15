package audit_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sceau/sceau/internal/audit"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/sceautest"
	"github.com/sceau/sceau/internal/store"
)

var paris, _ = time.LoadLocation("Europe/Paris")

// analysis is a journal with a clock and an analyzer over it.
type analysis struct {
	t     *testing.T
	db    *store.DB
	j     *audit.Journal
	clock *sceautest.Clock
	a     *audit.Analyzer
}

func newAnalysis(t *testing.T, rules audit.Rules, start time.Time) *analysis {
	db := sceautest.OpenSQLite(t)
	clock := sceautest.NewClock(start)
	j := audit.NewJournal(clock)
	return &analysis{t: t, db: db, j: j, clock: clock, a: audit.NewAnalyzer(db, j, rules, clock)}
}

func (x *analysis) add(n int, actor sceau.Actor, action, object string) {
	x.t.Helper()
	appendN(x.t, x.db, x.j, n, actor, action, object)
}

// run analyses and returns the rules of the alerts raised.
func (x *analysis) run() []string {
	x.t.Helper()
	alerts, err := x.a.Analyze(x.t.Context())
	if err != nil {
		x.t.Fatalf("Analyze: %v", err)
	}
	var rules []string
	for _, a := range alerts {
		rules = append(rules, a.Rule)
	}
	return rules
}

func (x *analysis) expect(what string, want ...string) {
	x.t.Helper()
	got := x.run()
	if strings.Join(got, ",") != strings.Join(want, ",") {
		x.t.Errorf("%s: alerts %v, want %v", what, got, want)
	}
}

var (
	alice = sceau.Actor{ID: "alice", Role: "registration-officer"}
	bob   = sceau.Actor{ID: "bob", Role: "security-officer"}
)

// AUD-6: a burst of failed logins on one account raises one alert.
func TestAUD6_FailedLoginBurstRaisesAnAlert(t *testing.T) {
	x := newAnalysis(t, audit.DefaultRules(), time.Date(2026, 6, 2, 10, 0, 0, 0, time.UTC))
	anon := sceau.Actor{ID: "alice"}
	for range 4 {
		x.add(1, anon, audit.ActionLoginFailed, "account:alice")
		x.clock.Advance(30 * time.Second)
	}
	x.add(3, sceau.Actor{ID: "bob"}, audit.ActionLoginFailed, "account:bob")
	x.expect("4 failures on alice, 3 on bob")
	x.add(1, anon, audit.ActionLoginFailed, "account:alice")
	x.expect("the fifth failure within 5 minutes", audit.RuleFailedLogins)
	x.add(2, anon, audit.ActionLoginFailed, "account:alice")
	x.expect("more failures in the same window")
	x.clock.Advance(time.Hour)
	x.add(4, anon, audit.ActionLoginFailed, "account:alice")
	x.expect("four failures an hour later")
}

// AUD-6: a person acting outside the working hours raises an alert; the
// service's own work does not.
func TestAUD6_OperationOutsideWorkingHoursRaisesAnAlert(t *testing.T) {
	rules := audit.DefaultRules()
	rules.WorkingHours = &audit.WorkingHours{Start: 7 * time.Hour, End: 20 * time.Hour, Location: paris}
	for d := time.Monday; d <= time.Friday; d++ {
		rules.WorkingHours.Days[d] = true
	}
	// Tuesday 2 June 2026, 10:00 in Paris.
	x := newAnalysis(t, rules, time.Date(2026, 6, 2, 10, 0, 0, 0, paris))
	x.add(1, alice, audit.ActionCertificateRevoked, "certificate:1")
	x.expect("Tuesday 10:00")
	x.clock.Advance(11 * time.Hour) // 21:00
	x.add(3, sceau.System("scheduler"), audit.ActionCRLIssued, "ca:issuing")
	x.expect("the scheduler at 21:00")
	x.add(1, alice, audit.ActionCertificateRevoked, "certificate:2")
	x.expect("alice at 21:00", audit.RuleOffHours)
	x.add(1, alice, audit.ActionCertificateRevoked, "certificate:3")
	x.expect("alice again within the hour")
	x.clock.Advance(4*24*time.Hour - 10*time.Hour) // Saturday 11:00
	x.add(1, bob, audit.ActionMaintenance, "system:hsm")
	x.expect("bob on Saturday", audit.RuleOffHours)
}

// AUD-6: a gap or a break in the chain raises an alert.
func TestAUD6_ChainGapOrBreakRaisesAnAlert(t *testing.T) {
	x := newAnalysis(t, audit.DefaultRules(), time.Date(2026, 6, 2, 10, 0, 0, 0, time.UTC))
	x.add(10, alice, audit.ActionCertificateIssued, "certificate:1")
	x.expect("an untouched journal")
	x.add(10, alice, audit.ActionCertificateIssued, "certificate:1")
	for _, trg := range []string{"audit_events_no_update", "audit_events_no_delete"} {
		if _, err := x.db.ExecContext(x.t.Context(), `DROP TRIGGER `+trg); err != nil {
			t.Fatal(err)
		}
	}
	exec(t, x.db, `UPDATE audit_events SET details = '{"forged":true}' WHERE seq = 13`)
	exec(t, x.db, `DELETE FROM audit_events WHERE seq = 17`)
	x.expect("an edited event and a missing one", audit.RuleChainBreak, audit.RuleChainBreak)
}

// AUD-6: the service starting again without having recorded its stop
// means logging stopped unrecorded, even across restarts of the analysis.
func TestAUD6_LoggingStoppedUnrecordedRaisesAnAlert(t *testing.T) {
	x := newAnalysis(t, audit.DefaultRules(), time.Date(2026, 6, 2, 10, 0, 0, 0, time.UTC))
	svc := sceau.System("service")
	x.add(1, svc, audit.ActionServiceStarted, "service:sceau")
	x.add(5, alice, audit.ActionCertificateIssued, "certificate:1")
	x.add(1, svc, audit.ActionServiceStopped, "service:sceau")
	x.add(1, svc, audit.ActionServiceStarted, "service:sceau")
	x.expect("a clean stop and start")
	x.add(5, alice, audit.ActionCertificateIssued, "certificate:1")
	x.expect("events")
	// A crash: no stop. The analysis restarts too.
	x.a = audit.NewAnalyzer(x.db, x.j, audit.DefaultRules(), x.clock)
	x.clock.Advance(time.Hour)
	x.add(1, svc, audit.ActionServiceStarted, "service:sceau")
	x.expect("a start after a crash", audit.RuleLoggingStopped)
	// A part of the journal failing is an alert too.
	x.add(1, sceau.System("audit"), audit.ActionLoggingFailed, "journal:sceau")
	x.expect("a logging failure", audit.RuleLoggingFailure)
}

// AUD-6: event times going back, or ahead of the clock, raise an alert.
func TestAUD6_ClockJumpRaisesAnAlert(t *testing.T) {
	x := newAnalysis(t, audit.DefaultRules(), time.Date(2026, 6, 2, 10, 0, 0, 0, time.UTC))
	x.add(3, alice, audit.ActionCertificateIssued, "certificate:1")
	x.clock.Advance(-time.Minute)
	x.add(1, alice, audit.ActionCertificateIssued, "certificate:1")
	x.expect("a minute back, within the tolerance")
	x.clock.Advance(-10 * time.Minute)
	x.add(1, alice, audit.ActionCertificateIssued, "certificate:1")
	x.expect("ten minutes back", audit.RuleClockJump)
	// An event dated an hour ahead of the analysis's clock.
	j := audit.NewJournal(fixedClock(x.clock.Now().Add(time.Hour)))
	appendN(t, x.db, j, 1, alice, audit.ActionCertificateIssued, "certificate:1")
	x.expect("an hour ahead", audit.RuleClockJump)
}

// AUD-6: a CA key activated outside a ceremony raises an alert; inside a
// running ceremony or a configured window it does not.
func TestAUD6_KeyActivatedOutsideCeremonyRaisesAnAlert(t *testing.T) {
	start := time.Date(2026, 6, 2, 10, 0, 0, 0, time.UTC)
	rules := audit.DefaultRules()
	rules.CeremonyWindows = []audit.Window{{Start: start.Add(48 * time.Hour), End: start.Add(50 * time.Hour)}}
	x := newAnalysis(t, rules, start)
	ops := sceau.Actor{ID: "operator", Role: "system-operator"}
	x.add(1, ops, audit.ActionKeyActivated, "key:ca-issuing")
	x.expect("an activation out of any ceremony", audit.RuleActivationOutsideCeremony)
	x.add(1, bob, audit.ActionCeremonyStarted, "ceremony:root-2026")
	x.add(1, ops, audit.ActionKeyActivated, "key:ca-root")
	x.add(1, bob, audit.ActionCeremonyEnded, "ceremony:root-2026")
	x.expect("an activation during a ceremony")
	x.clock.Advance(49 * time.Hour)
	x.add(1, ops, audit.ActionKeyActivated, "key:ca-issuing")
	x.expect("an activation within the planned window")
}

// AUD-6: many revocations in a short time raise one alert.
func TestAUD6_MassRevocationRaisesAnAlert(t *testing.T) {
	x := newAnalysis(t, audit.DefaultRules(), time.Date(2026, 6, 2, 10, 0, 0, 0, time.UTC))
	x.add(99, alice, audit.ActionCertificateRevoked, "certificate:1")
	x.expect("99 revocations")
	x.add(1, alice, audit.ActionCertificateRevoked, "certificate:1")
	x.expect("the hundredth within 10 minutes", audit.RuleMassRevocation)
	x.add(50, alice, audit.ActionCertificateRevoked, "certificate:1")
	x.expect("more in the same window")
}

// AUD-6: an alert is an audit.alert_raised event, listed by Alerts, logged
// by the service and posted to the webhook with its token.
func TestAUD6_AlertsAreRecordedListedLoggedAndPosted(t *testing.T) {
	var (
		mu   sync.Mutex
		got  []map[string]any
		auth []string
	)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var v map[string]any
		json.NewDecoder(r.Body).Decode(&v)
		mu.Lock()
		got = append(got, v)
		auth = append(auth, r.Header.Get("Authorization"))
		mu.Unlock()
	}))
	defer hook.Close()
	var logs syncBuf
	ctx := t.Context()
	db := sceautest.OpenSQLite(t)
	j := audit.NewJournal(nil)
	svc, err := audit.Start(ctx, audit.Options{DB: db, Journal: j, Signer: newSigner(t), KeyLabel: "audit-signing",
		Rules: audit.DefaultRules(), AnalysisInterval: 50 * time.Millisecond, Log: slog.New(slog.NewTextHandler(&logs, nil)),
		Webhook: &audit.Webhook{URL: hook.URL, Token: "s3cret"}})
	if err != nil {
		t.Fatal(err)
	}
	appendN(t, db, j, 5, sceau.Actor{ID: "mallory"}, audit.ActionLoginFailed, "account:root")
	waitFor(t, "the webhook", func() bool { mu.Lock(); defer mu.Unlock(); return len(got) == 1 })
	svc.Stop()
	if got[0]["rule"] != audit.RuleFailedLogins || auth[0] != "Bearer s3cret" {
		t.Errorf("webhook got %v with %q", got[0], auth[0])
	}
	if !strings.Contains(logs.String(), "audit alert") || !strings.Contains(logs.String(), audit.RuleFailedLogins) {
		t.Errorf("no log line for the alert:\n%s", logs.String())
	}
	alerts, err := audit.Alerts(ctx, db, time.Now().Add(-time.Hour), 10)
	if err != nil || len(alerts) != 1 || alerts[0].Rule != audit.RuleFailedLogins {
		t.Fatalf("Alerts = %+v, %v", alerts, err)
	}
	recs, err := audit.Read(ctx, db, alerts[0].Seq-1, 1)
	if err != nil || len(recs) != 1 || recs[0].Action != audit.ActionAlertRaised || recs[0].Actor != "system:analysis" ||
		!strings.Contains(recs[0].Details, "account:root") {
		t.Errorf("the alert's event: %+v, %v", recs, err)
	}
}

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

var _ io.Writer = (*syncBuf)(nil)

// SYS-4, AUD-6: the clock guard's drift and unreachable servers raise an
// alert each; the return in range does not.
func TestSYS4_ClockDriftAndUnreachableServersRaiseAlerts(t *testing.T) {
	x := newAnalysis(t, audit.DefaultRules(), time.Date(2026, 6, 2, 10, 0, 0, 0, time.UTC))
	guard := sceau.System("clock")
	x.add(1, guard, audit.ActionClockInSync, "clock:node-1")
	x.expect("in sync at start")
	x.add(1, guard, audit.ActionClockDrifted, "clock:node-1")
	x.expect("drifted", audit.RuleClockDrift)
	x.add(1, guard, audit.ActionClockInSync, "clock:node-1")
	x.add(1, guard, audit.ActionClockUnreachable, "clock:node-1")
	x.expect("back, then unreachable", audit.RuleClockUnreachable)
}
