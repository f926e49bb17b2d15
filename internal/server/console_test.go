package server_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sceau/sceau/internal/access"
	"github.com/sceau/sceau/internal/registration"
	"github.com/sceau/sceau/internal/sceautest"
	"github.com/sceau/sceau/internal/server"
	"github.com/sceau/sceau/internal/store"
)

// consoleClient is a browser without script on the console: the terminal
// certificate of who, and the cookies the console set.
type consoleClient struct {
	f       *accessFixture
	who     string
	cookies map[string]string
}

func (f *accessFixture) console(who string) *consoleClient {
	return &consoleClient{f: f, who: who, cookies: map[string]string{}}
}

func (c *consoleClient) do(t *testing.T, method, path string, form url.Values) *httptest.ResponseRecorder {
	t.Helper()
	var r *http.Request
	if form != nil {
		r = httptest.NewRequest(method, path, strings.NewReader(form.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else {
		r = httptest.NewRequest(method, path, nil)
	}
	r.TLS = verified(c.f.certs[c.who])
	for k, v := range c.cookies {
		r.AddCookie(&http.Cookie{Name: k, Value: v})
	}
	w := httptest.NewRecorder()
	c.f.admin.ServeHTTP(w, r)
	for _, ck := range w.Result().Cookies() {
		if ck.MaxAge < 0 {
			delete(c.cookies, ck.Name)
		} else {
			c.cookies[ck.Name] = ck.Value
		}
	}
	return w
}

var (
	csrfField  = regexp.MustCompile(`name="csrf" value="([^"]+)"`)
	loginField = regexp.MustCompile(`id="login">\s*<input type="hidden" name="csrf" value="([^"]+)"`)
)

// csrf is the form token of the page at path.
func (c *consoleClient) csrf(t *testing.T, path string) string {
	t.Helper()
	w := c.do(t, "GET", path, nil)
	m := csrfField.FindStringSubmatch(w.Body.String())
	if w.Code != 200 || m == nil {
		t.Fatalf("GET %s as %s: %d, no CSRF token: %s", path, c.who, w.Code, w.Body)
	}
	return m[1]
}

// login logs account in through the console's form, with password and
// TOTP, from c's terminal.
func (c *consoleClient) login(t *testing.T, account string) {
	t.Helper()
	w := c.do(t, "GET", "/console/login", nil)
	m := loginField.FindStringSubmatch(w.Body.String())
	if m == nil {
		t.Fatalf("no login form: %d %s", w.Code, w.Body)
	}
	tok := m[1]
	c.f.clock.Advance(30 * time.Second) // a fresh TOTP step
	code, err := access.TOTPCode(c.f.creds[account].TOTP.Secret, c.f.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	w = c.do(t, "POST", "/console/login", url.Values{"csrf": {tok}, "account": {account}, "password": {testPassword}, "totp": {code}})
	if w.Code != http.StatusSeeOther || c.cookies["sceau_console"] == "" {
		t.Fatalf("console login of %s: %d %s", account, w.Code, w.Body)
	}
}

// TestCA4_OfficersConsoleRolesFourEyesAndCSRF drives the console without a
// browser: an Auditor reads a dossier, sees no decision form, and a POST of
// theirs is refused 403 with an access.denied event; a form without its
// token is refused; the officer who entered a dossier is refused on the
// page by the four-eyes rule, another officer validates it, and the
// journal has the same events as through the API.
func TestCA4_OfficersConsoleRolesFourEyesAndCSRF(t *testing.T) {
	sceautest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		f := newAccessFixture(t, db)
		id := f.dossier(t, registration.Submitted) // entered by walker
		page := fmt.Sprintf("/console/dossiers/%d", id)

		au := f.console("au")
		w := au.do(t, "GET", page, nil)
		if w.Code != 200 || !strings.Contains(w.Body.String(), "Marie Curie") || strings.Contains(w.Body.String(), `id="validate"`) {
			t.Fatalf("the Auditor's dossier page: %d, or it shows the decision form:\n%s", w.Code, w.Body)
		}
		if csp := w.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || strings.Contains(csp, "script-src") {
			t.Errorf("CSP %q", csp)
		}
		if strings.Contains(w.Body.String(), "<script") {
			t.Error("the console's page holds a script")
		}
		before := len(f.events(t, "access.denied"))
		tok := csrfField.FindStringSubmatch(w.Body.String())[1]
		w = au.do(t, "POST", page+"/validate", url.Values{"csrf": {tok}})
		if w.Code != http.StatusForbidden || !strings.Contains(w.Body.String(), "Registration") {
			t.Fatalf("the Auditor's validation: %d %s", w.Code, w.Body)
		}
		if after := f.events(t, "access.denied"); len(after) != before+1 || after[len(after)-1].Actor != "au" {
			t.Fatalf("access.denied events: %d before, %d after", before, len(after))
		}

		// A Registration Officer's form without its token (CSRF) is refused.
		ra := f.console("ra")
		tok = ra.csrf(t, page)
		if w := ra.do(t, "POST", page+"/validate", url.Values{}); w.Code != http.StatusForbidden || !strings.Contains(w.Body.String(), "CSRF") {
			t.Fatalf("validation without the token: %d %s", w.Code, w.Body)
		}
		// Another person's token does not do either.
		if w := ra.do(t, "POST", page+"/validate", url.Values{"csrf": {csrfField.FindStringSubmatch(au.do(t, "GET", page, nil).Body.String())[1]}}); w.Code != http.StatusForbidden {
			t.Fatalf("validation with the Auditor's token: %d", w.Code)
		}

		// walker, who entered it, logs in with password and TOTP and is refused on the page.
		wk := f.console("terminal")
		wk.login(t, "walker")
		wtok := wk.csrf(t, page)
		w = wk.do(t, "POST", page+"/validate", url.Values{"csrf": {wtok}})
		if w.Code != http.StatusForbidden || !strings.Contains(w.Body.String(), "walker entered dossier") || !strings.Contains(w.Body.String(), `id="error"`) {
			t.Fatalf("the four-eyes refusal on the page: %d %s", w.Code, w.Body)
		}

		w = ra.do(t, "POST", page+"/validate", url.Values{"csrf": {tok}})
		if w.Code != http.StatusSeeOther || w.Header().Get("Location") != page+"?done=validated" {
			t.Fatalf("validation by ra: %d %s %s", w.Code, w.Header().Get("Location"), w.Body)
		}
		d, err := f.reg.Service.Dossier(context.Background(), f.principal(t, "ra"), id)
		if err != nil || d.State != registration.Validated || d.DecidedBy != "ra" {
			t.Fatalf("dossier after validation: %+v %v", d, err)
		}
		if evs := f.events(t, "dossier.validated"); len(evs) == 0 || evs[len(evs)-1].Actor != "ra" || evs[len(evs)-1].Role != "registration-officer" {
			t.Fatalf("dossier.validated events %+v", evs)
		}
		w = ra.do(t, "GET", page+"?done=validated", nil)
		for _, want := range []string{"Dossier validated.", "dossier.created", "dossier.validated", "dossier.submitted", "id_card", "cgu/"} {
			if !strings.Contains(w.Body.String(), want) {
				t.Errorf("the dossier page lacks %q", want)
			}
		}
		// Logout ends the session: the next page asks to log in again.
		if w := wk.do(t, "POST", "/console/logout", url.Values{"csrf": {wtok}}); w.Code != http.StatusSeeOther {
			t.Fatalf("logout: %d %s", w.Code, w.Body)
		}
		if w := wk.do(t, "GET", page, nil); w.Code != http.StatusSeeOther || !strings.HasPrefix(w.Header().Get("Location"), "/console/login") {
			t.Fatalf("after logout: %d %s", w.Code, w.Header().Get("Location"))
		}
	})
}

// TestCA4_OfficersConsoleSearchLanguagesAndRequests: the search by state,
// profile and name; French by Accept-Language and by the switch; a
// revocation request refused then one revoked from the list, overdue ones
// marked.
func TestCA4_OfficersConsoleSearchLanguagesAndRequests(t *testing.T) {
	sceautest.ForEachEngine(t, func(t *testing.T, db *store.DB) { consoleSearchLanguagesAndRequests(t, newAccessFixture(t, db)) })
}

func consoleSearchLanguagesAndRequests(t *testing.T, f *accessFixture) {
	draft := f.dossier(t, registration.Draft)
	ra := f.console("ra")
	for q, want := range map[string]bool{"?q=curie": true, "?q=nobody": false, "?state=submitted": false, "?state=draft&profile=person": true,
		"?profile=server": false} {
		w := ra.do(t, "GET", "/console/dossiers"+q, nil)
		if got := strings.Contains(w.Body.String(), fmt.Sprintf(`href="/console/dossiers/%d"`, draft)); w.Code != 200 || got != want {
			t.Errorf("search %s: %d, lists the draft %v, want %v", q, w.Code, got, want)
		}
	}
	r := httptest.NewRequest("GET", "/console/dossiers", nil)
	r.TLS, r.Header["Accept-Language"] = verified(f.certs["ra"]), []string{"fr-FR,fr;q=0.9,en;q=0.5"}
	w := httptest.NewRecorder()
	f.admin.ServeHTTP(w, r)
	if !strings.Contains(w.Body.String(), `<html lang="fr">`) || !strings.Contains(w.Body.String(), "Rechercher") {
		t.Fatalf("Accept-Language fr: %s", w.Body)
	}
	if w := ra.do(t, "GET", "/console/dossiers?lang=fr", nil); w.Code != http.StatusSeeOther || ra.cookies["sceau_console_lang"] != "fr" {
		t.Fatalf("the language switch: %d %v", w.Code, ra.cookies)
	}
	if w := ra.do(t, "GET", "/console/revocation-requests", nil); !strings.Contains(w.Body.String(), `<html lang="fr">`) {
		t.Fatal("the switch is not kept")
	}
	delete(ra.cookies, "sceau_console_lang")

	refused, revoked := f.revocationRequest(t), f.revocationRequest(t)
	f.clock.Advance(25 * time.Hour) // past the 24-hour deadline
	list := "/console/revocation-requests?state=received"
	w = ra.do(t, "GET", list, nil)
	if !strings.Contains(w.Body.String(), fmt.Sprintf(`id="rq-%d" class="late"`, refused)) || !strings.Contains(w.Body.String(), "LATE") {
		t.Fatalf("overdue requests are not marked: %s", w.Body)
	}
	tok := csrfField.FindStringSubmatch(w.Body.String())[1]
	path := func(id int64) string { return fmt.Sprintf("/console/revocation-requests/%d/process", id) }
	if w := ra.do(t, "POST", path(refused), url.Values{"csrf": {tok}, "decision": {"refuse"}}); w.Code != http.StatusBadRequest ||
		!strings.Contains(w.Body.String(), `id="error"`) {
		t.Fatalf("a refusal without a note: %d %s", w.Code, w.Body)
	}
	if w := ra.do(t, "POST", path(refused), url.Values{"csrf": {tok}, "decision": {"refuse"}, "note": {"not the holder's employer"}}); w.Code != http.StatusSeeOther {
		t.Fatalf("refuse: %d %s", w.Code, w.Body)
	}
	if w := ra.do(t, "POST", path(revoked), url.Values{"csrf": {tok}, "decision": {"revoke"}, "reason": {"keyCompromise"}}); w.Code != http.StatusSeeOther {
		t.Fatalf("revoke: %d %s", w.Code, w.Body)
	}
	evs := f.events(t, "revocation_request.processed")
	if len(evs) != 2 || evs[1].Actor != "ra" || len(f.events(t, "certificate.revoked")) != 1 {
		t.Fatalf("processed events %+v", evs)
	}
	w = ra.do(t, "GET", "/console/revocation-requests", nil)
	if strings.Contains(w.Body.String(), fmt.Sprintf(`id="process-%d"`, revoked)) || !strings.Contains(w.Body.String(), "not the holder&#39;s employer") {
		t.Fatalf("processed requests: %s", w.Body)
	}
}

// TestSYS1_ConsoleRoutesDeclareTheAPIsActions: every console route names an
// action the access matrix knows, a page the matrix refuses a role is
// refused in the console too, and the public listener answers none.
func TestSYS1_ConsoleRoutesDeclareTheAPIsActions(t *testing.T) {
	f := newAccessFixture(t, sceautest.OpenSQLite(t))
	for route, action := range server.ConsoleRoutes() {
		if _, ok := access.RuleOf(action); !ok {
			t.Errorf("%s: action %s has no rule", route, action)
		}
		_, p, _ := strings.Cut(route, " ")
		p = strings.NewReplacer("{id}", "1", "{$}", "").Replace(p)
		w := httptest.NewRecorder()
		f.public.ServeHTTP(w, httptest.NewRequest("GET", p, nil))
		if w.Code != http.StatusNotFound && w.Code != http.StatusMethodNotAllowed {
			t.Errorf("GET %s on the public handler: %d", p, w.Code)
		}
	}
	for _, who := range []string{"sa", "sop", "aa", "ksh", "none"} {
		if w := f.console(who).do(t, "GET", "/console/dossiers", nil); w.Code != http.StatusForbidden {
			t.Errorf("%s on the dossiers: %d", who, w.Code)
		}
	}
	// Without a verified client certificate nothing is served.
	w := httptest.NewRecorder()
	f.admin.ServeHTTP(w, httptest.NewRequest("GET", "/console/login", nil))
	if w.Code != http.StatusForbidden {
		t.Errorf("no client certificate: %d", w.Code)
	}
}

// TestSYS1_EveryRoleOnEveryConsolePage walks every console route with a
// terminal alone, a person without role and a person of each role: the
// roles the API's matrix allows for the route's action get through (a
// state-changing one journaled under the caller and its role), the others
// get a 403 page and an access.denied event; a terminal alone is sent to
// the login page on a GET.
func TestSYS1_EveryRoleOnEveryConsolePage(t *testing.T) {
	f := newAccessFixture(t, sceautest.OpenSQLite(t))
	readers, ra := []string{"ra", "au", "so"}, []string{"ra"}
	anyone := []string{"terminal", "none", "so", "sa", "sop", "au", "aa", "ra", "ksh"}
	persons := anyone[1:]
	type page struct {
		method  string
		path    func() string
		form    url.Values
		allowed []string
		ok      int
	}
	dossier := func(suffix string) func() string {
		return func() string {
			return fmt.Sprintf("/console/dossiers/%d%s", f.dossier(t, registration.Submitted), suffix)
		}
	}
	request := func() string { return fmt.Sprintf("/console/revocation-requests/%d/process", f.revocationRequest(t)) }
	pages := map[string]page{
		"GET /console/{$}":                               {"GET", func() string { return "/console/" }, nil, anyone, 303},
		"GET /console/site.css":                          {"GET", func() string { return "/console/site.css" }, nil, anyone, 200},
		"GET /console/login":                             {"GET", func() string { return "/console/login" }, nil, anyone, 200},
		"POST /console/login":                            {"POST", func() string { return "/console/login" }, url.Values{"account": {"nobody"}}, anyone, 403},
		"POST /console/logout":                           {"POST", func() string { return "/console/logout" }, url.Values{}, persons, 303},
		"GET /console/dossiers":                          {"GET", func() string { return "/console/dossiers" }, nil, readers, 200},
		"GET /console/dossiers/{id}":                     {"GET", dossier(""), nil, readers, 200},
		"POST /console/dossiers/{id}/validate":           {"POST", dossier("/validate"), url.Values{}, ra, 303},
		"POST /console/dossiers/{id}/reject":             {"POST", dossier("/reject"), url.Values{"reason": {"blurred scan"}}, ra, 303},
		"GET /console/revocation-requests":               {"GET", func() string { return "/console/revocation-requests" }, nil, readers, 200},
		"POST /console/revocation-requests/{id}/process": {"POST", request, url.Values{"decision": {"revoke"}}, ra, 303},
	}
	for route := range server.ConsoleRoutes() {
		if _, ok := pages[route]; !ok {
			t.Errorf("console route %s is not in the test's matrix", route)
		}
	}
	for route, pg := range pages {
		for _, who := range []string{"terminal", "none", "so", "sa", "sop", "au", "aa", "ra", "ksh"} {
			t.Run(route+" as "+who, func(t *testing.T) {
				c := f.console(who)
				path := pg.path()
				form := url.Values{}
				for k, v := range pg.form {
					form[k] = v
				}
				if pg.method == "POST" && (who != "terminal" || route == "POST /console/login") {
					// The form's token, as the page gives it (the login page's for a login).
					src := "/console/login"
					if route != "POST /console/login" {
						src = "/console/revocation-requests" // any page of the person
					}
					w := c.do(t, "GET", src, nil)
					field := csrfField
					if src == "/console/login" {
						field = loginField
					}
					if m := field.FindStringSubmatch(w.Body.String()); m != nil {
						form.Set("csrf", m[1])
					}
				}
				if pg.method == "GET" {
					form = nil
				}
				before, head := len(f.events(t, "access.denied")), f.head(t)
				w := c.do(t, pg.method, path, form)
				allowed := slicesContains(pg.allowed, who)
				switch {
				case who == "terminal" && pg.method == "GET" && !allowed:
					if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/console/login" {
						t.Fatalf("%s as a terminal alone: %d %s, want the login page", path, w.Code, w.Header().Get("Location"))
					}
				case allowed:
					want := pg.ok
					if w.Code != want {
						t.Fatalf("%s %s as %s: %d, want %d: %s", pg.method, path, who, w.Code, want, w.Body)
					}
					if route == "POST /console/login" && !strings.Contains(w.Body.String(), "wrong account, password or TOTP code") {
						t.Errorf("the login's refusal is not the login's: %s", w.Body)
					}
					if pg.method == "POST" && want < 400 && !strings.HasSuffix(route, "/logout") && !f.journaledAs(t, head, who) {
						t.Errorf("%s as %s changed state without an event naming them and a role", path, who)
					}
				default:
					if w.Code != http.StatusForbidden {
						t.Fatalf("%s %s as %s: %d, want 403: %s", pg.method, path, who, w.Code, w.Body)
					}
					if after := len(f.events(t, "access.denied")); after != before+1 {
						t.Errorf("%d refusal events before, %d after: want one more", before, after)
					}
				}
			})
		}
	}
}

func slicesContains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
