package incident

import (
	"context"
	"encoding/json"

	"github.com/sceau/sceau/internal/audit"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/store"
)

// Syslog sends notifications to a syslog collector (RFC 5424, as the
// journal's forwarder does: audit.SendSyslog), at severity alert.
type Syslog struct {
	o     audit.SyslogOptions
	clock sceau.Clock
}

// NewSyslog returns the sender; o.Address is its recipient's too.
func NewSyslog(o audit.SyslogOptions, clock sceau.Clock) *Syslog {
	return &Syslog{o: o, clock: sceau.ClockOr(clock)}
}

// Channel is "syslog".
func (s *Syslog) Channel() string { return "syslog" }

// Send writes m to the collector at to (host:port).
func (s *Syslog) Send(ctx context.Context, to string, m Message) error {
	o := s.o
	o.Address = to
	action := "incident." + m.Event
	if m.Event == "opened" {
		action = audit.ActionIncidentOpened
	}
	details, _ := json.Marshal(map[string]any{"subject": m.Subject, "notification": m.ID})
	return audit.SendSyslog(ctx, o, &audit.Record{At: store.FormatTime(s.clock.Now()), Actor: "sceau", Action: action,
		Object: object(m.Incident), Details: string(details)})
}
