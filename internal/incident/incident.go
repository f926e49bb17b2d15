package incident

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/sceau/sceau/internal/audit"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/store"
)

// Kind is what happened.
type Kind string

// The kinds of incident (INC-1).
const (
	KeyLoss             Kind = "key-loss"
	SuspectedCompromise Kind = "suspected-compromise"
	Theft               Kind = "theft"
	WeakAlgorithm       Kind = "weak-algorithm"
	Outage              Kind = "outage"
	Other               Kind = "other"
)

// Kinds lists the kinds of incident.
var Kinds = []Kind{KeyLoss, SuspectedCompromise, Theft, WeakAlgorithm, Outage, Other}

// Severity is how bad it is. A major incident owes notifications within
// 24 hours (INC-4) and starts the compromise procedure.
type Severity string

// The severities.
const (
	Minor    Severity = "minor"
	Moderate Severity = "moderate"
	Major    Severity = "major"
)

// Severities lists the severities, least first.
var Severities = []Severity{Minor, Moderate, Major}

// ParseKind reads a kind, naming the valid ones when s is not one.
func ParseKind(s string) (Kind, error) {
	k := Kind(strings.TrimSpace(strings.ToLower(s)))
	if slices.Contains(Kinds, k) {
		return k, nil
	}
	return "", sceau.Errorf(sceau.Invalid, "incident: kind", "unknown kind %q (one of %s)", s, joined(Kinds))
}

// ParseSeverity reads a severity, naming the valid ones when s is not one.
func ParseSeverity(s string) (Severity, error) {
	v := Severity(strings.TrimSpace(strings.ToLower(s)))
	if slices.Contains(Severities, v) {
		return v, nil
	}
	return "", sceau.Errorf(sceau.Invalid, "incident: severity", "unknown severity %q (one of %s)", s, joined(Severities))
}

func joined[T ~string](vs []T) string {
	s := make([]string, len(vs))
	for i, v := range vs {
		s[i] = string(v)
	}
	return strings.Join(s, ", ")
}

// Status of an incident.
const (
	StatusOpen   = "open"
	StatusClosed = "closed"
)

// NoteKind says what a timeline entry is.
type NoteKind string

// Timeline entries: a person's note, an action taken, or what Sceau
// recorded itself (opening, obligations, closure).
const (
	NoteText   NoteKind = "note"
	NoteAction NoteKind = "action"
	NoteSystem NoteKind = "system"
)

// ObligationKind is to whom a major incident must be notified (INC-4).
type ObligationKind string

// The notifications a major incident owes, each due 24 hours after its
// detection.
const (
	SupervisoryAuthority ObligationKind = "supervisory-authority"
	ConformityBody       ObligationKind = "conformity-body"
)

// ObligationKinds lists them.
var ObligationKinds = []ObligationKind{SupervisoryAuthority, ConformityBody}

// ObligationDelay is how long after detection they are due (INC-4).
const ObligationDelay = 24 * time.Hour

// ParseObligationKind reads an obligation kind.
func ParseObligationKind(s string) (ObligationKind, error) {
	k := ObligationKind(strings.TrimSpace(strings.ToLower(s)))
	if slices.Contains(ObligationKinds, k) {
		return k, nil
	}
	return "", sceau.Errorf(sceau.Invalid, "incident: obligation", "unknown obligation %q (one of %s)", s, joined(ObligationKinds))
}

// Title of an obligation kind, for people.
func (k ObligationKind) Title() string {
	switch k {
	case SupervisoryAuthority:
		return "the supervisory authority"
	case ConformityBody:
		return "the conformity assessment body"
	}
	return string(k)
}

// New describes an incident being opened.
type New struct {
	Kind        Kind      `json:"kind"`
	Severity    Severity  `json:"severity"`
	Title       string    `json:"title"`
	Description string    `json:"description,omitempty"`
	DetectedAt  time.Time `json:"detected_at,omitzero"` // zero: now
	// Started names the compromise procedure already under way (INC-2
	// opens its own incident): the timeline says so instead of "to start".
	Started string `json:"-"`
}

// Incident is one incident with its timeline, notifications and obligations.
type Incident struct {
	ID            int64          `json:"id"`
	Kind          Kind           `json:"kind"`
	Severity      Severity       `json:"severity"`
	Title         string         `json:"title"`
	Description   string         `json:"description"`
	DetectedAt    time.Time      `json:"detected_at"`
	OpenedAt      time.Time      `json:"opened_at"`
	OpenedBy      string         `json:"opened_by"`
	Status        string         `json:"status"`
	ClosedAt      time.Time      `json:"closed_at,omitzero"`
	ClosedBy      string         `json:"closed_by,omitempty"`
	Closure       string         `json:"closure,omitempty"`
	Timeline      []Note         `json:"timeline,omitempty"`
	Notifications []Notification `json:"notifications,omitempty"`
	Obligations   []Obligation   `json:"obligations,omitempty"`
}

// Note is one entry of the timeline.
type Note struct {
	ID     int64     `json:"id"`
	At     time.Time `json:"at"`
	Author string    `json:"author"`
	Kind   NoteKind  `json:"kind"`
	Text   string    `json:"text"`
}

// Obligation is a notification owed to an authority (INC-4).
type Obligation struct {
	Incident  int64          `json:"incident"`
	Kind      ObligationKind `json:"kind"`
	DueAt     time.Time      `json:"due_at"`
	DoneAt    time.Time      `json:"done_at,omitzero"`
	DoneBy    string         `json:"done_by,omitempty"`
	Reference string         `json:"reference,omitempty"`
	WarnedAt  time.Time      `json:"warned_at,omitzero"`
	OverdueAt time.Time      `json:"overdue_at,omitzero"`
}

// Done says whether it was recorded done.
func (o Obligation) Done() bool { return !o.DoneAt.IsZero() }

// Overdue says whether it is not done and its due time has passed at now.
func (o Obligation) Overdue(now time.Time) bool { return !o.Done() && !now.Before(o.DueAt) }

// Recipient is who is told of incidents: an address of a channel.
type Recipient struct {
	Channel string `json:"channel"` // smtp, webhook, syslog
	To      string `json:"to"`      // an e-mail address, a URL, a collector
	// Who: security-officer or partner, for the reader.
	Who string `json:"who,omitempty"`
}

// Options configure a Service.
type Options struct {
	Clock sceau.Clock
	Log   *slog.Logger
	// Senders deliver notifications, by channel name (Sender.Channel).
	Senders []Sender
	// Recipients are told of every incident opened, closed, and of each
	// deadline alert: the Security Officers and the partners.
	Recipients []Recipient
	// Margin: the alert before an obligation's due time is raised when
	// less than this remains (INC-4). Default 4h.
	Margin time.Duration
	// Backoff is the wait after a first failed attempt, doubled after
	// each next one up to MaxBackoff. Defaults 30s and 1h.
	Backoff, MaxBackoff time.Duration
	// SendTimeout bounds one attempt. Default 30s.
	SendTimeout time.Duration
	// OnMajor is called after a major incident was opened: the compromise
	// procedure (INC-2) starts there. Nil: the timeline says it is to start.
	OnMajor func(ctx context.Context, in *Incident)
	// CompromiseCommand names what starts the compromise procedure, for
	// the timeline and the notifications.
	CompromiseCommand string
}

// Service is the incident register of one installation.
type Service struct {
	db      *store.DB
	journal *audit.Journal
	o       Options
	senders map[string]Sender
}

// NewService returns the register over db.
func NewService(db *store.DB, j *audit.Journal, o Options) *Service {
	o.Clock = sceau.ClockOr(o.Clock)
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Margin <= 0 {
		o.Margin = 4 * time.Hour
	}
	if o.Backoff <= 0 {
		o.Backoff = 30 * time.Second
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = time.Hour
	}
	if o.SendTimeout <= 0 {
		o.SendTimeout = 30 * time.Second
	}
	if o.CompromiseCommand == "" {
		o.CompromiseCommand = "the CA key compromise procedure (docs/incident.md, INC-2)"
	}
	s := &Service{db: db, journal: j, o: o, senders: map[string]Sender{}}
	for _, snd := range o.Senders {
		s.senders[snd.Channel()] = snd
	}
	return s
}

// Recipients are who is told of every incident.
func (s *Service) Recipients() []Recipient { return slices.Clone(s.o.Recipients) }

// Margin is how long before an obligation's due time its alert is raised.
func (s *Service) Margin() time.Duration { return s.o.Margin }

const (
	maxTitle = 200
	maxText  = 64 << 10
)

func checkText(op, what, s string, max int, required bool) (string, error) {
	s = strings.TrimSpace(s)
	switch {
	case required && s == "":
		return "", sceau.Errorf(sceau.Invalid, op, "%s is required", what)
	case len(s) > max:
		return "", sceau.Errorf(sceau.Invalid, op, "%s is %d bytes, more than %d", what, len(s), max)
	case !utf8.ValidString(s):
		return "", sceau.Errorf(sceau.Invalid, op, "%s is not UTF-8", what)
	}
	return s, nil
}

// Open records an incident, notifies the recipients and, for a major one,
// sets its obligations due 24 hours after detection (INC-4) and marks the
// compromise procedure to start. The incident comes back with the first
// delivery attempts made; a failed one is retried by Deliver.
func (s *Service) Open(ctx context.Context, actor sceau.Actor, nw New) (*Incident, error) {
	var id int64
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		var err error
		id, err = s.OpenTx(ctx, tx, actor, nw)
		return err
	})
	if err != nil {
		return nil, err
	}
	s.o.Log.Warn("incident opened", "id", id, "kind", nw.Kind, "severity", nw.Severity, "title", nw.Title)
	s.deliverIncident(ctx, id)
	in, err := s.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if in.Severity == Major && s.o.OnMajor != nil && nw.Started == "" {
		s.o.OnMajor(ctx, in)
	}
	return in, nil
}

// OpenTx records an incident in the caller's transaction, with its
// notifications queued (serve's loop delivers them) and, for a major one,
// its obligations: for a procedure that opens its own incident in the
// transaction that carries it out (INC-2). It returns the incident's ID.
func (s *Service) OpenTx(ctx context.Context, tx *store.Tx, actor sceau.Actor, nw New) (int64, error) {
	const op = "incident: open"
	var err error
	if nw.Kind, err = ParseKind(string(nw.Kind)); err != nil {
		return 0, err
	}
	if nw.Severity, err = ParseSeverity(string(nw.Severity)); err != nil {
		return 0, err
	}
	if nw.Title, err = checkText(op, "a title", nw.Title, maxTitle, true); err != nil {
		return 0, err
	}
	if nw.Description, err = checkText(op, "the description", nw.Description, maxText, false); err != nil {
		return 0, err
	}
	now := s.o.Clock.Now().UTC()
	if nw.DetectedAt.IsZero() {
		nw.DetectedAt = now
	}
	nw.DetectedAt = nw.DetectedAt.UTC()
	if nw.DetectedAt.After(now.Add(time.Minute)) {
		return 0, sceau.Errorf(sceau.Invalid, op, "the detection time %s is in the future", nw.DetectedAt.Format(time.RFC3339))
	}
	var id int64
	if err := tx.QueryRowContext(ctx, qInsertIncident, string(nw.Kind), string(nw.Severity), nw.Title, nw.Description,
		store.FormatTime(nw.DetectedAt), store.FormatTime(now), actor.String()).Scan(&id); err != nil {
		return 0, store.Classify(op, err)
	}
	in := &Incident{ID: id, Kind: nw.Kind, Severity: nw.Severity, Title: nw.Title, Description: nw.Description,
		DetectedAt: nw.DetectedAt, OpenedAt: now, OpenedBy: actor.String(), Status: StatusOpen}
	text := fmt.Sprintf("opened: %s, %s, detected %s", in.Kind, in.Severity, in.DetectedAt.Format(time.RFC3339))
	if err := addNote(ctx, tx, id, now, actor.String(), NoteSystem, text); err != nil {
		return 0, err
	}
	details := map[string]any{"kind": in.Kind, "severity": in.Severity, "title": in.Title,
		"detected_at": store.FormatTime(in.DetectedAt), "recipients": len(s.o.Recipients)}
	if in.Severity == Major {
		var due []string
		for _, k := range ObligationKinds {
			at := in.DetectedAt.Add(ObligationDelay)
			if _, err := tx.ExecContext(ctx, qInsertObligation, id, string(k), store.FormatTime(at)); err != nil {
				return 0, store.Classify(op, err)
			}
			due = append(due, string(k))
			in.Obligations = append(in.Obligations, Obligation{Incident: id, Kind: k, DueAt: at})
			if err := addNote(ctx, tx, id, now, "sceau", NoteSystem, fmt.Sprintf("obligation: notify %s by %s (INC-4: 24 hours after detection)",
				k.Title(), at.Format(time.RFC3339))); err != nil {
				return 0, err
			}
		}
		// INC-2 is the compromise procedure: the timeline says it must be
		// started, or that it is under way when it opened this incident.
		note, state := "compromise procedure: to start — "+s.o.CompromiseCommand, "to start"
		if nw.Started != "" {
			note, state = "compromise procedure: started — "+nw.Started, "started"
		}
		if err := addNote(ctx, tx, id, now, "sceau", NoteSystem, note); err != nil {
			return 0, err
		}
		details["obligations"], details["due_at"] = due, store.FormatTime(in.DetectedAt.Add(ObligationDelay))
		details["compromise_procedure"] = state
	}
	if err := s.enqueue(ctx, tx, in, "opened", now); err != nil {
		return 0, err
	}
	return id, s.journal.Append(ctx, tx, audit.Event{Actor: actor, Action: audit.ActionIncidentOpened, Object: object(id), Details: details})
}

func object(id int64) string { return fmt.Sprintf("incident:%d", id) }

func addNote(ctx context.Context, tx *store.Tx, id int64, at time.Time, author string, kind NoteKind, text string) error {
	var nid int64
	err := tx.QueryRowContext(ctx, qInsertNote, id, store.FormatTime(at), author, string(kind), text).Scan(&nid)
	return store.Classify("incident: note", err)
}

// openIncident reads incident id in tx and refuses a closed or unknown one.
func openIncident(ctx context.Context, tx *store.Tx, op string, id int64) (*Incident, error) {
	in, err := scanIncident(tx.QueryRowContext(ctx, qIncident, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, sceau.Errorf(sceau.NotFound, op, "no incident %d", id)
	}
	if err != nil {
		return nil, store.Classify(op, err)
	}
	if in.Status == StatusClosed {
		return nil, sceau.Errorf(sceau.Conflict, op, "incident %d was closed on %s by %s; a closed incident is final",
			id, in.ClosedAt.Format(time.RFC3339), in.ClosedBy)
	}
	return in, nil
}

// Note adds an entry to an open incident's timeline: a note, or an action
// taken (NoteAction).
func (s *Service) Note(ctx context.Context, actor sceau.Actor, id int64, kind NoteKind, text string) (*Note, error) {
	const op = "incident: note"
	if kind == "" {
		kind = NoteText
	}
	if kind != NoteText && kind != NoteAction {
		return nil, sceau.Errorf(sceau.Invalid, op, "a timeline entry is a note or an action, not %q", kind)
	}
	text, err := checkText(op, "the text", text, maxText, true)
	if err != nil {
		return nil, err
	}
	now := s.o.Clock.Now().UTC()
	n := &Note{At: now, Author: actor.String(), Kind: kind, Text: text}
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		if _, err := openIncident(ctx, tx, op, id); err != nil {
			return err
		}
		if err := tx.QueryRowContext(ctx, qInsertNote, id, store.FormatTime(now), n.Author, string(kind), text).Scan(&n.ID); err != nil {
			return store.Classify(op, err)
		}
		return s.journal.Append(ctx, tx, audit.Event{Actor: actor, Action: audit.ActionIncidentNoted, Object: object(id),
			Details: map[string]any{"note": n.ID, "kind": kind, "text": text}})
	})
	if err != nil {
		return nil, err
	}
	return n, nil
}

// Close closes an open incident with its closure: what was found, what
// was done. A major incident is closed only once its obligations are done.
func (s *Service) Close(ctx context.Context, actor sceau.Actor, id int64, closure string) (*Incident, error) {
	const op = "incident: close"
	closure, err := checkText(op, "the closure (what was found and done)", closure, maxText, true)
	if err != nil {
		return nil, err
	}
	now := s.o.Clock.Now().UTC()
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		in, err := openIncident(ctx, tx, op, id)
		if err != nil {
			return err
		}
		obs, err := obligations(ctx, tx, id)
		if err != nil {
			return err
		}
		for _, o := range obs {
			if !o.Done() {
				return sceau.Errorf(sceau.Conflict, op, "incident %d still owes its notification to %s (due %s): record it with 'sceau incident obligation done %d %s --reference …' first",
					id, o.Kind.Title(), o.DueAt.Format(time.RFC3339), id, o.Kind)
			}
		}
		in.Obligations = obs
		if err := addNote(ctx, tx, id, now, actor.String(), NoteSystem, "closed: "+closure); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, qCloseIncident, store.FormatTime(now), actor.String(), closure, id)
		if err != nil {
			return store.Classify(op, err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return sceau.Errorf(sceau.Conflict, op, "incident %d was closed meanwhile", id)
		}
		in.Status, in.ClosedAt, in.ClosedBy, in.Closure = StatusClosed, now, actor.String(), closure
		if err := s.enqueue(ctx, tx, in, "closed", now); err != nil {
			return err
		}
		return s.journal.Append(ctx, tx, audit.Event{Actor: actor, Action: audit.ActionIncidentClosed, Object: object(id),
			Details: map[string]any{"closure": closure, "open_for": now.Sub(in.DetectedAt).Round(time.Second).String()}})
	})
	if err != nil {
		return nil, err
	}
	s.deliverIncident(ctx, id)
	return s.Get(ctx, id)
}

// ObligationDone records that the notification owed to kind was made,
// with its reference (the authority's acknowledgement, a ticket number).
func (s *Service) ObligationDone(ctx context.Context, actor sceau.Actor, id int64, kind ObligationKind, reference string) (*Obligation, error) {
	const op = "incident: obligation"
	kind, err := ParseObligationKind(string(kind))
	if err != nil {
		return nil, err
	}
	if reference, err = checkText(op, "a reference (the acknowledgement, a ticket or registered-mail number)", reference, 512, true); err != nil {
		return nil, err
	}
	now := s.o.Clock.Now().UTC()
	var out *Obligation
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		if _, err := openIncident(ctx, tx, op, id); err != nil {
			return err
		}
		obs, err := obligations(ctx, tx, id)
		if err != nil {
			return err
		}
		i := slices.IndexFunc(obs, func(o Obligation) bool { return o.Kind == kind })
		if i < 0 {
			return sceau.Errorf(sceau.NotFound, op, "incident %d owes no notification to %s (only a major incident does)", id, kind.Title())
		}
		o := obs[i]
		if o.Done() {
			return sceau.Errorf(sceau.Conflict, op, "the notification of incident %d to %s was recorded done on %s by %s (reference %s)",
				id, kind.Title(), o.DoneAt.Format(time.RFC3339), o.DoneBy, o.Reference)
		}
		if _, err := tx.ExecContext(ctx, qObligationDone, store.FormatTime(now), actor.String(), reference, id, string(kind)); err != nil {
			return store.Classify(op, err)
		}
		late := ""
		if now.After(o.DueAt) {
			late = fmt.Sprintf(", %s late", now.Sub(o.DueAt).Round(time.Minute))
		}
		if err := addNote(ctx, tx, id, now, actor.String(), NoteSystem, fmt.Sprintf("obligation done: %s notified, reference %s%s",
			kind.Title(), reference, late)); err != nil {
			return err
		}
		o.DoneAt, o.DoneBy, o.Reference = now, actor.String(), reference
		out = &o
		return s.journal.Append(ctx, tx, audit.Event{Actor: actor, Action: audit.ActionIncidentObligationDone, Object: object(id),
			Details: map[string]any{"kind": kind, "reference": reference, "due_at": store.FormatTime(o.DueAt), "late": now.After(o.DueAt)}})
	})
	return out, err
}
