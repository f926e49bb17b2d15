package incident_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/sceau/sceau/internal/audit"
	"github.com/sceau/sceau/internal/incident"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/sceautest"
	"github.com/sceau/sceau/internal/store"
)

// INC-4: a major incident owes its notification to the supervisory
// authority and to the conformity assessment body, each due 24 hours after
// detection; it starts the compromise procedure; it is closed only once
// both are recorded done.
func TestINC4_AMajorIncidentOwesTwoNotificationsWithin24Hours(t *testing.T) {
	sceautest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		clock := sceautest.NewClock(time.Date(2026, 12, 7, 2, 30, 0, 0, time.UTC))
		var started []int64
		s := incident.NewService(db, audit.NewJournal(nil), incident.Options{Clock: clock, CompromiseCommand: "sceau ca compromise CA",
			OnMajor: func(_ context.Context, in *incident.Incident) { started = append(started, in.ID) }})
		detected := clock.Now().Add(-2 * time.Hour)
		in, err := s.Open(anyone, so, incident.New{Kind: "key-loss", Severity: "major", Title: "HSM backup token missing", DetectedAt: detected})
		if err != nil {
			t.Fatal(err)
		}
		if len(in.Obligations) != 2 {
			t.Fatalf("obligations: %+v", in.Obligations)
		}
		for i, k := range []incident.ObligationKind{incident.ConformityBody, incident.SupervisoryAuthority} {
			if o := in.Obligations[i]; o.Kind != k || !o.DueAt.Equal(detected.Add(24*time.Hour)) || o.Done() {
				t.Errorf("obligation %d: %+v, want %s due %s", i, o, k, detected.Add(24*time.Hour))
			}
		}
		if len(started) != 1 || started[0] != in.ID {
			t.Errorf("OnMajor called for %v", started)
		}
		var timeline []string
		for _, n := range in.Timeline {
			timeline = append(timeline, n.Text)
		}
		if tl := strings.Join(timeline, "\n"); !strings.Contains(tl, "compromise procedure: to start — sceau ca compromise CA") ||
			!strings.Contains(tl, "notify the supervisory authority by 2026-12-08T00:30:00Z") {
			t.Errorf("timeline:\n%s", tl)
		}
		expectEvent(t, db, audit.ActionIncidentOpened, `"compromise_procedure":"to start"`)
		if _, err := s.Close(anyone, so, in.ID, "found"); sceau.KindOf(err) != sceau.Conflict || !strings.Contains(err.Error(), "still owes") {
			t.Fatalf("closing with obligations pending: %v", err)
		}
		if _, err := s.ObligationDone(anyone, so, in.ID, incident.SupervisoryAuthority, ""); sceau.KindOf(err) != sceau.Invalid {
			t.Errorf("done without a reference: %v", err)
		}
		clock.Advance(3 * time.Hour)
		o, err := s.ObligationDone(anyone, so, in.ID, incident.SupervisoryAuthority, "ANSSI ticket 2026-4411")
		if err != nil || !o.DoneAt.Equal(clock.Now()) || o.Reference != "ANSSI ticket 2026-4411" {
			t.Fatalf("done: %+v %v", o, err)
		}
		if _, err := s.ObligationDone(anyone, so, in.ID, incident.SupervisoryAuthority, "again"); sceau.KindOf(err) != sceau.Conflict {
			t.Errorf("done twice: %v", err)
		}
		if _, err := s.ObligationDone(anyone, so, in.ID, incident.ConformityBody, "mail to the CAB, 2026-12-07"); err != nil {
			t.Fatal(err)
		}
		expectEvent(t, db, audit.ActionIncidentObligationDone, "ANSSI ticket 2026-4411")
		if _, err := s.Close(anyone, so, in.ID, "token found in the safe; key not compromised"); err != nil {
			t.Fatalf("close once both are done: %v", err)
		}
	})
}

// INC-4, AUD-6: before the due time (when less than the margin is left),
// and again once it has passed, each obligation not done is journaled
// once, the analysis raises incident_deadline, the recipients are told,
// and incident list marks the incident overdue.
func TestINC4_AlertBeforeTheDueTime(t *testing.T) {
	sceautest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		clock := sceautest.NewClock(time.Date(2026, 12, 7, 2, 30, 0, 0, time.UTC))
		j := audit.NewJournal(nil)
		r := sceautest.StartSMTPRelay(t, false)
		s := incident.NewService(db, j, incident.Options{Clock: clock, Senders: []incident.Sender{mailer(t, r)},
			Recipients: officers("rssi@ca.example.org")})
		in, err := s.Open(anyone, so, incident.New{Kind: "suspected-compromise", Severity: "major", Title: "Issuing CA key may have leaked"})
		if err != nil {
			t.Fatal(err)
		}
		if d, err := s.CheckDeadlines(anyone); err != nil || len(d) != 0 {
			t.Fatalf("at once: %+v %v", d, err)
		}
		clock.Advance(19*time.Hour + 59*time.Minute)
		if d, _ := s.CheckDeadlines(anyone); len(d) != 0 {
			t.Fatalf("with more than the 4h margin left: %+v", d)
		}
		clock.Advance(2 * time.Minute) // 3h59m left
		d, err := s.CheckDeadlines(anyone)
		if err != nil || len(d) != 2 || d[0].Overdue || d[0].Left > 4*time.Hour {
			t.Fatalf("within the margin: %+v %v", d, err)
		}
		if d, _ := s.CheckDeadlines(anyone); len(d) != 0 {
			t.Fatalf("raised twice: %+v", d)
		}
		if ev := events(t, db, audit.ActionIncidentObligationDue); len(ev) != 2 {
			t.Errorf("%d obligation_due events, want one per obligation", len(ev))
		}
		alerts, err := audit.NewAnalyzer(db, j, audit.DefaultRules(), clock).Analyze(anyone)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, a := range alerts {
			if a.Rule == audit.RuleIncidentDeadline {
				n++
			}
		}
		if n != 2 {
			t.Errorf("%d incident_deadline alerts, want 2: %+v", n, alerts)
		}
		if _, err := s.Deliver(anyone); err != nil {
			t.Fatal(err)
		}
		var subjects []string
		for _, m := range r.Received() {
			if i := strings.Index(m.Data, "Subject: "); i >= 0 {
				subjects = append(subjects, strings.SplitN(m.Data[i:], "\r\n", 2)[0])
			}
		}
		if len(subjects) != 3 || !strings.Contains(strings.Join(subjects, "\n"), "is due at") {
			t.Errorf("the officer was told: %q", subjects)
		}
		if list, _ := s.List(anyone, incident.Filter{}); len(list) != 1 || list[0].Overdue {
			t.Errorf("not overdue yet: %+v", list)
		}
		clock.Advance(4 * time.Hour)
		d, _ = s.CheckDeadlines(anyone)
		if len(d) != 2 || !d[0].Overdue {
			t.Fatalf("past the due time: %+v", d)
		}
		expectEvent(t, db, audit.ActionIncidentObligationOverdue, `"kind":"supervisory-authority"`)
		list, _ := s.List(anyone, incident.Filter{})
		if len(list) != 1 || !list[0].Overdue || list[0].ID != in.ID {
			t.Errorf("incident list marks it overdue: %+v", list)
		}
		st, _ := s.Status(anyone)
		if st.Open != 1 || st.Obligations != 2 || st.Overdue != 2 || !st.NextDue.Equal(in.DetectedAt.Add(24*time.Hour)) {
			t.Errorf("status %+v", st)
		}
		alerts, _ = audit.NewAnalyzer(db, j, audit.DefaultRules(), clock).Analyze(anyone)
		if len(alerts) == 0 || !strings.Contains(alerts[len(alerts)-1].Message, "OVERDUE") {
			t.Errorf("overdue alerts: %+v", alerts)
		}
	})
}

// INC-1, INC-4: an incident opened moderate and escalated to major owes
// its notifications from its detection, not from the escalation; a
// severity is never lowered; the recipients are told.
func TestINC4_EscalatedToMajorOwesFromTheDetection(t *testing.T) {
	sceautest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		clock := sceautest.NewClock(time.Date(2026, 12, 7, 2, 30, 0, 0, time.UTC))
		r := sceautest.StartSMTPRelay(t, false)
		majors := 0
		s := incident.NewService(db, audit.NewJournal(nil), incident.Options{Clock: clock, Senders: []incident.Sender{mailer(t, r)},
			Recipients: officers("rssi@ca.example.org"), OnMajor: func(context.Context, *incident.Incident) { majors++ }})
		detected := clock.Now().Add(-time.Hour)
		in, err := s.Open(anyone, so, incident.New{Kind: "suspected-compromise", Severity: "moderate", Title: "Odd OCSP signatures", DetectedAt: detected})
		if err != nil {
			t.Fatal(err)
		}
		clock.Advance(5 * time.Hour)
		if _, err := s.Escalate(anyone, so, in.ID, incident.Moderate, "x"); sceau.KindOf(err) != sceau.Conflict {
			t.Errorf("escalating to the same severity: %v", err)
		}
		if _, err := s.Escalate(anyone, so, in.ID, incident.Major, ""); sceau.KindOf(err) != sceau.Invalid {
			t.Errorf("escalating without a reason: %v", err)
		}
		in, err = s.Escalate(anyone, so, in.ID, incident.Major, "the responder key was found on a public share")
		if err != nil {
			t.Fatal(err)
		}
		if in.Severity != incident.Major || len(in.Obligations) != 2 || !in.Obligations[0].DueAt.Equal(detected.Add(24*time.Hour)) || majors != 1 {
			t.Fatalf("escalated: %+v (OnMajor %d)", in, majors)
		}
		if _, err := s.Escalate(anyone, so, in.ID, incident.Minor, "false alarm"); sceau.KindOf(err) != sceau.Conflict ||
			!strings.Contains(err.Error(), "only raised") {
			t.Errorf("lowering: %v", err)
		}
		expectEvent(t, db, audit.ActionIncidentEscalated, "public share")
		got := r.Received()
		if len(got) != 2 || !strings.Contains(got[1].Data, "escalated to MAJOR") || !strings.Contains(got[1].Data, "compromise procedure") {
			t.Errorf("the officer was not told of the escalation: %d mails", len(got))
		}
	})
}
