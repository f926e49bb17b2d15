package ca_test

import (
	"errors"
	"testing"
	"time"

	"github.com/sceau/sceau/internal/ca"
	"github.com/sceau/sceau/internal/clockguard"
	"github.com/sceau/sceau/internal/keys"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/sceautest"
	"github.com/sceau/sceau/internal/store"
)

// SYS-4: with the clock 5 s off a real NTP server, issuance is refused with
// the guard's one precise error before any serial is reserved or event
// journaled (Prepare, IssueCSR, IssueWithKey, CA creation); a certificate
// prepared before the drift is not signed, and is signed once the clock is
// back, when issuance resumes.
func TestSYS4_UntrustedClockReservesNoSerial(t *testing.T) {
	sceautest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		ntp := sceautest.StartNTP(t, 0)
		g := clockguard.New(clockguard.Options{Servers: []string{ntp.Addr}, Timeout: time.Second})
		g.Measure(ctx)
		h := sceautest.NewHierarchy(t, db, sceautest.HierarchyOptions{ClockGuard: g.Err})
		req := func() ca.Request {
			return ca.Request{CA: "issuing", Profile: "server", CSR: sceautest.CSR(t, sceautest.NewKey(t, keys.ECDSAP256), "clock.example", "clock.example")}
		}
		if _, err := h.Authority.IssueCSR(ctx, operator, req()); err != nil {
			t.Fatalf("in sync: %v", err)
		}
		prepared, err := h.Authority.Prepare(ctx, operator, req())
		if err != nil {
			t.Fatal(err)
		}
		count := func() (rows, events int) {
			t.Helper()
			if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM certificates`).Scan(&rows); err != nil {
				t.Fatal(err)
			}
			if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM audit_events`).Scan(&events); err != nil {
				t.Fatal(err)
			}
			return rows, events
		}
		rows, events := count()

		ntp.SetOffset(5 * time.Second)
		g.Measure(ctx)
		refused := func(what string, err error) {
			t.Helper()
			if !errors.Is(err, clockguard.ErrClockDrift) || sceau.KindOf(err) != sceau.Unavailable {
				t.Errorf("%s: %v (kind %v), want the clock guard's refusal", what, err, sceau.KindOf(err))
			}
		}
		_, err = h.Authority.Prepare(ctx, operator, req())
		refused("Prepare", err)
		_, err = h.Authority.IssueCSR(ctx, operator, req())
		refused("IssueCSR", err)
		_, err = h.Authority.IssueWithKey(ctx, operator, ca.Request{CA: "issuing", Profile: "person", GenerateKey: keys.ECDSAP256,
			Emails: []string{"a@example.org"}}, "")
		refused("IssueWithKey", err)
		_, err = h.Authority.Issue(ctx, prepared)
		refused("Issue of a certificate prepared before", err)
		spec := sceautest.Specs()[1]
		spec.ID = "second"
		refused("CA creation", h.Authority.Bootstrap(ctx, operator, []ca.Spec{spec}))
		if r, e := count(); r != rows || e != events {
			t.Errorf("while drifted: %d rows and %d events, were %d and %d", r, e, rows, events)
		}

		ntp.SetOffset(0)
		g.Measure(ctx)
		if _, err := h.Authority.Issue(ctx, prepared); err != nil {
			t.Fatalf("the prepared certificate, once the clock is back: %v", err)
		}
		if _, err := h.Authority.IssueCSR(ctx, operator, req()); err != nil {
			t.Fatalf("back in range: %v", err)
		}
	})
}
