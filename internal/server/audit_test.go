package server_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sceau/sceau/internal/audit"
	"github.com/sceau/sceau/internal/sceautest"
	"github.com/sceau/sceau/internal/server"
	"github.com/sceau/sceau/internal/store"
)

// newAuditFixture is the access fixture with the journal served (AUD-3).
func newAuditFixture(t *testing.T, db *store.DB) *accessFixture {
	t.Helper()
	f := newAccessFixture(t, db)
	adm := &server.Admin{Authority: f.h.Authority, Revocation: f.h.Revocation, Metrics: server.NewMetrics(),
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)), MaxBodyBytes: 64 << 10, Access: f.acc,
		Audit: &server.AuditAPI{DB: db, Journal: f.h.Journal, Clock: f.clock}}
	f.fixture.admin = adm.Handler()
	return f
}

// TestAUD3_OnlyAuditorAndSecurityOfficerReadTheJournalThroughTheAPI: a
// Registration Officer, a System Administrator and a person without role
// are refused every read, verify and export with 403, a reason, and an
// access.denied event; the Auditor and the Security Officer read, page,
// filter, verify and export.
func TestAUD3_OnlyAuditorAndSecurityOfficerReadTheJournalThroughTheAPI(t *testing.T) {
	sceautest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		f := newAuditFixture(t, db)
		f.issueDirect(t)
		reads := []string{"/api/v1/audit/events", "/api/v1/audit/events/1", "/api/v1/audit/alerts", "/api/v1/audit/status",
			"/api/v1/audit/verify", "/api/v1/audit/export"}
		for _, who := range []string{"ra", "sa", "sop", "aa", "none", "terminal"} {
			for _, path := range reads {
				before := len(f.events(t, audit.ActionAccessDenied))
				w := f.as(t, who, "", "GET", path, "")
				if w.Code != http.StatusForbidden {
					t.Fatalf("GET %s as %s: %d, want 403: %s", path, who, w.Code, w.Body)
				}
				eb := errorOf(t, w)
				want := "System Auditor"
				if who == "terminal" {
					want = "needs a person"
				}
				if eb.Kind != "denied" || !strings.Contains(eb.Error, want) {
					t.Errorf("GET %s as %s: refusal %+v does not say who may", path, who, eb)
				}
				denied := f.events(t, audit.ActionAccessDenied)
				if len(denied) != before+1 {
					t.Fatalf("GET %s as %s: %d access.denied events, want %d", path, who, len(denied), before+1)
				}
				if last := denied[len(denied)-1]; who != "terminal" && last.Actor != who {
					t.Errorf("the refusal names %q, want %q", last.Actor, who)
				}
			}
		}
		for _, who := range []string{"au", "so"} {
			for _, path := range reads {
				if w := f.as(t, who, "", "GET", path, ""); w.Code != http.StatusOK {
					t.Fatalf("GET %s as %s: %d: %s", path, who, w.Code, w.Body)
				}
			}
		}

		// Paging and filters.
		var page server.EventPage
		w := f.as(t, "au", "", "GET", "/api/v1/audit/events?limit=2", "")
		if err := json.Unmarshal(w.Body.Bytes(), &page); err != nil || len(page.Events) != 2 || !page.More || page.Next != page.Events[1].Seq {
			t.Fatalf("first page: %v %+v", err, page)
		}
		w = f.as(t, "au", "", "GET", "/api/v1/audit/events?action=access.denied&actor=ra&limit=1000", "")
		if err := json.Unmarshal(w.Body.Bytes(), &page); err != nil || len(page.Events) != len(reads) {
			t.Fatalf("filtered: %v %d events, want %d: %s", err, len(page.Events), len(reads), w.Body)
		}
		for _, e := range page.Events {
			if e.Action != "access.denied" || e.Actor != "ra" || e.Role == "" || len(e.Hash) != 64 {
				t.Errorf("filtered event %+v", e)
			}
		}
		if w := f.as(t, "au", "", "GET", "/api/v1/audit/events?since=yesterday", ""); w.Code != http.StatusBadRequest {
			t.Errorf("bad since: %d", w.Code)
		}
		if w := f.as(t, "au", "", "GET", "/api/v1/audit/events/999999", ""); w.Code != http.StatusNotFound {
			t.Errorf("missing event: %d", w.Code)
		}

		// The whole journal downloaded page by page verifies offline.
		dir := filepath.Join(t.TempDir(), "download")
		var after, cp int64
		for range 1000 {
			w := f.as(t, "so", "", "GET", "/api/v1/audit/export?limit=7&after="+itoa(after)+"&checkpoint="+itoa(cp), "")
			if w.Code != http.StatusOK || w.Header().Get("Content-Type") != "application/x-ndjson" {
				t.Fatalf("export: %d %s", w.Code, w.Body)
			}
			if w.Body.Len() == 0 {
				break
			}
			if _, err := audit.AppendExport(dir, w.Body.Bytes(), time.Now()); err != nil {
				t.Fatal(err)
			}
			after, cp = atoi(t, w.Header().Get(server.HeaderExportSeq)), atoi(t, w.Header().Get(server.HeaderExportCheckpoint))
		}
		// A page given twice does not continue the export: refused.
		w = f.as(t, "so", "", "GET", "/api/v1/audit/export?limit=7", "")
		if _, err := audit.AppendExport(dir, w.Body.Bytes(), time.Now()); err == nil {
			t.Errorf("a page that does not follow the cursor was appended")
		}
		res, anchor, err := audit.VerifyExport(context.Background(), dir, audit.VerifyOptions{})
		if err != nil || !res.OK() || anchor.Seq != after || res.Events != after {
			t.Fatalf("VerifyExport of the download = %+v, %+v, %v (after %d)", res, anchor, err, after)
		}
		var vr audit.VerifyResult
		w = f.as(t, "au", "", "GET", "/api/v1/audit/verify", "")
		if err := json.Unmarshal(w.Body.Bytes(), &vr); err != nil || !vr.OK() || vr.Events < after {
			t.Errorf("verify through the API: %v %+v", err, vr)
		}
	})
}

// TestAUD3_RecordNamesTheLoggedInPerson (ROLE-5): an event entered through
// the API names the person and the role the decision allowed, not a name
// the client gives; an Auditor, who controls and does not operate, may not
// enter one.
func TestAUD3_RecordNamesTheLoggedInPerson(t *testing.T) {
	sceautest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		f := newAuditFixture(t, db)
		body := `{"kind":"physical-access","fields":{"who":"Jean Dupont (HSM vendor)","where":"vault-1","purpose":"HSM battery","escorted-by":"sa"}}`
		w := f.as(t, "sa", "", "POST", "/api/v1/audit/records", body)
		if w.Code != http.StatusCreated {
			t.Fatalf("record as sa: %d %s", w.Code, w.Body)
		}
		var rec server.RecordedEvent
		if err := json.Unmarshal(w.Body.Bytes(), &rec); err != nil {
			t.Fatal(err)
		}
		if rec.Actor != "sa" || rec.Role != "system-administrator" || rec.Action != audit.ActionPhysicalAccess || rec.Object != "site:vault-1" {
			t.Errorf("recorded %+v", rec)
		}
		got, err := audit.ReadEvent(context.Background(), db, rec.Seq)
		if err != nil || got.Actor != "sa" || got.Role != "system-administrator" {
			t.Errorf("journal event %d: %+v %v", rec.Seq, got, err)
		}
		if w := f.as(t, "au", "", "POST", "/api/v1/audit/records", body); w.Code != http.StatusForbidden {
			t.Errorf("record as auditor: %d %s", w.Code, w.Body)
		}
		if w := f.as(t, "sa", "", "POST", "/api/v1/audit/records", `{"kind":"burglary","fields":{}}`); w.Code != http.StatusBadRequest {
			t.Errorf("unknown kind: %d %s", w.Code, w.Body)
		}
		if w := f.as(t, "sa", "", "POST", "/api/v1/audit/records", `{"kind":"maintenance","fields":{"who":"x"}}`); w.Code != http.StatusBadRequest ||
			!strings.Contains(w.Body.String(), "--system is required") {
			t.Errorf("missing field: %d %s", w.Code, w.Body)
		}
	})
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func atoi(t *testing.T, s string) int64 {
	t.Helper()
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t.Fatalf("%q is not a number", s)
	}
	return n
}
