package incident_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sceau/sceau/internal/audit"
	"github.com/sceau/sceau/internal/incident"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/sceautest"
	"github.com/sceau/sceau/internal/store"
)

// INC-1: opening an incident mails the Security Officer through a real
// SMTP relay (STARTTLS, its certificate verified); the notification is
// recorded delivered, with incident.opened and incident.notified.
func TestINC1_OpeningNotifiesTheSecurityOfficerByMail(t *testing.T) {
	sceautest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		r := sceautest.StartSMTPRelay(t, true)
		s := incident.NewService(db, audit.NewJournal(nil), incident.Options{Senders: []incident.Sender{mailer(t, r)},
			Recipients: officers("rssi@ca.example.org", "partner@soc.example.net")})
		in, err := s.Open(anyone, so, incident.New{Kind: "suspected-compromise", Severity: "moderate",
			Title: "Unexpected login on the signing host", Description: "sshd accepted a key we do not know, 02:13 UTC"})
		if err != nil {
			t.Fatal(err)
		}
		got := r.Received()
		if len(got) != 2 {
			t.Fatalf("the relay received %d messages, want 2 (the officer and the partner)", len(got))
		}
		m := got[0]
		if m.From != "sceau@ca.example.org" || len(m.To) != 1 || m.To[0] != "rssi@ca.example.org" {
			t.Errorf("envelope %s -> %v", m.From, m.To)
		}
		for _, want := range []string{"Subject: [Sceau] incident", "opened: MODERATE suspected-compromise", "Unexpected login on the signing host",
			"sshd accepted a key", "sceau incident show"} {
			if !strings.Contains(m.Data, want) {
				t.Errorf("the mail lacks %q:\n%s", want, m.Data)
			}
		}
		if len(in.Notifications) != 2 {
			t.Fatalf("notifications: %+v", in.Notifications)
		}
		for _, n := range in.Notifications {
			if !n.Delivered() || n.Attempts != 1 || n.LastError != "" || n.Channel != "smtp" {
				t.Errorf("notification %+v, want delivered at the first attempt", n)
			}
		}
		expectEvent(t, db, audit.ActionIncidentOpened, `"severity":"moderate"`)
		expectEvent(t, db, audit.ActionIncidentNotified, `"recipient":"rssi@ca.example.org"`)
		if len(in.Obligations) != 0 {
			t.Errorf("a moderate incident owes nothing: %+v", in.Obligations)
		}
	})
}

// INC-1: a relay that refuses the mail: each attempt is recorded with the
// relay's answer, retried with a doubling backoff, and delivered in the
// end; nothing is dropped.
func TestINC1_ARefusingRelayIsRecordedRetriedAndDelivered(t *testing.T) {
	sceautest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		r := sceautest.StartSMTPRelay(t, false)
		r.Refuse(1)     // 451 at RCPT TO, then
		r.RefuseData(1) // 554 once the data is sent
		clock := sceautest.NewClock(time.Date(2026, 12, 7, 2, 30, 0, 0, time.UTC))
		s := incident.NewService(db, audit.NewJournal(nil), incident.Options{Clock: clock, Senders: []incident.Sender{mailer(t, r)},
			Recipients: officers("rssi@ca.example.org"), Backoff: time.Minute})
		in, err := s.Open(anyone, so, incident.New{Kind: "outage", Severity: "minor", Title: "OCSP responder down"})
		if err != nil {
			t.Fatal(err)
		}
		n := in.Notifications[0]
		if n.Delivered() || n.Attempts != 1 || !strings.Contains(n.LastError, "451") || !n.NextTry.Equal(clock.Now().Add(time.Minute)) {
			t.Fatalf("after a refusal: %+v", n)
		}
		// Not due yet: nothing is attempted.
		if d, err := s.Deliver(anyone); err != nil || d.Delivered+d.Failed != 0 {
			t.Fatalf("deliver before the next try: %+v %v", d, err)
		}
		clock.Advance(time.Minute)
		if d, err := s.Deliver(anyone); err != nil || d.Failed != 1 {
			t.Fatalf("second attempt: %+v %v", d, err)
		}
		in, _ = s.Get(anyone, in.ID)
		if n := in.Notifications[0]; n.Attempts != 2 || !n.NextTry.Equal(clock.Now().Add(2*time.Minute)) {
			t.Fatalf("the backoff doubles: %+v", n)
		}
		clock.Advance(2 * time.Minute)
		if d, err := s.Deliver(anyone); err != nil || d.Delivered != 1 {
			t.Fatalf("third attempt: %+v %v", d, err)
		}
		in, _ = s.Get(anyone, in.ID)
		if n := in.Notifications[0]; !n.Delivered() || n.Attempts != 3 || n.LastError != "" {
			t.Fatalf("delivered at the third attempt: %+v", n)
		}
		if got := r.Received(); len(got) != 1 || !strings.Contains(got[0].Data, "OCSP responder down") {
			t.Fatalf("the relay received %d messages", len(got))
		}
		if f := events(t, db, audit.ActionIncidentNotificationFailed); len(f) != 2 || !strings.Contains(f[0].Details, "451") ||
			!strings.Contains(f[1].Details, "554") {
			t.Errorf("%d notification_failed events, want 2 with the relay's answers", len(f))
		}
		expectEvent(t, db, audit.ActionIncidentNotified, `"attempt":3`)
		// A relay that does not answer at all is recorded the same way.
		dead := incident.NewService(db, audit.NewJournal(nil), incident.Options{Clock: clock, Recipients: officers("rssi@ca.example.org")})
		in, err = dead.Open(anyone, so, incident.New{Kind: "other", Severity: "minor", Title: "no sender configured"})
		if err != nil || in.Notifications[0].Delivered() || !strings.Contains(in.Notifications[0].LastError, "no smtp sender") {
			t.Fatalf("without a sender: %+v %v", in.Notifications, err)
		}
		st, _ := dead.Status(anyone)
		if st.Undelivered != 1 {
			t.Errorf("status: %+v, want 1 undelivered", st)
		}
	})
}

// INC-1: the webhook's body carries X-Sceau-Signature, the HMAC-SHA256 of
// the body under the shared secret; the receiver verifies it.
func TestINC1_WebhookIsSignedAndVerifiable(t *testing.T) {
	db := sceautest.OpenSQLite(t)
	secret := []byte("a shared secret of the SOC, 32B.")
	var (
		mu     sync.Mutex
		bodies []incident.WebhookBody
		fails  = 1
	)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if !incident.Verify(secret, b, r.Header.Get(incident.SignatureHeader)) {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		mu.Lock()
		defer mu.Unlock()
		if fails > 0 {
			fails--
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
		var wb incident.WebhookBody
		json.Unmarshal(b, &wb)
		bodies = append(bodies, wb)
	}))
	defer hook.Close()
	clock := sceautest.NewClock(time.Date(2026, 12, 7, 2, 30, 0, 0, time.UTC))
	wh, err := incident.NewWebhook(secret, nil, clock)
	if err != nil {
		t.Fatal(err)
	}
	s := incident.NewService(db, audit.NewJournal(nil), incident.Options{Clock: clock, Senders: []incident.Sender{wh},
		Recipients: []incident.Recipient{{Channel: "webhook", To: hook.URL, Who: "partner"}}})
	in, err := s.Open(anyone, so, incident.New{Kind: "theft", Severity: "major", Title: "Share card stolen"})
	if err != nil {
		t.Fatal(err)
	}
	if n := in.Notifications[0]; n.Delivered() || !strings.Contains(n.LastError, "503") {
		t.Fatalf("a 503 is a failed attempt: %+v", n)
	}
	clock.Advance(time.Minute)
	if d, err := s.Deliver(anyone); err != nil || d.Delivered != 1 {
		t.Fatalf("retry: %+v %v", d, err)
	}
	if len(bodies) != 1 || bodies[0].Incident != in.ID || bodies[0].Event != "opened" || !strings.Contains(bodies[0].Body, "Share card stolen") {
		t.Fatalf("webhook bodies: %+v", bodies)
	}
	// The signature is over the exact body, under this secret only.
	body := []byte(`{"incident":1}`)
	if sig := incident.Sign(secret, body); !strings.HasPrefix(sig, "sha256=") || len(sig) != 7+64 ||
		incident.Verify([]byte("another secret of 32 bytes......"), body, sig) || incident.Verify(secret, []byte(`{"incident":2}`), sig) {
		t.Errorf("signature %s verifies where it must not", sig)
	}
	if _, err := incident.NewWebhook([]byte("short"), nil, nil); sceau.KindOf(err) != sceau.Invalid {
		t.Errorf("a short secret: %v", err)
	}
}

// INC-1: the timeline holds the opening, notes and actions in order, and
// the closure; a closed incident is final.
func TestINC1_TimelineAndClosure(t *testing.T) {
	sceautest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		clock := sceautest.NewClock(time.Date(2026, 12, 7, 2, 30, 0, 0, time.UTC))
		s := incident.NewService(db, audit.NewJournal(nil), incident.Options{Clock: clock})
		in, err := s.Open(anyone, so, incident.New{Kind: "weak-algorithm", Severity: "moderate", Title: "SHA-1 in a profile",
			DetectedAt: clock.Now().Add(-time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		clock.Advance(time.Minute)
		if _, err := s.Note(anyone, so, in.ID, incident.NoteText, "profile legacy-tls still allows SHA-1"); err != nil {
			t.Fatal(err)
		}
		clock.Advance(time.Minute)
		if _, err := s.Note(anyone, so, in.ID, incident.NoteAction, "profile withdrawn from the issuing CA"); err != nil {
			t.Fatal(err)
		}
		clock.Advance(time.Minute)
		closed, err := s.Close(anyone, so, in.ID, "no certificate was issued with SHA-1; profile removed")
		if err != nil {
			t.Fatal(err)
		}
		if closed.Status != incident.StatusClosed || closed.ClosedBy != so.String() || !closed.ClosedAt.Equal(clock.Now()) {
			t.Errorf("closed: %+v", closed)
		}
		var kinds []string
		for _, n := range closed.Timeline {
			kinds = append(kinds, string(n.Kind)+":"+strings.SplitN(n.Text, " ", 2)[0])
		}
		if got := strings.Join(kinds, ","); got != "system:opened:,note:profile,action:profile,system:closed:" {
			t.Errorf("timeline %s", got)
		}
		_, err = s.Close(anyone, so, in.ID, "again")
		if sceau.KindOf(err) != sceau.Conflict || !strings.Contains(err.Error(), "closed on") {
			t.Errorf("closing a closed incident: %v", err)
		}
		if _, err := s.Note(anyone, so, in.ID, incident.NoteText, "late"); sceau.KindOf(err) != sceau.Conflict {
			t.Errorf("a note on a closed incident: %v", err)
		}
		expectEvent(t, db, audit.ActionIncidentNoted, "profile withdrawn")
		expectEvent(t, db, audit.ActionIncidentClosed, "profile removed")
		list, err := s.List(anyone, incident.Filter{})
		if err != nil || len(list) != 0 {
			t.Errorf("open incidents: %+v %v", list, err)
		}
		if list, _ := s.List(anyone, incident.Filter{All: true}); len(list) != 1 {
			t.Errorf("all incidents: %+v", list)
		}
	})
}

// INC-1: bad input is refused with a precise error and changes nothing:
// neither the register nor the journal.
func TestINC1_BadInputChangesNothing(t *testing.T) {
	sceautest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		clock := sceautest.NewClock(time.Date(2026, 12, 7, 2, 30, 0, 0, time.UTC))
		s := incident.NewService(db, audit.NewJournal(nil), incident.Options{Clock: clock})
		minor, err := s.Open(anyone, so, incident.New{Kind: "outage", Severity: "minor", Title: "CRL late"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Close(anyone, so, minor.ID, "published"); err != nil {
			t.Fatal(err)
		}
		open, _ := s.Open(anyone, so, incident.New{Kind: "outage", Severity: "minor", Title: "still open"})
		before := journalLength(t, db)
		for _, c := range []struct {
			name string
			do   func() error
			kind sceau.Kind
			want string
		}{
			{"unknown kind", func() error {
				_, err := s.Open(anyone, so, incident.New{Kind: "meteor", Severity: "major", Title: "x"})
				return err
			}, sceau.Invalid, `unknown kind "meteor" (one of key-loss, suspected-compromise, theft, weak-algorithm, outage, other)`},
			{"unknown severity", func() error {
				_, err := s.Open(anyone, so, incident.New{Kind: "theft", Severity: "apocalyptic", Title: "x"})
				return err
			}, sceau.Invalid, `unknown severity "apocalyptic" (one of minor, moderate, major)`},
			{"no title", func() error {
				_, err := s.Open(anyone, so, incident.New{Kind: "theft", Severity: "major", Title: "  "})
				return err
			}, sceau.Invalid, "a title is required"},
			{"detected in the future", func() error {
				_, err := s.Open(anyone, so, incident.New{Kind: "theft", Severity: "major", Title: "x", DetectedAt: clock.Now().Add(time.Hour)})
				return err
			}, sceau.Invalid, "in the future"},
			{"closing a closed incident", func() error {
				_, err := s.Close(anyone, so, minor.ID, "again")
				return err
			}, sceau.Conflict, "a closed incident is final"},
			{"a note on an unknown incident", func() error {
				_, err := s.Note(anyone, so, 999, incident.NoteText, "hello")
				return err
			}, sceau.NotFound, "no incident 999"},
			{"an empty note", func() error {
				_, err := s.Note(anyone, so, open.ID, incident.NoteText, "")
				return err
			}, sceau.Invalid, "the text is required"},
			{"closing without a closure", func() error {
				_, err := s.Close(anyone, so, open.ID, "")
				return err
			}, sceau.Invalid, "the closure"},
			{"closing an unknown incident", func() error {
				_, err := s.Close(anyone, so, 999, "x")
				return err
			}, sceau.NotFound, "no incident 999"},
			{"an obligation of a minor incident", func() error {
				_, err := s.ObligationDone(anyone, so, open.ID, incident.SupervisoryAuthority, "AR-1")
				return err
			}, sceau.NotFound, "owes no notification"},
			{"an unknown obligation", func() error {
				_, err := s.ObligationDone(anyone, so, open.ID, "the press", "AR-1")
				return err
			}, sceau.Invalid, `unknown obligation "the press"`},
		} {
			err := c.do()
			if sceau.KindOf(err) != c.kind || err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("%s: %v, want %s with %q", c.name, err, c.kind, c.want)
			}
		}
		if after := journalLength(t, db); after != before {
			t.Errorf("the journal grew from %d to %d events on refused input", before, after)
		}
		all, _ := s.List(anyone, incident.Filter{All: true})
		if len(all) != 2 {
			t.Errorf("%d incidents, want the 2 opened", len(all))
		}
		in, _ := s.Get(anyone, open.ID)
		if len(in.Timeline) != 1 {
			t.Errorf("the open incident's timeline changed: %+v", in.Timeline)
		}
	})
}
