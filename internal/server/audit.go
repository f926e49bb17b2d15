package server

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/sceau/sceau/internal/access"
	"github.com/sceau/sceau/internal/audit"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/store"
)

// AuditAPI gives the admin API the journal (AUD-3): reading, verifying and
// exporting it are the System Auditor's and the Security Officer's; entering
// an event that happened outside the software names the person logged in
// (ROLE-5). The route's action is decided before the handler runs
// (routeActions), and the journal's Guard decides again with the same
// matrix (access.JournalDecider), so a handler cannot skip the check.
type AuditAPI struct {
	DB      *store.DB
	Journal *audit.Journal
	// ExportDir is the continuous export's directory, for the status's
	// lag; "" when off.
	ExportDir string
	Clock     sceau.Clock
}

// The audit routes and their actions (also in routeActions).
func (a *Admin) auditRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/v1/audit/events", a.auditEvents)
	mux.HandleFunc("GET /api/v1/audit/events/{seq}", a.auditEvent)
	mux.HandleFunc("GET /api/v1/audit/alerts", a.auditAlerts)
	mux.HandleFunc("GET /api/v1/audit/status", a.auditStatus)
	mux.HandleFunc("GET /api/v1/audit/verify", a.auditVerify)
	mux.HandleFunc("GET /api/v1/audit/export", a.auditExport)
	mux.HandleFunc("POST /api/v1/audit/records", a.auditRecord)
}

func (a *Admin) auditGuard(w http.ResponseWriter) (audit.Guard, bool) {
	if a.Audit == nil || a.Audit.DB == nil {
		writeError(w, a.Log, sceau.Errorf(sceau.Unavailable, "server: audit", "the journal is not served by this listener"))
		return audit.Guard{}, false
	}
	return audit.Guard{DB: a.Audit.DB, Decider: access.JournalDecider}, true
}

// EventInfo is a journal event in the API: hashes in hex, details as the
// JSON object stored (DetailsRaw when they are not JSON).
type EventInfo struct {
	Seq        int64           `json:"seq"`
	At         string          `json:"at"`
	Actor      string          `json:"actor"`
	Role       string          `json:"role"`
	Action     string          `json:"action"`
	Object     string          `json:"object"`
	Details    json.RawMessage `json:"details,omitempty"`
	DetailsRaw string          `json:"details_raw,omitempty"`
	PrevHash   string          `json:"prev_hash"`
	Hash       string          `json:"hash"`
}

// EventPage is a page of events: Next is the after= of the next page.
type EventPage struct {
	Events []EventInfo `json:"events"`
	Next   int64       `json:"next"`
	More   bool        `json:"more"`
}

// EventInfoOf describes a journal record in the API.
func EventInfoOf(r *audit.Record) EventInfo {
	e := EventInfo{Seq: r.Seq, At: r.At, Actor: r.Actor, Role: r.Role, Action: r.Action, Object: r.Object,
		PrevHash: hex.EncodeToString(r.PrevHash), Hash: hex.EncodeToString(r.Hash)}
	if json.Valid([]byte(r.Details)) {
		e.Details = json.RawMessage(r.Details)
	} else {
		e.DetailsRaw = r.Details
	}
	return e
}

// queryInt reads a non-negative integer parameter within 0..max.
func queryInt(r *http.Request, name string, def, max int64) (int64, error) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return def, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 || n > max {
		return 0, sceau.Errorf(sceau.Invalid, "server: "+name, "%q is not a number from 0 to %d", s, max)
	}
	return n, nil
}

// queryTime reads an RFC 3339 time, or a duration before now ("36h").
func queryTime(r *http.Request, name string, now time.Time) (time.Time, error) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return now.Add(-d), nil
	}
	return time.Time{}, sceau.Errorf(sceau.Invalid, "server: "+name, "%q is neither an RFC 3339 time nor a duration like 36h", s)
}

func (a *Admin) auditNow() time.Time { return sceau.ClockOr(a.Audit.Clock).Now() }

func (a *Admin) auditEvents(w http.ResponseWriter, r *http.Request) {
	g, ok := a.auditGuard(w)
	if !ok {
		return
	}
	q := r.URL.Query()
	f := audit.Filter{Action: q.Get("action"), Actor: q.Get("actor"), Role: q.Get("role"), Object: q.Get("object")}
	var err error
	if f.After, err = queryInt(r, "after", 0, 1<<62); err == nil {
		var limit int64
		if limit, err = queryInt(r, "limit", 100, audit.MaxPage); err == nil {
			f.Limit = int(max(limit, 1))
		}
	}
	if err == nil {
		if f.Since, err = queryTime(r, "since", a.auditNow()); err == nil {
			f.Until, err = queryTime(r, "until", a.auditNow())
		}
	}
	if err != nil {
		writeError(w, a.Log, err)
		return
	}
	p, err := g.Search(r.Context(), actorOf(r), f)
	if err != nil {
		writeError(w, a.Log, err)
		return
	}
	out := EventPage{Events: []EventInfo{}, Next: p.Next, More: p.More}
	for i := range p.Events {
		out.Events = append(out.Events, EventInfoOf(&p.Events[i]))
	}
	writeJSON(w, http.StatusOK, out)
}

func (a *Admin) auditEvent(w http.ResponseWriter, r *http.Request) {
	g, ok := a.auditGuard(w)
	if !ok {
		return
	}
	seq, err := strconv.ParseInt(r.PathValue("seq"), 10, 64)
	if err != nil || seq < 1 {
		writeError(w, a.Log, sceau.Errorf(sceau.Invalid, "server: seq", "%q is not an event number", r.PathValue("seq")))
		return
	}
	rec, err := g.Event(r.Context(), actorOf(r), seq)
	if err != nil {
		writeError(w, a.Log, err)
		return
	}
	e := EventInfoOf(&rec)
	out := struct {
		EventInfo
		Meaning string `json:"meaning,omitempty"`
	}{EventInfo: e}
	if k, ok := audit.Describe(rec.Action); ok {
		out.Meaning = k.Description
	}
	writeJSON(w, http.StatusOK, out)
}

func (a *Admin) auditAlerts(w http.ResponseWriter, r *http.Request) {
	g, ok := a.auditGuard(w)
	if !ok {
		return
	}
	since, err := queryTime(r, "since", a.auditNow())
	if err != nil {
		writeError(w, a.Log, err)
		return
	}
	if since.IsZero() {
		since = a.auditNow().Add(-30 * 24 * time.Hour)
	}
	limit, err := queryInt(r, "limit", 1000, 10000)
	if err != nil {
		writeError(w, a.Log, err)
		return
	}
	alerts, err := g.Alerts(r.Context(), actorOf(r), since, int(max(limit, 1)))
	if err != nil {
		writeError(w, a.Log, err)
		return
	}
	if alerts == nil {
		alerts = []audit.Alert{}
	}
	writeJSON(w, http.StatusOK, alerts)
}

// AuditStatus is the journal's status in the API.
type AuditStatus struct {
	audit.Status
}

func (a *Admin) auditStatus(w http.ResponseWriter, r *http.Request) {
	g, ok := a.auditGuard(w)
	if !ok {
		return
	}
	st, err := g.Status(r.Context(), actorOf(r), a.Audit.ExportDir, a.auditNow())
	if err != nil {
		writeError(w, a.Log, err)
		return
	}
	writeJSON(w, http.StatusOK, AuditStatus{Status: st})
}

func (a *Admin) auditVerify(w http.ResponseWriter, r *http.Request) {
	g, ok := a.auditGuard(w)
	if !ok {
		return
	}
	opts := audit.VerifyOptions{TrustedKeyIDs: r.URL.Query()["key_id"]}
	res, err := g.Verify(r.Context(), actorOf(r), opts)
	if err != nil {
		writeError(w, a.Log, err)
		return
	}
	writeJSON(w, http.StatusOK, res)
}

// Headers of an export answer: where the lines end, to ask for the next
// page from there.
const (
	HeaderExportSeq        = "Sceau-Export-Seq"
	HeaderExportCheckpoint = "Sceau-Export-Checkpoint"
	HeaderExportEvents     = "Sceau-Export-Events"
)

// auditExport answers export lines (the format of the export directory,
// application/x-ndjson) after the events and checkpoints the client holds
// (after=, checkpoint=), at most limit events (AUD-5).
func (a *Admin) auditExport(w http.ResponseWriter, r *http.Request) {
	g, ok := a.auditGuard(w)
	if !ok {
		return
	}
	after, err := queryInt(r, "after", 0, 1<<62)
	var cp, limit int64
	if err == nil {
		if cp, err = queryInt(r, "checkpoint", 0, 1<<62); err == nil {
			limit, err = queryInt(r, "limit", 2000, 10000)
		}
	}
	if err != nil {
		writeError(w, a.Log, err)
		return
	}
	var buf bytes.Buffer
	pos, err := g.ExportPage(r.Context(), actorOf(r), &buf, after, cp, int(max(limit, 1)))
	if err != nil {
		writeError(w, a.Log, err)
		return
	}
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set(HeaderExportSeq, strconv.FormatInt(pos.Seq, 10))
	w.Header().Set(HeaderExportCheckpoint, strconv.FormatInt(pos.Checkpoint, 10))
	w.Header().Set(HeaderExportEvents, strconv.FormatInt(pos.Events, 10))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(buf.Bytes())
}

// ManualRecord enters an event that happened outside the software (AUD-1):
// Kind is one of audit.ManualKinds ("physical-access", "maintenance",
// "media-destruction", "host-start", "host-stop"), Fields its values.
type ManualRecord struct {
	Kind   string            `json:"kind"`
	Fields map[string]string `json:"fields"`
}

// RecordedEvent answers a manual record.
type RecordedEvent struct {
	Seq    int64  `json:"seq"`
	Action string `json:"action"`
	Object string `json:"object"`
	Actor  string `json:"actor"`
	Role   string `json:"role"`
}

func (a *Admin) auditRecord(w http.ResponseWriter, r *http.Request) {
	if a.Audit == nil || a.Audit.DB == nil || a.Audit.Journal == nil {
		writeError(w, a.Log, sceau.Errorf(sceau.Unavailable, "server: audit", "the journal is not served by this listener"))
		return
	}
	var req ManualRecord
	if err := decode(r, &req); err != nil {
		writeError(w, a.Log, err)
		return
	}
	// ROLE-5: the event names the person logged in and the role the
	// decision allowed, never a name the client chose.
	actor := actorOf(r)
	seq, err := audit.RecordManual(r.Context(), a.Audit.DB, a.Audit.Journal, access.JournalDecider, actor, req.Kind, req.Fields)
	if err != nil {
		writeError(w, a.Log, err)
		return
	}
	rec, err := audit.ReadEvent(r.Context(), a.Audit.DB, seq)
	if err != nil {
		writeError(w, a.Log, err)
		return
	}
	writeJSON(w, http.StatusCreated, RecordedEvent{Seq: seq, Action: rec.Action, Object: rec.Object, Actor: rec.Actor, Role: rec.Role})
}
