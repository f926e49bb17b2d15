package server

import (
	"net/http"
	"strconv"
	"time"

	"github.com/sceau/sceau/internal/incident"
	"github.com/sceau/sceau/internal/sceau"
)

// The incident register's routes (INC-1, INC-4; docs/incident.md).

// OpenIncidentRequest opens an incident.
type OpenIncidentRequest struct {
	Kind        string `json:"kind"`
	Severity    string `json:"severity"`
	Title       string `json:"title"`
	Description string `json:"description,omitempty"`
	DetectedAt  string `json:"detected_at,omitempty"` // RFC 3339; empty: now
}

// IncidentNoteRequest adds to a timeline.
type IncidentNoteRequest struct {
	Kind string `json:"kind,omitempty"` // note (default) or action
	Text string `json:"text"`
}

// EscalateRequest raises an incident's severity.
type EscalateRequest struct {
	Severity string `json:"severity"`
	Reason   string `json:"reason"`
}

// CloseIncidentRequest closes an incident.
type CloseIncidentRequest struct {
	Closure string `json:"closure"`
}

// ObligationDoneRequest records a notification to an authority done.
type ObligationDoneRequest struct {
	Reference string `json:"reference"`
}

// IncidentList answers a listing; Now is the server's time, against which
// Overdue was decided.
type IncidentList struct {
	Incidents []incident.Summary `json:"incidents"`
	Now       time.Time          `json:"now"`
}

func (a *Admin) incidentRoutes(mux *http.ServeMux) {
	mux.HandleFunc("POST /api/v1/incidents", a.openIncident)
	mux.HandleFunc("GET /api/v1/incidents", a.listIncidents)
	mux.HandleFunc("GET /api/v1/incidents/status", a.incidentStatus)
	mux.HandleFunc("GET /api/v1/incidents/{id}", a.showIncident)
	mux.HandleFunc("POST /api/v1/incidents/{id}/notes", a.noteIncident)
	mux.HandleFunc("POST /api/v1/incidents/{id}/severity", a.escalateIncident)
	mux.HandleFunc("POST /api/v1/incidents/{id}/close", a.closeIncident)
	mux.HandleFunc("POST /api/v1/incidents/{id}/obligations/{kind}/done", a.obligationDone)
}

func (a *Admin) incidentsReady(w http.ResponseWriter) bool {
	if a.Incidents == nil {
		writeError(w, a.Log, sceau.Errorf(sceau.Unavailable, "server: incident", "this node does not serve the incident register"))
		return false
	}
	return true
}

func (a *Admin) incidentID(w http.ResponseWriter, r *http.Request) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		writeError(w, a.Log, sceau.Errorf(sceau.Invalid, "server: incident", "%q is not an incident number", r.PathValue("id")))
		return 0, false
	}
	return id, true
}

func (a *Admin) openIncident(w http.ResponseWriter, r *http.Request) {
	if !a.incidentsReady(w) {
		return
	}
	var req OpenIncidentRequest
	if err := decode(r, &req); err != nil {
		writeError(w, a.Log, err)
		return
	}
	nw := incident.New{Kind: incident.Kind(req.Kind), Severity: incident.Severity(req.Severity), Title: req.Title, Description: req.Description}
	if req.DetectedAt != "" {
		t, err := time.Parse(time.RFC3339, req.DetectedAt)
		if err != nil {
			writeError(w, a.Log, sceau.Errorf(sceau.Invalid, "server: incident", "detected_at %q is not an RFC 3339 time", req.DetectedAt))
			return
		}
		nw.DetectedAt = t
	}
	in, err := a.Incidents.Open(r.Context(), actorOf(r), nw)
	if err != nil {
		writeError(w, a.Log, err)
		return
	}
	writeJSON(w, http.StatusCreated, in)
}

func (a *Admin) listIncidents(w http.ResponseWriter, r *http.Request) {
	if !a.incidentsReady(w) {
		return
	}
	limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
	l, err := a.Incidents.List(r.Context(), incident.Filter{All: r.URL.Query().Get("all") == "true", Limit: limit})
	if err != nil {
		writeError(w, a.Log, err)
		return
	}
	if l == nil {
		l = []incident.Summary{}
	}
	writeJSON(w, http.StatusOK, IncidentList{Incidents: l, Now: a.Incidents.Now().UTC()})
}

func (a *Admin) incidentStatus(w http.ResponseWriter, r *http.Request) {
	if !a.incidentsReady(w) {
		return
	}
	st, err := a.Incidents.Status(r.Context())
	if err != nil {
		writeError(w, a.Log, err)
		return
	}
	writeJSON(w, http.StatusOK, st)
}

func (a *Admin) showIncident(w http.ResponseWriter, r *http.Request) {
	if !a.incidentsReady(w) {
		return
	}
	id, ok := a.incidentID(w, r)
	if !ok {
		return
	}
	in, err := a.Incidents.Get(r.Context(), id)
	if err != nil {
		writeError(w, a.Log, err)
		return
	}
	writeJSON(w, http.StatusOK, in)
}

func (a *Admin) noteIncident(w http.ResponseWriter, r *http.Request) {
	if !a.incidentsReady(w) {
		return
	}
	id, ok := a.incidentID(w, r)
	if !ok {
		return
	}
	var req IncidentNoteRequest
	if err := decode(r, &req); err != nil {
		writeError(w, a.Log, err)
		return
	}
	n, err := a.Incidents.Note(r.Context(), actorOf(r), id, incident.NoteKind(req.Kind), req.Text)
	if err != nil {
		writeError(w, a.Log, err)
		return
	}
	writeJSON(w, http.StatusCreated, n)
}

func (a *Admin) closeIncident(w http.ResponseWriter, r *http.Request) {
	if !a.incidentsReady(w) {
		return
	}
	id, ok := a.incidentID(w, r)
	if !ok {
		return
	}
	var req CloseIncidentRequest
	if err := decode(r, &req); err != nil {
		writeError(w, a.Log, err)
		return
	}
	in, err := a.Incidents.Close(r.Context(), actorOf(r), id, req.Closure)
	if err != nil {
		writeError(w, a.Log, err)
		return
	}
	writeJSON(w, http.StatusOK, in)
}

func (a *Admin) obligationDone(w http.ResponseWriter, r *http.Request) {
	if !a.incidentsReady(w) {
		return
	}
	id, ok := a.incidentID(w, r)
	if !ok {
		return
	}
	var req ObligationDoneRequest
	if err := decode(r, &req); err != nil {
		writeError(w, a.Log, err)
		return
	}
	o, err := a.Incidents.ObligationDone(r.Context(), actorOf(r), id, incident.ObligationKind(r.PathValue("kind")), req.Reference)
	if err != nil {
		writeError(w, a.Log, err)
		return
	}
	writeJSON(w, http.StatusOK, o)
}

func (a *Admin) escalateIncident(w http.ResponseWriter, r *http.Request) {
	if !a.incidentsReady(w) {
		return
	}
	id, ok := a.incidentID(w, r)
	if !ok {
		return
	}
	var req EscalateRequest
	if err := decode(r, &req); err != nil {
		writeError(w, a.Log, err)
		return
	}
	in, err := a.Incidents.Escalate(r.Context(), actorOf(r), id, incident.Severity(req.Severity), req.Reason)
	if err != nil {
		writeError(w, a.Log, err)
		return
	}
	writeJSON(w, http.StatusOK, in)
}
