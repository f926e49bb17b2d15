package server_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/sceau/sceau/internal/server"
)

// ARC-5, SYS-2: the time-stamping unit is the one POST route beside OCSP,
// at its path only; without a unit POST there is 405 as anywhere else.
func TestARC5_PublicListenerRoutesTimeStampRequests(t *testing.T) {
	unit := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTeapot) })
	for _, tc := range []struct {
		pub       *server.Public
		path      string
		wantCode  int
		wantAllow string
	}{
		{&server.Public{Site: http.NotFoundHandler(), TSA: unit}, "/tsa", http.StatusTeapot, ""},
		{&server.Public{Site: http.NotFoundHandler(), TSA: unit}, "/tsa/x", http.StatusMethodNotAllowed, "GET, HEAD"},
		{&server.Public{Site: http.NotFoundHandler(), TSA: unit}, "/ca/root.der", http.StatusMethodNotAllowed, "GET, HEAD"},
		{&server.Public{Site: http.NotFoundHandler(), TSA: unit, TSAPath: "/time"}, "/time", http.StatusTeapot, ""},
		{&server.Public{Site: http.NotFoundHandler(), TSA: unit, TSAPath: "/time"}, "/tsa", http.StatusMethodNotAllowed, "GET, HEAD"},
		{&server.Public{Site: http.NotFoundHandler()}, "/tsa", http.StatusMethodNotAllowed, "GET, HEAD"},
	} {
		rec := httptest.NewRecorder()
		tc.pub.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodPost, tc.path, strings.NewReader("x")))
		if rec.Code != tc.wantCode || rec.Header().Get("Allow") != tc.wantAllow {
			t.Errorf("POST %s (TSA at %q, set %v): %d, Allow %q; want %d", tc.path, tc.pub.TSAPath, tc.pub.TSA != nil, rec.Code, rec.Header().Get("Allow"), tc.wantCode)
		}
	}
}
