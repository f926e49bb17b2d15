package audit_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/sceau/sceau/internal/audit"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/sceautest"
	"github.com/sceau/sceau/internal/store"
)

// AUD-1: physical access, maintenance, media destruction and host start
// and stop, entered by an operator, are journal events with who, where,
// when and how.
func TestAUD1_EventsOutsideTheSoftwareAreRecorded(t *testing.T) {
	ctx := t.Context()
	db := sceautest.OpenSQLite(t)
	now := time.Date(2026, 6, 2, 10, 0, 0, 0, time.UTC)
	j := audit.NewJournal(fixedClock(now))
	op := sceau.Actor{ID: "sam", Role: "security-officer"}
	cases := map[string]struct {
		fields map[string]string
		object string
	}{
		"physical-access": {map[string]string{"who": "Jean Dupont (HSM vendor)", "where": "vault-1", "when": "2026-06-02T09:00:00+02:00",
			"left": "2026-06-02T09:40:00+02:00", "escorted-by": "sam", "purpose": "HSM battery replacement"}, "site:vault-1"},
		"maintenance": {map[string]string{"who": "Jean Dupont", "system": "hsm-1", "kind": "hardware", "description": "battery replaced",
			"escorted-by": "sam", "ticket": "CHG-42"}, "system:hsm-1"},
		"media-destruction": {map[string]string{"medium": "SN-3F2A", "type": "disk", "method": "shredding", "who": "sam",
			"witness": "bob"}, "medium:SN-3F2A"},
		"host-start": {map[string]string{"host": "ca-node-1", "who": "sam"}, "host:ca-node-1"},
		"host-stop":  {map[string]string{"host": "ca-node-1", "who": "sam", "description": "moved racks"}, "host:ca-node-1"},
	}
	for _, k := range audit.ManualKinds {
		tc, ok := cases[k.Name]
		if !ok {
			t.Errorf("kind %s is not tested", k.Name)
			continue
		}
		seq, err := audit.RecordManual(ctx, db, j, audit.FileAccess, op, k.Name, tc.fields)
		if err != nil {
			t.Fatalf("%s: %v", k.Name, err)
		}
		r := record(t, db, seq)
		if r.Action != k.Action || r.Object != tc.object || r.Actor != "sam" || r.Role != "security-officer" {
			t.Errorf("%s: recorded %+v", k.Name, r)
		}
		var d map[string]string
		json.Unmarshal([]byte(r.Details), &d)
		for name, v := range tc.fields {
			got := d[strings.ReplaceAll(name, "-", "_")]
			if name == "when" || name == "left" {
				tm, _ := time.Parse(time.RFC3339, v)
				v = tm.UTC().Format("2006-01-02T15:04:05.000000000Z")
			}
			if got != v {
				t.Errorf("%s: %s = %q, want %q", k.Name, name, got, v)
			}
		}
		if d["when"] == "" {
			t.Errorf("%s: no time recorded", k.Name)
		}
		if _, ok := audit.Describe(k.Action); !ok {
			t.Errorf("%s: action %s is not in the catalogue", k.Name, k.Action)
		}
	}
	if res, err := audit.Verify(ctx, db); err != nil || !res.OK() || res.Events != int64(len(audit.ManualKinds)) {
		t.Errorf("Verify = %+v, %v", res, err)
	}
}

// AUD-1: a manual event that is incomplete or implausible is refused with
// every reason at once, and nothing is recorded.
func TestAUD1_IncompleteManualEventIsRefused(t *testing.T) {
	ctx := t.Context()
	db := sceautest.OpenSQLite(t)
	now := time.Date(2026, 6, 2, 10, 0, 0, 0, time.UTC)
	j := audit.NewJournal(fixedClock(now))
	_, err := audit.RecordManual(ctx, db, j, audit.FileAccess, sceau.Actor{}, "physical-access", map[string]string{
		"where": "vault-1", "when": "yesterday", "left": "2026-06-02T08:00:00Z", "colour": "red"})
	if sceau.KindOf(err) != sceau.Invalid {
		t.Fatalf("RecordManual = %v, want invalid", err)
	}
	for _, want := range []string{"operator", "--who is required", "--purpose is required", `"yesterday"`, `"colour"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the refusal does not say %q: %v", want, err)
		}
	}
	_, err = audit.RecordManual(ctx, db, j, audit.FileAccess, sceau.Actor{ID: "sam"}, "host-start", map[string]string{
		"host": "h", "who": "sam", "when": "2026-06-03T10:00:00Z"})
	if err == nil || !strings.Contains(err.Error(), "future") {
		t.Errorf("an event a day ahead: %v", err)
	}
	_, err = audit.RecordManual(ctx, db, j, audit.FileAccess, sceau.Actor{ID: "sam"}, "physical-access", map[string]string{
		"who": "x", "where": "y", "purpose": "z", "when": "2026-06-02T09:00:00Z", "left": "2026-06-02T08:00:00Z"})
	if err == nil || !strings.Contains(err.Error(), "--left is before --when") {
		t.Errorf("an exit before the entry: %v", err)
	}
	if _, err := audit.RecordManual(ctx, db, j, audit.FileAccess, sceau.Actor{ID: "sam"}, "burglary", nil); sceau.KindOf(err) != sceau.Invalid {
		t.Errorf("unknown kind: %v", err)
	}
	if h, _, _ := audit.Head(ctx, db); h != 0 {
		t.Errorf("%d events recorded, want none", h)
	}
}

// ROLE-5: every event names the account and the role that acted; the
// journal refuses an event without an actor, and the export and syslog
// carry both.
func TestROLE5_EveryEventNamesItsActorAndRole(t *testing.T) {
	ctx := t.Context()
	db := sceautest.OpenSQLite(t)
	j := audit.NewJournal(nil)
	sam := sceau.Actor{ID: "sam", Role: "security-officer"}
	if _, err := audit.RecordManual(ctx, db, j, audit.FileAccess, sam, "host-stop", map[string]string{"host": "h", "who": "sam"}); err != nil {
		t.Fatal(err)
	}
	err := db.InTx(ctx, func(tx *store.Tx) error {
		return j.Append(ctx, tx, audit.Event{Action: audit.ActionCertificateRevoked, Object: "certificate:1"})
	})
	if err == nil {
		t.Error("an event without an actor was appended")
	}
	r := record(t, db, 1)
	if r.Actor != "sam" || r.Role != "security-officer" {
		t.Errorf("event 1 names %q (%q)", r.Actor, r.Role)
	}
	msg := string(audit.FormatSyslog(&r, audit.SyslogOptions{Hostname: "h"}, 1))
	if !strings.Contains(msg, `actor="sam" role="security-officer"`) {
		t.Errorf("syslog message without actor and role: %s", msg)
	}
}
