package audit

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/store"
)

// ManualKind is an event that happens outside the software and that an
// operator enters (AUD-1: physical access, maintenance, media destruction,
// start and stop of hosts).
type ManualKind struct {
	Name        string // the command's word: "physical-access"
	Action      string
	Summary     string
	ObjectKind  string // the event's object is ObjectKind:<value of ObjectField>
	ObjectField string
	Fields      []ManualField
}

// ManualField is one piece of information a manual event carries.
type ManualField struct {
	Name     string // flag and details name, "escorted-by" (details: escorted_by)
	Help     string
	Required bool
	Time     bool // RFC 3339; "when" defaults to now
}

// ManualKinds lists the events an operator enters.
var ManualKinds = []ManualKind{
	{Name: "physical-access", Action: ActionPhysicalAccess, Summary: "someone entered a protected area",
		ObjectKind: "site", ObjectField: "where", Fields: []ManualField{
			{Name: "who", Help: "the person or people who entered", Required: true},
			{Name: "where", Help: "the protected area or room", Required: true},
			{Name: "when", Help: "time of entry, RFC 3339 (default: now)", Time: true},
			{Name: "left", Help: "time of exit, RFC 3339", Time: true},
			{Name: "escorted-by", Help: "who escorted a visitor"},
			{Name: "purpose", Help: "why they entered", Required: true},
			{Name: "description", Help: "anything else worth keeping"},
		}},
	{Name: "maintenance", Action: ActionMaintenance, Summary: "a maintenance action on a system",
		ObjectKind: "system", ObjectField: "system", Fields: []ManualField{
			{Name: "who", Help: "who performed it", Required: true},
			{Name: "system", Help: "the host, device or component", Required: true},
			{Name: "when", Help: "when it was done, RFC 3339 (default: now)", Time: true},
			{Name: "kind", Help: "hardware, software, configuration or other"},
			{Name: "description", Help: "what was done", Required: true},
			{Name: "escorted-by", Help: "who supervised an outside technician"},
			{Name: "ticket", Help: "the change or ticket reference"},
		}},
	{Name: "media-destruction", Action: ActionMediaDestroyed, Summary: "a medium was destroyed",
		ObjectKind: "medium", ObjectField: "medium", Fields: []ManualField{
			{Name: "medium", Help: "the medium's identifier or serial number", Required: true},
			{Name: "type", Help: "disk, smart card, USB key, paper, HSM …", Required: true},
			{Name: "method", Help: "shredding, degaussing, crypto-erase, incineration …", Required: true},
			{Name: "who", Help: "who destroyed it", Required: true},
			{Name: "witness", Help: "who witnessed the destruction"},
			{Name: "when", Help: "when, RFC 3339 (default: now)", Time: true},
			{Name: "description", Help: "what the medium held, certificates of destruction …"},
		}},
	{Name: "host-start", Action: ActionHostStarted, Summary: "a host of the installation was started",
		ObjectKind: "host", ObjectField: "host", Fields: []ManualField{
			{Name: "host", Help: "the machine", Required: true},
			{Name: "who", Help: "who started it", Required: true},
			{Name: "when", Help: "when, RFC 3339 (default: now)", Time: true},
			{Name: "description", Help: "why"},
		}},
	{Name: "host-stop", Action: ActionHostStopped, Summary: "a host of the installation was stopped",
		ObjectKind: "host", ObjectField: "host", Fields: []ManualField{
			{Name: "host", Help: "the machine", Required: true},
			{Name: "who", Help: "who stopped it", Required: true},
			{Name: "when", Help: "when, RFC 3339 (default: now)", Time: true},
			{Name: "description", Help: "why"},
		}},
}

// LookupManual returns the manual kind named name.
func LookupManual(name string) (ManualKind, bool) {
	for _, k := range ManualKinds {
		if k.Name == name {
			return k, true
		}
	}
	return ManualKind{}, false
}

// maxFuture is how far ahead of the clock a manual time may be.
const maxFuture = 5 * time.Minute

// ManualEvent checks fields against kind and returns the event to record:
// every required field present, no unknown field, times in RFC 3339 and not
// in the future, an exit after the entry. Empty fields are left out.
func ManualEvent(kind ManualKind, actor sceau.Actor, fields map[string]string, now time.Time) (Event, error) {
	const op = "audit: record"
	var errs []string
	if actor.ID == "" {
		errs = append(errs, "the operator who records the event must be named")
	}
	known := map[string]ManualField{}
	for _, f := range kind.Fields {
		known[f.Name] = f
	}
	for name := range fields {
		if _, ok := known[name]; !ok {
			errs = append(errs, fmt.Sprintf("%s does not take %q", kind.Name, name))
		}
	}
	details := map[string]string{}
	times := map[string]time.Time{}
	for _, f := range kind.Fields {
		v := strings.TrimSpace(fields[f.Name])
		if v == "" && f.Name == "when" {
			v = now.UTC().Format(time.RFC3339)
		}
		if v == "" {
			if f.Required {
				errs = append(errs, fmt.Sprintf("--%s is required (%s)", f.Name, f.Help))
			}
			continue
		}
		if f.Time {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				errs = append(errs, fmt.Sprintf("--%s %q is not an RFC 3339 time (2026-05-04T09:30:00+02:00)", f.Name, v))
				continue
			}
			if t.After(now.Add(maxFuture)) {
				errs = append(errs, fmt.Sprintf("--%s %s is in the future", f.Name, v))
			}
			times[f.Name] = t
			v = store.FormatTime(t)
		}
		details[strings.ReplaceAll(f.Name, "-", "_")] = v
	}
	if in, out := times["when"], times["left"]; !in.IsZero() && !out.IsZero() && out.Before(in) {
		errs = append(errs, "--left is before --when")
	}
	if len(errs) > 0 {
		sort.Strings(errs)
		return Event{}, sceau.Errorf(sceau.Invalid, op, "%s", strings.Join(errs, "; "))
	}
	return Event{Actor: actor, Action: kind.Action, Object: kind.ObjectKind + ":" + details[kind.ObjectField], Details: details}, nil
}

// RecordManual enters an event of the named kind for actor, once d allows
// it (OpRecord), and returns its sequence number.
func RecordManual(ctx context.Context, db *store.DB, j *Journal, d Decider, actor sceau.Actor, kind string, fields map[string]string) (int64, error) {
	return recordManual(ctx, db, j, d, actor, kind, fields, "")
}

// OfflineEntry is the "entry" detail of a manual event entered offline.
const OfflineEntry = "offline: entered on the data directory; the operator named was not authenticated"

// RecordManualOffline enters an event for the offline commands, which
// cannot authenticate anyone (FileAccess): the event says so in its
// "entry" detail, so that nobody mistakes the name given for a verified
// one (ROLE-5). Through the admin API, RecordManual names the person
// logged in instead.
func RecordManualOffline(ctx context.Context, db *store.DB, j *Journal, actor sceau.Actor, kind string, fields map[string]string) (int64, error) {
	return recordManual(ctx, db, j, FileAccess, actor, kind, fields, OfflineEntry)
}

func recordManual(ctx context.Context, db *store.DB, j *Journal, d Decider, actor sceau.Actor, kind string, fields map[string]string, entry string) (int64, error) {
	k, ok := LookupManual(kind)
	if !ok {
		return 0, sceau.Errorf(sceau.Invalid, "audit: record", "unknown kind %q", kind)
	}
	if d == nil {
		return 0, errors.New("audit: record: no access decision")
	}
	if err := d.Decide(ctx, actor, OpRecord); err != nil {
		return 0, err
	}
	ev, err := ManualEvent(k, actor, fields, j.Now())
	if err != nil {
		return 0, err
	}
	if entry != "" {
		ev.Details.(map[string]string)["entry"] = entry
	}
	var seq int64
	err = db.InTx(ctx, func(tx *store.Tx) error {
		if err := j.Append(ctx, tx, ev); err != nil {
			return err
		}
		seq, _, err = Head(ctx, tx)
		return err
	})
	return seq, err
}
