package server

import (
	"io"
	"net/http"
	"time"

	"github.com/sceau/sceau/internal/access"
	"github.com/sceau/sceau/internal/publication"
	"github.com/sceau/sceau/internal/sceau"
)

// The publication routes (PUB-4): a trusted role stores a file, then
// requests its publication (or a withdrawal) under dual control; the
// approvals publish it. Listing is open to every trusted role.

// filesRoute takes a document file as the raw body; its limit is the
// publication's, not the JSON body limit.
const filesRoute = "/api/v1/publication/files"

// PublicationRequest asks for a change to what is published.
type PublicationRequest struct {
	Op string `json:"op"` // add, withdraw
	// add: the version and the SHA-256 of its file, stored beforehand.
	Meta   *publication.Meta `json:"meta,omitempty"`
	SHA256 string            `json:"sha256,omitempty"`
	// withdraw: the version's ID (kind/ident/version/lang) and why.
	Document string `json:"document,omitempty"`
	Reason   string `json:"reason,omitempty"`
}

// StoredFile answers a stored file.
type StoredFile struct {
	SHA256 string `json:"sha256"`
	Size   int    `json:"size"`
}

func (a *Admin) publicationRoutes(mux *http.ServeMux) {
	mux.HandleFunc("POST "+filesRoute, a.storePublicationFile)
	mux.HandleFunc("POST /api/v1/publication/requests", a.requestPublication)
	mux.HandleFunc("GET /api/v1/publication/documents", a.listDocuments)
}

func (a *Admin) publicationReady(w http.ResponseWriter) bool {
	if a.Publication == nil {
		writeError(w, a.Log, sceau.Errorf(sceau.Unavailable, "server: publication", "this node does not serve the publication"))
		return false
	}
	return true
}

func (a *Admin) storePublicationFile(w http.ResponseWriter, r *http.Request) {
	if !a.publicationReady(w) {
		return
	}
	// PUB-4: storing is the first step of a change, by whoever may request one.
	if err := access.MayChangePublication(principalOf(r)); err != nil {
		writeError(w, a.Log, err)
		return
	}
	content, err := io.ReadAll(r.Body)
	if err != nil {
		writeError(w, a.Log, sceau.Errorf(sceau.Invalid, "server: publication", "the file exceeds %d bytes (publication.max_document_bytes)", a.Publication.MaxSize()))
		return
	}
	sum, err := a.Publication.Store(r.Context(), actorOf(r), mediaTypeOf(r), content)
	if err != nil {
		writeError(w, a.Log, err)
		return
	}
	writeJSON(w, http.StatusCreated, StoredFile{SHA256: sum, Size: len(content)})
}

// mediaTypeOf is the request's Content-Type without its parameters.
func mediaTypeOf(r *http.Request) string {
	ct := r.Header.Get("Content-Type")
	for i := 0; i < len(ct); i++ {
		if ct[i] == ';' || ct[i] == ' ' {
			return ct[:i]
		}
	}
	return ct
}

func (a *Admin) requestPublication(w http.ResponseWriter, r *http.Request) {
	if !a.publicationReady(w) {
		return
	}
	var req PublicationRequest
	if err := decode(r, &req); err != nil {
		writeError(w, a.Log, err)
		return
	}
	var (
		ch  publication.Change
		err error
	)
	switch req.Op {
	case "add":
		if req.Meta == nil {
			err = sceau.Errorf(sceau.Invalid, "server: publication", "an addition needs meta")
		} else {
			ch, err = publication.AddChange(*req.Meta, req.SHA256)
		}
	case "withdraw":
		ch, err = publication.WithdrawChange(req.Document, req.Reason)
	default:
		err = sceau.Errorf(sceau.Invalid, "server: publication", "op must be add or withdraw")
	}
	if err != nil {
		writeError(w, a.Log, err)
		return
	}
	rq, err := a.Access.RequestPublicationChange(r.Context(), principalOf(r), ch.Document, ch)
	if err != nil {
		writeError(w, a.Log, err)
		return
	}
	writeJSON(w, http.StatusAccepted, rq)
}

// DocumentList is the answer of GET /api/v1/publication/documents.
type DocumentList struct {
	Documents []*publication.Document `json:"documents"`
	At        time.Time               `json:"at"`
}

func (a *Admin) listDocuments(w http.ResponseWriter, r *http.Request) {
	if !a.publicationReady(w) {
		return
	}
	docs, err := a.Publication.Documents(r.Context())
	if err != nil {
		writeError(w, a.Log, err)
		return
	}
	if docs == nil {
		docs = []*publication.Document{}
	}
	writeJSON(w, http.StatusOK, DocumentList{Documents: docs, At: time.Now().UTC()})
}
