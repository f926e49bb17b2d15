package server

import (
	"encoding/json"
	"net/http"

	"github.com/sceau/sceau/internal/quorum"
	"github.com/sceau/sceau/internal/sceau"
)

// Key custody endpoints (KEY-2, KEY-5): m key share holders activate a CA
// key one after another, from one terminal or several.

// ActivationStatus says whether a CA has an m-of-n policy and is activated.
type ActivationStatus struct {
	CA        string `json:"ca"`
	Policy    bool   `json:"policy"`
	Activated bool   `json:"activated"`
}

// PresentShare is one holder's share: the share file as issued at the
// ceremony, and the PIN the holder types. The server opens it, so that
// wrong PINs are counted (five lock the share).
//
// A holder whose share is on their smart card sends instead CardShare, the
// share as their terminal read it from the card once the card accepted
// the PIN (the card counts wrong PINs), or CardRefused, why the card
// refused, for the journal. Either way the share crosses the admin
// listener's mutually authenticated TLS, and the server holds it in memory
// only until the activation completes (KEY-2).
type PresentShare struct {
	Holder      string          `json:"holder"`
	ShareFile   json.RawMessage `json:"share_file,omitempty"`
	PIN         string          `json:"pin,omitempty"`
	CardShare   json.RawMessage `json:"card_share,omitempty"`
	CardRefused string          `json:"card_refused,omitempty"`
}

func (a *Admin) custodyRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/v1/cas/{id}/activation", a.activationStatus)
	mux.HandleFunc("POST /api/v1/cas/{id}/activations", a.beginActivation)
	mux.HandleFunc("POST /api/v1/cas/{id}/activations/{aid}/shares", a.presentShare)
	mux.HandleFunc("POST /api/v1/cas/{id}/deactivate", a.deactivate)
}

func (a *Admin) custodian() (*quorum.Custodian, error) {
	if a.Custodian == nil {
		return nil, sceau.Errorf(sceau.Unavailable, "server: custody", "key custody is not configured")
	}
	return a.Custodian, nil
}

func (a *Admin) activationStatus(w http.ResponseWriter, r *http.Request) {
	c, err := a.custodian()
	if err == nil {
		_, err = a.Authority.CA(r.PathValue("id"))
	}
	if err != nil {
		writeError(w, a.Log, err)
		return
	}
	policy, active := c.Active(sceau.CAKeyLabel(r.PathValue("id")))
	if !policy {
		active = a.Authority.Activated(r.PathValue("id"))
	}
	writeJSON(w, http.StatusOK, ActivationStatus{CA: r.PathValue("id"), Policy: policy, Activated: active})
}

func (a *Admin) beginActivation(w http.ResponseWriter, r *http.Request) {
	c, err := a.custodian()
	if err == nil {
		_, err = a.Authority.CA(r.PathValue("id"))
	}
	if err != nil {
		writeError(w, a.Log, err)
		return
	}
	p, err := c.Begin(r.Context(), actorOf(r), sceau.CAKeyLabel(r.PathValue("id")))
	if err != nil {
		writeError(w, a.Log, err)
		return
	}
	writeJSON(w, http.StatusCreated, p)
}

func (a *Admin) presentShare(w http.ResponseWriter, r *http.Request) {
	c, err := a.custodian()
	if err != nil {
		writeError(w, a.Log, err)
		return
	}
	var req PresentShare
	if err := decode(r, &req); err != nil {
		writeError(w, a.Log, err)
		return
	}
	pin := []byte(req.PIN)
	req.PIN = ""
	defer clear(pin)
	defer clear(req.CardShare)
	keyID, aid := sceau.CAKeyLabel(r.PathValue("id")), r.PathValue("aid")
	var p *quorum.Progress
	switch {
	case req.CardRefused != "":
		err = c.CardRefused(r.Context(), keyID, aid, req.Holder, req.CardRefused)
	case len(req.CardShare) > 0:
		p, err = c.PresentCard(r.Context(), keyID, aid, req.Holder, req.CardShare)
	default:
		p, err = c.Present(r.Context(), keyID, aid, req.Holder, req.ShareFile, pin)
	}
	if err != nil {
		writeError(w, a.Log, err)
		return
	}
	writeJSON(w, http.StatusOK, p)
}

func (a *Admin) deactivate(w http.ResponseWriter, r *http.Request) {
	c, err := a.custodian()
	if err == nil {
		_, err = a.Authority.CA(r.PathValue("id"))
	}
	if err != nil {
		writeError(w, a.Log, err)
		return
	}
	if err := c.Deactivate(r.Context(), actorOf(r), sceau.CAKeyLabel(r.PathValue("id"))); err != nil {
		writeError(w, a.Log, err)
		return
	}
	writeJSON(w, http.StatusOK, ActivationStatus{CA: r.PathValue("id"), Policy: true, Activated: false})
}
