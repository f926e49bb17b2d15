package server

import (
	"encoding/base64"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/sceau/sceau/internal/access"
	"github.com/sceau/sceau/internal/archive"
	"github.com/sceau/sceau/internal/sceau"
)

// The archive routes (ARC-1..ARC-6). An item is sent as the raw body with
// its description in the query; it comes back in JSON with its proofs.
// Confidential items leave the server sealed: the age identity that opens
// them stays with the person (ARC-3), and the client checks the digest in
// clear.

// archiveItemsRoute takes an item as the raw body; its limit is the
// archive's, not the JSON body limit.
const archiveItemsRoute = "/api/v1/archive/items"

// ArchivedItem answers a retrieval: the item, its proofs and its content
// (sealed for a confidential item).
type ArchivedItem struct {
	*archive.Retrieved
	Content string `json:"content"` // base64
}

// ArchiveItems answers a listing.
type ArchiveItems struct {
	Items []archive.Item `json:"items"`
}

// PurgeRequest asks for the purge of expired items.
type PurgeRequest struct {
	DryRun bool `json:"dry_run"`
	Limit  int  `json:"limit"`
}

// PurgeResult lists the leaves purged (or that would be).
type PurgeResult struct {
	Leaves []int64 `json:"leaves"`
	DryRun bool    `json:"dry_run"`
}

func (a *Admin) archiveRoutes(mux *http.ServeMux) {
	mux.HandleFunc("POST "+archiveItemsRoute, a.addArchiveItem)
	mux.HandleFunc("GET "+archiveItemsRoute, a.listArchiveItems)
	mux.HandleFunc("GET "+archiveItemsRoute+"/{leaf}", a.getArchiveItem)
	mux.HandleFunc("GET /api/v1/archive/status", a.archiveStatus)
	mux.HandleFunc("GET /api/v1/archive/verify", a.verifyArchive)
	mux.HandleFunc("POST /api/v1/archive/heads", a.issueArchiveHead)
	mux.HandleFunc("POST /api/v1/archive/purge", a.purgeArchive)
}

func (a *Admin) archiveReady(w http.ResponseWriter) bool {
	if a.Archive == nil {
		writeError(w, a.Log, sceau.Errorf(sceau.Unavailable, "server: archive", "this node does not serve the archive"))
		return false
	}
	return true
}

func (a *Admin) addArchiveItem(w http.ResponseWriter, r *http.Request) {
	if !a.archiveReady(w) {
		return
	}
	q := r.URL.Query()
	content, err := io.ReadAll(r.Body)
	if err != nil {
		writeError(w, a.Log, sceau.Errorf(sceau.Invalid, "server: archive", "the item exceeds the archive's limit (archive.max_item_bytes)"))
		return
	}
	nw := archive.New{Kind: q.Get("kind"), Source: q.Get("source"), MediaType: mediaTypeOf(r), Class: archive.Class(q.Get("class")), Content: content}
	if s := q.Get("event_at"); s != "" {
		if nw.EventAt, err = time.Parse(time.RFC3339, s); err != nil {
			writeError(w, a.Log, sceau.Errorf(sceau.Invalid, "server: archive", "event_at %q is not an RFC 3339 time", s))
			return
		}
	}
	items, err := a.Archive.Add(r.Context(), actorOf(r), nw)
	if err != nil {
		writeError(w, a.Log, err)
		return
	}
	writeJSON(w, http.StatusCreated, items[0])
}

func (a *Admin) listArchiveItems(w http.ResponseWriter, r *http.Request) {
	if !a.archiveReady(w) {
		return
	}
	q := r.URL.Query()
	from, _ := strconv.ParseInt(q.Get("from"), 10, 64)
	limit, _ := strconv.Atoi(q.Get("limit"))
	items, err := a.Archive.List(r.Context(), archive.Filter{Kind: q.Get("kind"), From: from, Limit: limit})
	if err != nil {
		writeError(w, a.Log, err)
		return
	}
	if items == nil {
		items = []archive.Item{}
	}
	writeJSON(w, http.StatusOK, ArchiveItems{Items: items})
}

func (a *Admin) getArchiveItem(w http.ResponseWriter, r *http.Request) {
	if !a.archiveReady(w) {
		return
	}
	leaf, err := strconv.ParseInt(r.PathValue("leaf"), 10, 64)
	if err != nil || leaf < 0 {
		writeError(w, a.Log, sceau.Errorf(sceau.Invalid, "server: archive", "%q is not an item number", r.PathValue("leaf")))
		return
	}
	it, err := a.Archive.Item(r.Context(), leaf)
	if err != nil {
		writeError(w, a.Log, err)
		return
	}
	// ARC-3: a confidential item, even sealed, only to those who may open it.
	if it.Class == archive.Confidential {
		if err := access.Decide(principalOf(r), access.ArchiveReadConfidential, access.Resource{Kind: "archive-item", ID: r.PathValue("leaf")}).Err(); err != nil {
			writeError(w, a.Log, err)
			return
		}
	}
	got, err := a.Archive.Get(r.Context(), actorOf(r), leaf, archive.GetOptions{From: r.URL.Query().Get("from")})
	if err != nil {
		writeError(w, a.Log, err)
		return
	}
	writeJSON(w, http.StatusOK, ArchivedItem{Retrieved: got, Content: base64.StdEncoding.EncodeToString(got.Content)})
}

func (a *Admin) archiveStatus(w http.ResponseWriter, r *http.Request) {
	if !a.archiveReady(w) {
		return
	}
	st, err := a.Archive.Status(r.Context())
	if err != nil {
		writeError(w, a.Log, err)
		return
	}
	writeJSON(w, http.StatusOK, st)
}

func (a *Admin) verifyArchive(w http.ResponseWriter, r *http.Request) {
	if !a.archiveReady(w) {
		return
	}
	rep, err := a.Archive.VerifyAll(r.Context(), archive.VerifyOptions{From: r.URL.Query().Get("from")})
	if err != nil {
		writeError(w, a.Log, err)
		return
	}
	writeJSON(w, http.StatusOK, rep)
}

func (a *Admin) issueArchiveHead(w http.ResponseWriter, r *http.Request) {
	if !a.archiveReady(w) {
		return
	}
	h, err := a.Archive.IssueHead(r.Context(), actorOf(r))
	if err != nil {
		writeError(w, a.Log, err)
		return
	}
	writeJSON(w, http.StatusCreated, h)
}

func (a *Admin) purgeArchive(w http.ResponseWriter, r *http.Request) {
	if !a.archiveReady(w) {
		return
	}
	var req PurgeRequest
	if err := decode(r, &req); err != nil {
		writeError(w, a.Log, err)
		return
	}
	leaves, err := a.Archive.Purge(r.Context(), actorOf(r), req.Limit, req.DryRun)
	if err != nil {
		writeError(w, a.Log, err)
		return
	}
	if leaves == nil {
		leaves = []int64{}
	}
	writeJSON(w, http.StatusOK, PurgeResult{Leaves: leaves, DryRun: req.DryRun})
}
