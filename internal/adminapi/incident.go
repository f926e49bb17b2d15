package adminapi

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/sceau/sceau/internal/incident"
	"github.com/sceau/sceau/internal/server"
)

// The incident register (INC-1, INC-4).

// IncidentOpen opens an incident; it comes back with the first delivery
// attempts of its notifications.
func (c *Client) IncidentOpen(ctx context.Context, req server.OpenIncidentRequest) (*incident.Incident, error) {
	var in incident.Incident
	return &in, c.call(ctx, http.MethodPost, "/api/v1/incidents", req, &in)
}

// IncidentList lists the open incidents, or all of them.
func (c *Client) IncidentList(ctx context.Context, all bool, limit int) (*server.IncidentList, error) {
	q := url.Values{"all": {strconv.FormatBool(all)}}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	var l server.IncidentList
	return &l, c.call(ctx, http.MethodGet, "/api/v1/incidents?"+q.Encode(), nil, &l)
}

// IncidentStatus is the register at a glance.
func (c *Client) IncidentStatus(ctx context.Context) (*incident.Status, error) {
	var st incident.Status
	return &st, c.call(ctx, http.MethodGet, "/api/v1/incidents/status", nil, &st)
}

// IncidentShow reads an incident with its timeline, notifications and obligations.
func (c *Client) IncidentShow(ctx context.Context, id int64) (*incident.Incident, error) {
	var in incident.Incident
	return &in, c.call(ctx, http.MethodGet, fmt.Sprintf("/api/v1/incidents/%d", id), nil, &in)
}

// IncidentNote adds a note or an action to an incident's timeline.
func (c *Client) IncidentNote(ctx context.Context, id int64, kind incident.NoteKind, text string) (*incident.Note, error) {
	var n incident.Note
	return &n, c.call(ctx, http.MethodPost, fmt.Sprintf("/api/v1/incidents/%d/notes", id),
		server.IncidentNoteRequest{Kind: string(kind), Text: text}, &n)
}

// IncidentClose closes an incident with its closure.
func (c *Client) IncidentClose(ctx context.Context, id int64, closure string) (*incident.Incident, error) {
	var in incident.Incident
	return &in, c.call(ctx, http.MethodPost, fmt.Sprintf("/api/v1/incidents/%d/close", id), server.CloseIncidentRequest{Closure: closure}, &in)
}

// IncidentObligationDone records a notification to an authority done.
func (c *Client) IncidentObligationDone(ctx context.Context, id int64, kind incident.ObligationKind, reference string) (*incident.Obligation, error) {
	var o incident.Obligation
	return &o, c.call(ctx, http.MethodPost, fmt.Sprintf("/api/v1/incidents/%d/obligations/%s/done", id, url.PathEscape(string(kind))),
		server.ObligationDoneRequest{Reference: reference}, &o)
}

// IncidentEscalate raises an incident's severity, with the reason.
func (c *Client) IncidentEscalate(ctx context.Context, id int64, severity incident.Severity, reason string) (*incident.Incident, error) {
	var in incident.Incident
	return &in, c.call(ctx, http.MethodPost, fmt.Sprintf("/api/v1/incidents/%d/severity", id),
		server.EscalateRequest{Severity: string(severity), Reason: reason}, &in)
}
