package incident_test

import (
	"context"
	"crypto/tls"
	"strings"
	"testing"
	"time"

	"github.com/sceau/sceau/internal/audit"
	"github.com/sceau/sceau/internal/incident"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/sceautest"
	"github.com/sceau/sceau/internal/store"
)

var (
	so     = sceau.Actor{ID: "so1", Role: "security-officer"}
	anyone = context.Background()
)

// mailer is an SMTP sender to r.
func mailer(t *testing.T, r *sceautest.SMTPRelay) *incident.SMTP {
	t.Helper()
	o := incident.SMTPOptions{Addr: r.Addr, From: "sceau@ca.example.org", TLS: incident.SMTPNone, Timeout: 5 * time.Second}
	if r.Roots != nil {
		o.TLS, o.TLSConfig = incident.SMTPStartTLS, &tls.Config{RootCAs: r.Roots}
	}
	s, err := incident.NewSMTP(o)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func officers(addrs ...string) []incident.Recipient {
	var out []incident.Recipient
	for _, a := range addrs {
		out = append(out, incident.Recipient{Channel: "smtp", To: a, Who: "security-officer"})
	}
	return out
}

func events(t *testing.T, db *store.DB, action string) []audit.Record {
	t.Helper()
	page, err := audit.Search(anyone, db, audit.Filter{Action: action, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	return page.Events
}

func expectEvent(t *testing.T, db *store.DB, action, want string) {
	t.Helper()
	for _, r := range events(t, db, action) {
		if strings.Contains(r.Details, want) || strings.Contains(r.Object, want) {
			return
		}
	}
	t.Errorf("no %s event with %s in the journal", action, want)
}

func journalLength(t *testing.T, db *store.DB) int {
	t.Helper()
	recs, err := audit.Read(anyone, db, 0, 100000)
	if err != nil {
		t.Fatal(err)
	}
	return len(recs)
}
