package server

import (
	"context"
	"net/http"

	"github.com/sceau/sceau/internal/compliance"
	"github.com/sceau/sceau/internal/sceau"
)

// SelfAudit runs the compliance self-audit and archives its report
// (COMP-1, COMP-2); internal/node gives it.
type SelfAudit func(ctx context.Context, actor sceau.Actor) (*compliance.Report, error)

// selfAuditRoute runs the self-audit: a POST, since every run archives
// its report and journals it.
const selfAuditRoute = "POST /api/v1/compliance/reports"

func (a *Admin) complianceRoutes(mux *http.ServeMux) {
	mux.HandleFunc(selfAuditRoute, a.runSelfAudit)
}

func (a *Admin) runSelfAudit(w http.ResponseWriter, r *http.Request) {
	if a.SelfAudit == nil {
		writeError(w, a.Log, sceau.Errorf(sceau.Unavailable, "server: compliance", "this node does not run the self-audit"))
		return
	}
	rep, err := a.SelfAudit(r.Context(), actorOf(r))
	if err != nil {
		writeError(w, a.Log, err)
		return
	}
	writeJSON(w, http.StatusCreated, rep)
}
