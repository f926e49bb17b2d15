package adminapi

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/sceau/sceau/internal/audit"
	"github.com/sceau/sceau/internal/server"
)

// AuditEvents reads one page of journal events that match f, at most limit.
func (c *Client) AuditEvents(ctx context.Context, f audit.Filter, limit int) (*server.EventPage, error) {
	v := url.Values{}
	v.Set("after", strconv.FormatInt(f.After, 10))
	v.Set("limit", strconv.Itoa(limit))
	for k, s := range map[string]string{"action": f.Action, "actor": f.Actor, "role": f.Role, "object": f.Object} {
		if s != "" {
			v.Set(k, s)
		}
	}
	if !f.Since.IsZero() {
		v.Set("since", f.Since.UTC().Format(time.RFC3339Nano))
	}
	if !f.Until.IsZero() {
		v.Set("until", f.Until.UTC().Format(time.RFC3339Nano))
	}
	var p server.EventPage
	return &p, c.call(ctx, http.MethodGet, "/api/v1/audit/events?"+v.Encode(), nil, &p)
}

// AuditEvent reads one journal event.
func (c *Client) AuditEvent(ctx context.Context, seq int64) (*server.EventInfo, error) {
	var ev server.EventInfo
	return &ev, c.call(ctx, http.MethodGet, "/api/v1/audit/events/"+strconv.FormatInt(seq, 10), nil, &ev)
}

// AuditAlerts lists the alerts of the anomaly analysis since a time.
func (c *Client) AuditAlerts(ctx context.Context, since time.Time, limit int) ([]audit.Alert, error) {
	q := url.Values{"since": {since.UTC().Format(time.RFC3339Nano)}, "limit": {strconv.Itoa(limit)}}
	var alerts []audit.Alert
	return alerts, c.call(ctx, http.MethodGet, "/api/v1/audit/alerts?"+q.Encode(), nil, &alerts)
}

// AuditStatus says where the journal, its checkpoints and its export stand.
func (c *Client) AuditStatus(ctx context.Context) (*server.AuditStatus, error) {
	var st server.AuditStatus
	return &st, c.call(ctx, http.MethodGet, "/api/v1/audit/status", nil, &st)
}

// AuditVerify asks the service to verify its own journal, trusting the
// audit signing keys with these IDs.
func (c *Client) AuditVerify(ctx context.Context, keyIDs []string) (*audit.VerifyResult, error) {
	q := url.Values{"key_id": keyIDs}
	var res audit.VerifyResult
	return &res, c.call(ctx, http.MethodGet, "/api/v1/audit/verify?"+q.Encode(), nil, &res)
}

// AuditExport reads export lines (the format of an export directory) after
// the event and checkpoint a copy holds, at most limit events; an empty
// answer means the copy is up to date (AUD-5).
func (c *Client) AuditExport(ctx context.Context, afterSeq, afterCheckpoint int64, limit int) ([]byte, error) {
	q := url.Values{"after": {strconv.FormatInt(afterSeq, 10)}, "checkpoint": {strconv.FormatInt(afterCheckpoint, 10)},
		"limit": {strconv.Itoa(limit)}}
	return c.raw(ctx, "/api/v1/audit/export?"+q.Encode(), 256<<20)
}

// AuditRecord enters an event that happened outside the software, under
// the name of the person logged in (AUD-1).
func (c *Client) AuditRecord(ctx context.Context, req server.ManualRecord) (*server.RecordedEvent, error) {
	var rec server.RecordedEvent
	return &rec, c.call(ctx, http.MethodPost, "/api/v1/audit/records", req, &rec)
}
