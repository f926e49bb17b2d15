package server

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/sceau/sceau/internal/revocation"
	"github.com/sceau/sceau/internal/sceau"
)

// The selective revocation of INC-3: a dry run that lists what a selector
// matches, and the request that revokes it under dual control.
const (
	selectionPreviewRoute = "GET /api/v1/revocations/selections/preview"
	selectionRequestRoute = "POST /api/v1/revocations/selections"
)

func (a *Admin) selectionRoutes(mux *http.ServeMux) {
	mux.HandleFunc(selectionPreviewRoute, a.previewSelection)
	mux.HandleFunc(selectionRequestRoute, a.requestSelection)
}

// previewSelection takes the selector in the query: ca, key_type,
// key_bits_below, curve, signature_algorithm, profile, issued_before
// (RFC 3339). It changes nothing.
func (a *Admin) previewSelection(w http.ResponseWriter, r *http.Request) {
	sel, err := SelectorFromQuery(r.URL.Query())
	if err != nil {
		writeError(w, a.Log, err)
		return
	}
	got, err := a.Revocation.Preview(r.Context(), sel, 1000)
	if err != nil {
		writeError(w, a.Log, err)
		return
	}
	writeJSON(w, http.StatusOK, got)
}

// SelectorFromQuery reads a selector from query parameters; the admin
// client writes them with SelectorQuery.
func SelectorFromQuery(q url.Values) (revocation.Selector, error) {
	const op = "server: selection"
	s := revocation.Selector{CA: q.Get("ca"), KeyType: q.Get("key_type"), Curve: q.Get("curve"),
		SignatureAlgorithm: q.Get("signature_algorithm"), Profile: q.Get("profile")}
	if v := q.Get("key_bits_below"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return s, sceau.Errorf(sceau.Invalid, op, "key_bits_below %q is not a number", v)
		}
		s.KeyBitsBelow = n
	}
	if v := q.Get("issued_before"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return s, sceau.Errorf(sceau.Invalid, op, "issued_before %q is not an RFC 3339 time", v)
		}
		s.IssuedBefore = t
	}
	return s, nil
}

// SelectorQuery writes s as the query SelectorFromQuery reads.
func SelectorQuery(s revocation.Selector) url.Values {
	q := url.Values{}
	for k, v := range map[string]string{"ca": s.CA, "key_type": s.KeyType, "curve": s.Curve, "signature_algorithm": s.SignatureAlgorithm, "profile": s.Profile} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if s.KeyBitsBelow != 0 {
		q.Set("key_bits_below", strconv.Itoa(s.KeyBitsBelow))
	}
	if !s.IssuedBefore.IsZero() {
		q.Set("issued_before", s.IssuedBefore.UTC().Format(time.RFC3339))
	}
	return q
}

func (a *Admin) requestSelection(w http.ResponseWriter, r *http.Request) {
	var pl revocation.SelectionPayload
	if err := decode(r, &pl); err != nil {
		writeError(w, a.Log, err)
		return
	}
	body, err := json.Marshal(pl)
	if err != nil {
		writeError(w, a.Log, sceau.E(sceau.Invalid, "server: selection", "bad request", err))
		return
	}
	rq, err := a.Access.RequestSelectedRevocation(r.Context(), principalOf(r), body)
	if err != nil {
		writeError(w, a.Log, err)
		return
	}
	writeJSON(w, http.StatusAccepted, rq)
}
