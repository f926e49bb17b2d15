package audit

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/store"
)

// The analysis rules (AUD-6).
const (
	RuleFailedLogins              = "failed_logins"               // a burst of failed logins on one account
	RuleOffHours                  = "off_hours"                   // a person acted outside the working hours
	RuleChainBreak                = "chain_break"                 // a gap or a break in the hash chain
	RuleLoggingStopped            = "logging_stopped"             // the service started again without a recorded stop
	RuleLoggingFailure            = "logging_failure"             // a part of the journal failed
	RuleClockJump                 = "clock_jump"                  // event times went back, or ahead of the clock
	RuleActivationOutsideCeremony = "activation_outside_ceremony" // a CA key activated outside a ceremony window
	RuleMassRevocation            = "mass_revocation"             // many revocations in a short time
	RulePublicationStale          = "publication_stale"           // a CRL near its nextUpdate unreplaced, or the manifest behind (PUB-3)
	RuleClockDrift                = "clock_drift"                 // the clock beyond clock.max_drift of the NTP servers (SYS-4)
	RuleArchiveLag                = "archive_replication_lag"     // an archive replica behind by more than archive.max_lag (ARC-4)
	RuleClockUnreachable          = "clock_unreachable"           // no NTP server answers the clock guard (SYS-4)
	RuleIncidentDeadline          = "incident_deadline"           // a notification owed for a major incident near or past its due time (INC-4)
	RuleIncidentNotification      = "incident_notification"       // a notification of an incident could not be delivered (INC-1)
)

// Rules configure the analysis. A zero count or duration turns its rule off.
type Rules struct {
	// FailedLogins failed logins of one account within FailedLoginWindow
	// raise an alert.
	FailedLogins      int
	FailedLoginWindow time.Duration
	// MassRevocations revocations within MassRevocationWindow raise an alert.
	MassRevocations      int
	MassRevocationWindow time.Duration
	// ClockJump: an event dated this much before the one it follows, or
	// this much ahead of the analysis clock, raises an alert.
	ClockJump time.Duration
	// WorkingHours: a person (an actor that is not system:…) acting
	// outside them raises an alert; nil turns the rule off.
	WorkingHours *WorkingHours
	// CeremonyWindows: a CA key activation (key.activated) outside every
	// window, and outside an open ceremony (ceremony.started … completed),
	// raises an alert.
	CeremonyWindows []Window
	// CeremonyRule turns the activation rule on.
	CeremonyRule bool
}

// DefaultRules are the rules of a fresh configuration.
func DefaultRules() Rules {
	return Rules{FailedLogins: 5, FailedLoginWindow: 5 * time.Minute, MassRevocations: 100, MassRevocationWindow: 10 * time.Minute,
		ClockJump: 2 * time.Minute, CeremonyRule: true}
}

// WorkingHours are the days and times people are expected to work.
type WorkingHours struct {
	Days       [7]bool       // indexed by time.Weekday
	Start, End time.Duration // since midnight; Start < End
	Location   *time.Location
}

// Contains reports whether t falls within the working hours.
func (w *WorkingHours) Contains(t time.Time) bool {
	loc := w.Location
	if loc == nil {
		loc = time.UTC
	}
	t = t.In(loc)
	if !w.Days[t.Weekday()] {
		return false
	}
	since := time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute + time.Duration(t.Second())*time.Second
	return since >= w.Start && since < w.End
}

// Window is a span of time, its end excluded.
type Window struct{ Start, End time.Time }

// Alert is an anomaly the analysis found; it is recorded as an
// audit.alert_raised event, listed in audit_alerts, logged, and sent to
// the webhook where one is configured.
type Alert struct {
	Seq     int64  // the audit.alert_raised event
	At      string // when it was raised
	Rule    string
	Message string
	Details json.RawMessage // the rule's findings: the events concerned
}

// Analyzer runs the rules over the events appended since it last looked
// (AUD-6). Its position is a cursor in the database, moved in the same
// transaction as the alerts it raises, so each event is analysed once
// even with several nodes.
type Analyzer struct {
	db      *store.DB
	journal *Journal
	rules   Rules
	clock   sceau.Clock

	// State, rebuilt when the cursor moved elsewhere.
	ready      bool
	last       int64
	prev       []byte
	prevAt     time.Time
	openStart  int64 // the service.started event not yet followed by service.stopped
	failed     map[string][]time.Time
	revoked    []time.Time
	quiet      map[string]time.Time // rule:key -> no repeat before
	ceremonies map[string]bool
}

const (
	cursorAnalysis  = "analysis"
	cursorOpenStart = "analysis:open_start"
)

// NewAnalyzer returns an analyzer of the journal in db.
func NewAnalyzer(db *store.DB, j *Journal, rules Rules, clock sceau.Clock) *Analyzer {
	return &Analyzer{db: db, journal: j, rules: rules, clock: sceau.ClockOr(clock)}
}

// Analyze runs the rules over every event after the cursor, records the
// alerts, and returns them.
func (a *Analyzer) Analyze(ctx context.Context) ([]Alert, error) {
	var all []Alert
	for {
		cur, err := cursor(ctx, a.db, cursorAnalysis)
		if err != nil {
			return all, err
		}
		if !a.ready || a.last != cur {
			if err := a.restore(ctx, cur); err != nil {
				return all, err
			}
		}
		recs, err := Read(ctx, a.db, cur, 1000)
		if err != nil || len(recs) == 0 {
			return all, err
		}
		var alerts []Alert
		for i := range recs {
			alerts = append(alerts, a.check(&recs[i])...)
		}
		last := recs[len(recs)-1].Seq
		err = a.db.InTx(ctx, func(tx *store.Tx) error {
			if err := moveCursor(ctx, tx, cursorAnalysis, cur, last, a.clock.Now()); err != nil {
				return err
			}
			if err := setCursor(ctx, tx, cursorOpenStart, a.openStart, a.clock.Now()); err != nil {
				return err
			}
			return a.record(ctx, tx, alerts)
		})
		if err != nil {
			a.ready = false // the state ran ahead of the cursor
			return all, err
		}
		all = append(all, alerts...)
	}
}

// restore rebuilds the state at cursor cur: the event there, and whether a
// service run is open. Sliding windows start empty.
func (a *Analyzer) restore(ctx context.Context, cur int64) error {
	a.last, a.prev, a.prevAt = cur, nil, time.Time{}
	a.failed, a.revoked, a.quiet, a.ceremonies = map[string][]time.Time{}, nil, map[string]time.Time{}, map[string]bool{}
	if cur > 0 {
		recs, err := Read(ctx, a.db, cur-1, 1)
		if err != nil {
			return err
		}
		if len(recs) == 1 && recs[0].Seq == cur {
			a.prev = recs[0].Hash
			a.prevAt, _ = store.ParseTime(recs[0].At)
		}
	}
	open, err := cursor(ctx, a.db, cursorOpenStart)
	if err != nil {
		return err
	}
	a.openStart = open
	a.ready = true
	return nil
}

// check runs every rule on one event.
func (a *Analyzer) check(r *Record) []Alert {
	var out []Alert
	at, _ := store.ParseTime(r.At)
	raise := func(rule, key string, until time.Time, msg string, details map[string]any) {
		k := rule + ":" + key
		if q, ok := a.quiet[k]; ok && at.Before(q) {
			return
		}
		if !until.IsZero() {
			a.quiet[k] = until
		}
		if details == nil {
			details = map[string]any{}
		}
		details["rule"], details["seq"], details["event_at"] = rule, r.Seq, r.At
		b, _ := json.Marshal(details)
		out = append(out, Alert{Rule: rule, Message: msg, Details: b})
	}

	// A gap or a break in the chain.
	switch {
	case a.last != 0 && r.Seq != a.last+1:
		raise(RuleChainBreak, fmt.Sprint(r.Seq), time.Time{}, fmt.Sprintf("events %d to %d are missing from the journal", a.last+1, r.Seq-1),
			map[string]any{"from": a.last + 1, "to": r.Seq - 1})
	case a.prev != nil && !bytes.Equal(r.PrevHash, a.prev):
		raise(RuleChainBreak, fmt.Sprint(r.Seq), time.Time{}, fmt.Sprintf("event %d does not chain to event %d", r.Seq, a.last), nil)
	case !bytes.Equal(r.ComputeHash(), r.Hash):
		raise(RuleChainBreak, fmt.Sprint(r.Seq), time.Time{}, fmt.Sprintf("event %d does not match its hash", r.Seq), nil)
	}

	// Clock jumps: time going back, or events from the future.
	if j := a.rules.ClockJump; j > 0 && !at.IsZero() {
		if !a.prevAt.IsZero() && at.Before(a.prevAt.Add(-j)) {
			raise(RuleClockJump, "back", at.Add(j), fmt.Sprintf("event %d is dated %s, %s before event %d (%s): the clock went back",
				r.Seq, r.At, a.prevAt.Sub(at).Round(time.Second), a.last, store.FormatTime(a.prevAt)), map[string]any{"previous_at": store.FormatTime(a.prevAt)})
		}
		if now := a.clock.Now(); at.After(now.Add(j)) {
			raise(RuleClockJump, "ahead", at.Add(j), fmt.Sprintf("event %d is dated %s, %s ahead of the analysis clock",
				r.Seq, r.At, at.Sub(now).Round(time.Second)), map[string]any{"clock": store.FormatTime(now)})
		}
	}

	switch r.Action {
	case ActionLoginFailed:
		if n, w := a.rules.FailedLogins, a.rules.FailedLoginWindow; n > 0 && w > 0 {
			ts := append(pruneBefore(a.failed[r.Object], at.Add(-w)), at)
			a.failed[r.Object] = ts
			if len(ts) >= n {
				raise(RuleFailedLogins, r.Object, at.Add(w), fmt.Sprintf("%d failed logins on %s within %s", len(ts), r.Object, w),
					map[string]any{"account": r.Object, "count": len(ts), "window": w.String()})
			}
		}
	case ActionCertificateRevoked:
		if n, w := a.rules.MassRevocations, a.rules.MassRevocationWindow; n > 0 && w > 0 {
			a.revoked = append(pruneBefore(a.revoked, at.Add(-w)), at)
			if len(a.revoked) >= n {
				raise(RuleMassRevocation, "", at.Add(w), fmt.Sprintf("%d certificates revoked within %s", len(a.revoked), w),
					map[string]any{"count": len(a.revoked), "window": w.String()})
			}
		}
	case ActionServiceStarted:
		if a.openStart != 0 {
			raise(RuleLoggingStopped, fmt.Sprint(r.Seq), time.Time{}, fmt.Sprintf("the service started again (event %d) without a recorded stop "+
				"since its start at event %d: logging stopped unrecorded (crash, kill or power loss) after event %d, dated %s",
				r.Seq, a.openStart, a.last, store.FormatTime(a.prevAt)), map[string]any{"previous_start": a.openStart, "last_event": a.last})
		}
		a.openStart = r.Seq
	case ActionServiceStopped:
		a.openStart = 0
	case ActionLoggingFailed:
		var late struct {
			Part          string `json:"part"`
			FailedAt      string `json:"failed_at"`
			Late          bool   `json:"recorded_late"`
			UnrecordedFor string `json:"unrecorded_for"`
		}
		_ = json.Unmarshal([]byte(r.Details), &late)
		if late.Late {
			// The journal could not be written while the part failed:
			// whatever happened then is not in it (AUD-7 refused it).
			raise(RuleLoggingFailure, fmt.Sprint(r.Seq), time.Time{}, fmt.Sprintf("the journal could not record for %s from %s (%s failed, recorded late at event %d): %s",
				late.UnrecordedFor, late.FailedAt, late.Part, r.Seq, r.Details),
				map[string]any{"unrecorded_from": late.FailedAt, "unrecorded_for": late.UnrecordedFor})
			break
		}
		raise(RuleLoggingFailure, fmt.Sprint(r.Seq), time.Time{}, "a part of the journal failed: "+r.Details, nil)
	case ActionPublicationStale:
		// PUB-3: the monitor journals each stale episode once; relying
		// parties are about to see an expired CRL or an unsigned change.
		raise(RulePublicationStale, fmt.Sprint(r.Seq), time.Time{}, "the publication site is stale: "+r.Details, nil)
	case ActionClockDrifted:
		// SYS-4: the guard journals each drift once; nothing is signed
		// until the clock is back within the limit.
		raise(RuleClockDrift, fmt.Sprint(r.Seq), time.Time{}, "the clock drifted beyond its limit, signing is refused: "+r.Details, nil)
	case ActionArchiveLagging:
		// ARC-4: the archive journals each episode once per replica.
		raise(RuleArchiveLag, fmt.Sprint(r.Seq), time.Time{}, "an archive replica is behind: "+r.Details, nil)
	case ActionIncidentObligationDue, ActionIncidentObligationOverdue:
		// INC-4: the register journals each once per obligation.
		msg := "a notification owed for an incident is due soon: "
		if r.Action == ActionIncidentObligationOverdue {
			msg = "a notification owed for an incident is OVERDUE: "
		}
		raise(RuleIncidentDeadline, fmt.Sprint(r.Seq), time.Time{}, msg+r.Object+" "+r.Details, nil)
	case ActionIncidentNotificationFailed:
		// INC-1: retried until delivered; one alert an hour per incident.
		raise(RuleIncidentNotification, r.Object, at.Add(time.Hour), "a notification of "+r.Object+" was not delivered (it is retried): "+r.Details, nil)
	case ActionClockUnreachable:
		// SYS-4: no answer is not "in sync"; signing stops after the grace.
		raise(RuleClockUnreachable, fmt.Sprint(r.Seq), time.Time{}, "no NTP server answers the clock check: "+r.Details, nil)
	case ActionCeremonyStarted:
		a.ceremonies[r.Object] = true
	case ActionCeremonyEnded, ActionCeremonyAborted:
		delete(a.ceremonies, r.Object)
	case ActionKeyActivated:
		if a.rules.CeremonyRule && len(a.ceremonies) == 0 && !inWindows(a.rules.CeremonyWindows, at) {
			raise(RuleActivationOutsideCeremony, fmt.Sprint(r.Seq), time.Time{}, fmt.Sprintf("%s was activated at %s by %s outside any ceremony window",
				r.Object, r.At, r.Actor), map[string]any{"key": r.Object, "actor": r.Actor})
		}
	}

	// People acting outside the working hours.
	if w := a.rules.WorkingHours; w != nil && !strings.HasPrefix(r.Actor, "system:") && !at.IsZero() && !w.Contains(at) {
		raise(RuleOffHours, r.Actor, at.Add(time.Hour), fmt.Sprintf("%s acted outside the working hours: %s at %s", r.Actor, r.Action, r.At),
			map[string]any{"actor": r.Actor, "role": r.Role, "action": r.Action})
	}

	a.last, a.prev = r.Seq, r.Hash
	if !at.IsZero() {
		a.prevAt = at
	}
	return out
}

func pruneBefore(ts []time.Time, t time.Time) []time.Time {
	i := 0
	for i < len(ts) && ts[i].Before(t) {
		i++
	}
	return ts[i:]
}

func inWindows(ws []Window, t time.Time) bool {
	for _, w := range ws {
		if !t.Before(w.Start) && t.Before(w.End) {
			return true
		}
	}
	return false
}

// record appends the alerts as events and lists them in audit_alerts.
func (a *Analyzer) record(ctx context.Context, tx *store.Tx, alerts []Alert) error {
	if len(alerts) == 0 {
		return nil
	}
	evs := make([]Event, len(alerts))
	for i, al := range alerts {
		evs[i] = Event{Actor: sceau.System("analysis"), Action: ActionAlertRaised, Object: "alert:" + al.Rule,
			Details: map[string]any{"rule": al.Rule, "message": al.Message, "findings": al.Details}}
	}
	if err := a.journal.Append(ctx, tx, evs...); err != nil {
		return err
	}
	head, _, err := Head(ctx, tx)
	if err != nil {
		return err
	}
	at := store.FormatTime(a.journal.Now())
	for i := range alerts {
		al := &alerts[i]
		al.Seq, al.At = head-int64(len(alerts))+1+int64(i), at
		if _, err := tx.ExecContext(ctx, sqlInsertAlert, al.Seq, al.At, al.Rule, al.Message, string(al.Details)); err != nil {
			return store.Classify("audit: alert", err)
		}
	}
	return nil
}

// Alerts lists the alerts raised since since, oldest first, at most limit.
func Alerts(ctx context.Context, q store.Querier, since time.Time, limit int) ([]Alert, error) {
	const op = "audit: alerts"
	rows, err := q.QueryContext(ctx, sqlAlerts, store.FormatTime(since), limit)
	if err != nil {
		return nil, store.Classify(op, err)
	}
	defer rows.Close()
	var out []Alert
	for rows.Next() {
		var (
			al      Alert
			details string
		)
		if err := rows.Scan(&al.Seq, &al.At, &al.Rule, &al.Message, &details); err != nil {
			return nil, store.Classify(op, err)
		}
		al.Details = json.RawMessage(details)
		out = append(out, al)
	}
	return out, store.Classify(op, rows.Err())
}

// cursor returns the named cursor, creating it at 0.
func cursor(ctx context.Context, db *store.DB, name string) (int64, error) {
	const op = "audit: cursor"
	var seq int64
	err := db.QueryRowContext(ctx, sqlCursor, name).Scan(&seq)
	if err == nil {
		return seq, nil
	}
	if err = store.Classify(op, err); sceau.KindOf(err) != sceau.NotFound {
		return 0, err
	}
	if _, err := db.ExecContext(ctx, sqlCursorCreate, name, store.FormatTime(time.Now())); err != nil {
		return 0, store.Classify(op, err)
	}
	return 0, nil
}

// moveCursor moves a cursor from from to to, or fails with Conflict when
// another node moved it first.
func moveCursor(ctx context.Context, tx *store.Tx, name string, from, to int64, now time.Time) error {
	res, err := tx.ExecContext(ctx, sqlCursorMove, to, store.FormatTime(now), name, from)
	if err != nil {
		return store.Classify("audit: cursor", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return sceau.Errorf(sceau.Conflict, "audit: cursor", "cursor %s moved meanwhile", name)
	}
	return nil
}

// setCursor sets a cursor whatever its value.
func setCursor(ctx context.Context, tx *store.Tx, name string, seq int64, now time.Time) error {
	if _, err := tx.ExecContext(ctx, sqlCursorCreate, name, store.FormatTime(now)); err != nil {
		return store.Classify("audit: cursor", err)
	}
	_, err := tx.ExecContext(ctx, sqlCursorSet, seq, store.FormatTime(now), name)
	return store.Classify("audit: cursor", err)
}

// Cursors lists the cursors of the syslog forwarder and the analysis.
func Cursors(ctx context.Context, q store.Querier) (map[string]int64, error) {
	const op = "audit: cursors"
	rows, err := q.QueryContext(ctx, sqlCursors)
	if err != nil {
		return nil, store.Classify(op, err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var (
			name string
			seq  int64
			at   string
		)
		if err := rows.Scan(&name, &seq, &at); err != nil {
			return nil, store.Classify(op, err)
		}
		out[name] = seq
	}
	return out, store.Classify(op, rows.Err())
}
