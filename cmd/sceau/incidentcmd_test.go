package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sceau/sceau/internal/audit"
	"github.com/sceau/sceau/internal/sceautest"
	"github.com/sceau/sceau/internal/server"
)

// TestINC1_IncidentFromTheCommandLine drives the register on a served
// installation as its people would on the night of an incident: the
// operator opens a major one and the Security Officer gets the mail from a
// real SMTP relay; a relay that refuses is retried by serve until the mail
// goes through; bad input is refused precisely; incident list marks an
// overdue notification to an authority; only the Security Officer records
// the obligations done and closes (INC-1, INC-4). Journal:
// incident.opened, incident.notified, incident.notification_failed,
// incident.obligation_done, incident.closed.
func TestINC1_IncidentFromTheCommandLine(t *testing.T) {
	tmp := t.TempDir()
	dir := filepath.Join(tmp, "ca")
	pub, adm := freeAddr(t), freeAddr(t)
	r := (cli{t: t}).ok("init", "--dir", dir, "--public", pub, "--admin", adm, "--security-officer", "so1")
	creds := printedCredentials(r.stdout)
	c := cli{t: t, config: filepath.Join(dir, "sceau.yaml")}
	relay := sceautest.StartSMTPRelay(t, false)
	editConfig(t, c.config, "  security_officers: []\n", "  security_officers: [rssi@ca.example.org]\n",
		"    # relay: smtp.example.org:587\n    # from: sceau@example.org\n    tls: starttls\n",
		"    relay: "+relay.Addr+"\n    from: sceau@ca.example.org\n    tls: none\n",
		"  retry_interval: 30s\n  max_retry_interval: 1h\n", "  retry_interval: 1s\n  max_retry_interval: 2s\n")
	startServe(t, c.config, pub)
	operator := &person{t: t, c: c, session: filepath.Join(tmp, "operator.session")}

	r = operator.ok("incident", "open", "--kind", "suspected-compromise", "--severity", "major",
		"--title", "Issuing CA key may have leaked", "--description", "HSM log shows signatures we did not make")
	for _, want := range []string{"Incident 1 opened: MAJOR suspected-compromise", "rssi@ca.example.org  delivered",
		"notify the supervisory authority:", "due ", "compromise procedure: to start"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("incident open does not say %q:\n%s", want, r.stdout)
		}
	}
	if got := relay.Received(); len(got) != 1 || got[0].To[0] != "rssi@ca.example.org" || !strings.Contains(got[0].Data, "Issuing CA key may have leaked") {
		t.Fatalf("the Security Officer's mail: %+v", got)
	}
	operator.ok("incident", "note", "1", "--action", "issuing", "CA", "key", "deactivated")

	// A relay that refuses: recorded, retried by serve, delivered.
	relay.Refuse(1)
	r = operator.ok("incident", "open", "--kind", "outage", "--severity", "minor", "--title", "OCSP responder slow")
	if !strings.Contains(r.stdout, "NOT DELIVERED after 1 attempt(s)") || !strings.Contains(r.stdout, "451") {
		t.Errorf("a refused mail is not reported:\n%s", r.stdout)
	}
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(300 * time.Millisecond) {
		if strings.Contains(operator.ok("incident", "show", "2").stdout, "opened   smtp     rssi@ca.example.org  delivered") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve did not retry the refused mail:\n%s", operator.ok("incident", "show", "2").stdout)
		}
	}

	r = operator.ok("incident", "escalate", "2", "--severity", "moderate", "--reason", "responses late by minutes now")
	if !strings.Contains(r.stdout, "Incident 2 is now MODERATE") {
		t.Errorf("escalate: %s", r.stdout)
	}

	// Bad input: precise errors.
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"incident", "open", "--kind", "meteor", "--severity", "major", "--title", "x"}, `unknown kind "meteor"`},
		{[]string{"incident", "open", "--kind", "theft", "--severity", "huge", "--title", "x"}, `unknown severity "huge"`},
		{[]string{"incident", "note", "99", "hello"}, "no incident 99"},
		{[]string{"incident", "escalate", "2", "--severity", "minor", "--reason", "better"}, "only raised"},
		{[]string{"incident", "close", "1", "--closure", "x"}, "Security Officer"},
	} {
		if r := operator.run(c.args...); r.code == 0 || !strings.Contains(r.stderr, c.want) {
			t.Errorf("sceau %s: %d %s, want %q", strings.Join(c.args, " "), r.code, r.stderr, c.want)
		}
	}

	// INC-4: detected 25 hours ago, its notifications are overdue.
	operator.ok("incident", "open", "--kind", "theft", "--severity", "major", "--title", "Share card stolen",
		"--detected-at", time.Now().Add(-25*time.Hour).UTC().Format(time.RFC3339))
	r = operator.ok("incident", "list")
	lines := strings.Split(r.stdout, "\n")
	if len(lines) < 2 || !strings.HasPrefix(lines[1], "!!") || !strings.Contains(lines[1], "OVERDUE") || !strings.Contains(lines[1], "Share card stolen") ||
		!strings.Contains(r.stdout, "1 incident(s) with a notification to an authority OVERDUE") {
		t.Errorf("incident list does not put the overdue incident first and marked:\n%s", r.stdout)
	}
	var l server.IncidentList
	if err := json.Unmarshal([]byte(operator.ok("incident", "list", "--json").stdout), &l); err != nil || len(l.Incidents) != 3 {
		t.Fatalf("incident list --json: %v %+v", err, l)
	}

	so1 := newPerson(t, c, tmp, "so1", creds["so1"])
	so1.firstLogin()
	if r := so1.run("incident", "close", "1", "--closure", "x"); r.code == 0 || !strings.Contains(r.stderr, "still owes") {
		t.Errorf("closing with obligations pending: %d %s", r.code, r.stderr)
	}
	so1.ok("incident", "obligation", "done", "1", "supervisory-authority", "--reference", "ticket 2026-4411")
	r = so1.ok("incident", "obligation", "done", "1", "conformity-body", "--reference", "mail of 2026-12-07")
	if !strings.Contains(r.stdout, "recorded done (reference mail of 2026-12-07), on time") {
		t.Errorf("obligation done: %s", r.stdout)
	}
	so1.ok("incident", "close", "1", "--closure", "key not compromised: the signatures were a test CA's")
	if r := so1.run("incident", "close", "1", "--closure", "again"); r.code == 0 || !strings.Contains(r.stderr, "closed incident is final") {
		t.Errorf("closing twice: %d %s", r.code, r.stderr)
	}
	r = so1.ok("incident", "show", "1")
	for _, want := range []string{"Incident 1 (closed)", "action  operator", "issuing CA key deactivated", "reference ticket 2026-4411", "closed: key not compromised"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("incident show lacks %q:\n%s", want, r.stdout)
		}
	}
	r = so1.ok("audit", "events", "--action", audit.ActionIncidentClosed)
	if !strings.Contains(r.stdout, "incident:1") {
		t.Errorf("no incident.closed in the journal:\n%s", r.stdout)
	}
}
