package server

import (
	"net/http"

	"github.com/sceau/sceau/internal/quorum"
	"github.com/sceau/sceau/internal/sceau"
)

// Backup, import and destruction of CA keys (KEY-4, KEY-6), each under
// dual control (ROLE-3). A POST on the collection makes the approval
// request; once two other people approved it, the requester carries out a
// backup or an import with a POST naming the approval, bringing the
// holders' PINs (a backup) or shares and PINs (an import), which are never
// part of a request. Destruction is carried out by its last approval.

// keyCustodyRoutes maps the routes to their actions (see routeActions).
func (a *Admin) keyCustodyRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/v1/cas/{id}/backups", a.listBackups)
	mux.HandleFunc("POST /api/v1/cas/{id}/backups", a.requestBackup)
	mux.HandleFunc("POST /api/v1/cas/{id}/backups/{aid}", a.carryOutBackup)
	mux.HandleFunc("POST /api/v1/cas/{id}/imports", a.requestImport)
	mux.HandleFunc("POST /api/v1/cas/{id}/imports/{aid}", a.carryOutImport)
	mux.HandleFunc("POST /api/v1/cas/{id}/key-destruction", a.requestDestroy)
}

// BackupPINs carries the PIN each holder chose for their share of a new
// backup's wrapping key.
type BackupPINs struct {
	PINs map[string]string `json:"pins"`
}

// ImportShares carries the shares of a backup's wrapping key, each with
// the PIN its holder typed.
type ImportShares struct {
	Shares []PresentShare `json:"shares"`
}

func (a *Admin) backups(w http.ResponseWriter) *quorum.Backups {
	if a.Backups == nil {
		writeError(w, a.Log, sceau.Errorf(sceau.Unavailable, "server: key custody", "key backups are not configured"))
		return nil
	}
	return a.Backups
}

// knownCA answers NotFound for a CA the hierarchy does not hold.
func (a *Admin) knownCA(w http.ResponseWriter, r *http.Request) bool {
	if _, err := a.Authority.CA(r.PathValue("id")); err != nil {
		writeError(w, a.Log, err)
		return false
	}
	return true
}

func (a *Admin) listBackups(w http.ResponseWriter, r *http.Request) {
	b := a.backups(w)
	if b == nil || !a.knownCA(w, r) {
		return
	}
	list, err := b.List(r.Context(), r.PathValue("id"))
	if err != nil {
		writeError(w, a.Log, err)
		return
	}
	writeJSON(w, http.StatusOK, list)
}

func (a *Admin) requestBackup(w http.ResponseWriter, r *http.Request) {
	b := a.backups(w)
	if b == nil || !a.knownCA(w, r) {
		return
	}
	var plan quorum.BackupPlan
	if err := decode(r, &plan); err != nil {
		writeError(w, a.Log, err)
		return
	}
	rq, err := b.RequestBackup(r.Context(), principalOf(r), r.PathValue("id"), plan)
	if err != nil {
		writeError(w, a.Log, err)
		return
	}
	writeJSON(w, http.StatusAccepted, rq)
}

func (a *Admin) carryOutBackup(w http.ResponseWriter, r *http.Request) {
	b := a.backups(w)
	if b == nil || !a.knownCA(w, r) {
		return
	}
	var req BackupPINs
	if err := decode(r, &req); err != nil {
		writeError(w, a.Log, err)
		return
	}
	pins := make(map[string][]byte, len(req.PINs))
	for h, p := range req.PINs {
		pins[h] = []byte(p)
	}
	req.PINs = nil
	defer func() {
		for _, p := range pins {
			clear(p)
		}
	}()
	rec, err := b.Backup(r.Context(), principalOf(r), r.PathValue("id"), r.PathValue("aid"), pins)
	if err != nil {
		writeError(w, a.Log, err)
		return
	}
	writeJSON(w, http.StatusCreated, rec)
}

func (a *Admin) requestImport(w http.ResponseWriter, r *http.Request) {
	b := a.backups(w)
	if b == nil || !a.knownCA(w, r) {
		return
	}
	var plan quorum.ImportPlan
	if err := decode(r, &plan); err != nil {
		writeError(w, a.Log, err)
		return
	}
	rq, err := b.RequestImport(r.Context(), principalOf(r), r.PathValue("id"), plan)
	if err != nil {
		writeError(w, a.Log, err)
		return
	}
	writeJSON(w, http.StatusAccepted, rq)
}

func (a *Admin) carryOutImport(w http.ResponseWriter, r *http.Request) {
	b := a.backups(w)
	if b == nil || !a.knownCA(w, r) {
		return
	}
	var req ImportShares
	if err := decode(r, &req); err != nil {
		writeError(w, a.Log, err)
		return
	}
	shares := make([]quorum.PresentedShare, 0, len(req.Shares))
	for i := range req.Shares {
		s := &req.Shares[i]
		shares = append(shares, quorum.PresentedShare{Holder: s.Holder, File: []byte(s.ShareFile), PIN: []byte(s.PIN)})
		s.PIN = ""
	}
	defer func() {
		for _, s := range shares {
			clear(s.PIN)
		}
	}()
	rec, err := b.Import(r.Context(), principalOf(r), r.PathValue("id"), r.PathValue("aid"), shares)
	if err != nil {
		writeError(w, a.Log, err)
		return
	}
	writeJSON(w, http.StatusOK, rec)
}

func (a *Admin) requestDestroy(w http.ResponseWriter, r *http.Request) {
	b := a.backups(w)
	if b == nil || !a.knownCA(w, r) {
		return
	}
	var none struct{}
	if err := decode(r, &none); err != nil {
		writeError(w, a.Log, err)
		return
	}
	rq, err := b.RequestDestroy(r.Context(), principalOf(r), r.PathValue("id"))
	if err != nil {
		writeError(w, a.Log, err)
		return
	}
	writeJSON(w, http.StatusAccepted, rq)
}
