package server

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/x509"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"

	"github.com/sceau/sceau/internal/access"
	"github.com/sceau/sceau/internal/publication"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/store"
)

// The officers' console (CA-4, issue 16 item 6): server-rendered pages
// under /console/ on the admin listener, for the Registration & Revocation
// Officer to list, search, open, validate or reject dossiers and to
// process revocation requests; the Auditor and the Security Officer read.
//
// It is the admin API's twin, not a second door:
//   - the same mutual TLS (a verified client certificate of the admin CA
//     is required before anything, SYS-2) and the same people: a person
//     logs in with password and TOTP (access.Service.Login, as `sceau
//     login` does) and the session token travels in a cookie instead of
//     the Authorization header, or acts by a personal certificate bound to
//     them (ROLE-4). No password store of its own.
//   - every route names its action in consoleRoutes (a route missing there
//     is refused: default deny), decided by access.Decide with the same
//     resource kinds as the API, a refusal journaled (access.denied) like
//     the API's; the actions call the same internal/registration service
//     methods, which decide again and journal the same events.
//   - no script: plain forms, POST then redirect (303); each form carries
//     a per-session CSRF token (an HMAC of the session, the account and the
//     terminal under a key drawn at start), the cookie is HttpOnly, Secure,
//     SameSite=Strict, and the pages' Content-Security-Policy allows no
//     script and forms only to the console itself.
//   - French and English: Accept-Language, or the switch on every page
//     (a cookie keeps the choice).

const (
	consolePrefix     = "/console/"
	consoleCookie     = "sceau_console"      // the session token
	consoleLangCookie = "sceau_console_lang" // the language chosen
	consoleCSP        = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
	consoleMaxForm    = 64 << 10
)

// consoleRoutes names the action of every console route (SYS-1), with the
// API's actions: a route missing here is refused to everyone.
var consoleRoutes = map[string]access.Action{
	"GET /console/{$}":                               access.SessionWhoami,
	"GET /console/site.css":                          access.SessionWhoami,
	"GET /console/login":                             access.SessionLogin,
	"POST /console/login":                            access.SessionLogin,
	"POST /console/logout":                           access.SessionLogout,
	"GET /console/dossiers":                          access.DossierRead,
	"GET /console/dossiers/{id}":                     access.DossierRead,
	"POST /console/dossiers/{id}/validate":           access.DossierValidate,
	"POST /console/dossiers/{id}/reject":             access.DossierValidate,
	"GET /console/revocation-requests":               access.RevocationRequestRead,
	"POST /console/revocation-requests/{id}/process": access.RevocationRequestCheck,
}

// ConsoleRoutes returns the console's routes and their actions, for tests
// and documentation.
func ConsoleRoutes() map[string]access.Action {
	out := make(map[string]access.Action, len(consoleRoutes))
	for k, v := range consoleRoutes {
		out[k] = v
	}
	return out
}

// console is the console's state: the key of its CSRF tokens.
type console struct {
	a   *Admin
	key []byte
	mux *http.ServeMux
	css []byte
}

// consoleHandler returns the console, behind its own authentication.
func (a *Admin) consoleHandler() http.Handler {
	c := &console{a: a, key: make([]byte, 32), mux: http.NewServeMux()}
	if _, err := rand.Read(c.key); err != nil {
		panic("server: console: no randomness: " + err.Error())
	}
	c.css = append(publication.Stylesheet(), consoleCSS...)
	c.routes()
	return http.HandlerFunc(c.serve)
}

// consolePage is what every page's template gets.
type consolePage struct {
	Lang, Title, Path, Other, OtherName string
	CSRF                                string
	Who                                 string // the account, empty before login
	Roles                               string
	Error                               string
	Notice                              string
	Data                                any
	w                                   map[string]string
}

// T is the page's word for key.
func (p *consolePage) T(key string) string {
	if v, ok := p.w[key]; ok {
		return v
	}
	return key
}

// serve authenticates, decides, checks the CSRF token, then runs the page.
func (c *console) serve(w http.ResponseWriter, r *http.Request) {
	a := c.a
	h := w.Header()
	h.Set("Content-Security-Policy", consoleCSP)
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
	lang := consoleLang(r)
	term, err := access.TerminalFromTLS(r.TLS)
	if err == nil && r.URL.Path != consolePrefix { // the console's home is its one trailing slash
		err = checkPath(r)
	}
	if err == nil && a.Access == nil {
		err = sceau.Errorf(sceau.Unavailable, "server: console", "access control is not configured")
	}
	if err != nil {
		c.fail(w, r, lang, nil, err)
		return
	}
	if l := r.URL.Query().Get("lang"); r.Method == http.MethodGet && (l == "fr" || l == "en") {
		// The language switch: remember it, and show the page without it.
		http.SetCookie(w, &http.Cookie{Name: consoleLangCookie, Value: l, Path: consolePrefix, Secure: true, HttpOnly: true,
			SameSite: http.SameSiteStrictMode, MaxAge: 365 * 24 * 3600})
		q := r.URL.Query()
		q.Del("lang")
		r.URL.RawQuery = q.Encode()
		http.Redirect(w, r, r.URL.RequestURI(), http.StatusSeeOther)
		return
	}
	token := ""
	if ck, err := r.Cookie(consoleCookie); err == nil {
		token = ck.Value
	}
	p, err := a.Access.Authenticate(r.Context(), term, token)
	if err != nil {
		// The session ended (idle, 8 hours, logout elsewhere): log in again.
		clearSession(w)
		if r.Method == http.MethodGet {
			http.Redirect(w, r, consolePrefix+"login?ended=1", http.StatusSeeOther)
			return
		}
		c.fail(w, r, lang, nil, err)
		return
	}
	_, pattern := c.mux.Handler(r)
	if pattern == "" {
		c.fail(w, r, lang, &p, sceau.Errorf(sceau.NotFound, "server: console", "no console page %s", r.URL.Path))
		return
	}
	action, ok := consoleRoutes[pattern]
	if !ok {
		a.Log.Error("console route without an action: refused", "route", pattern)
		c.fail(w, r, lang, &p, sceau.Errorf(sceau.Denied, "access", "route %q declares no action (default deny)", pattern))
		return
	}
	if p.Account == "" && action != access.SessionLogin && action != access.SessionWhoami && r.Method == http.MethodGet {
		http.Redirect(w, r, consolePrefix+"login", http.StatusSeeOther)
		return
	}
	res := resourceOf(pattern, r.URL.Path)
	d := access.Decide(p, action, res)
	if d.Allow && d.DualControl {
		d = access.Decision{Reason: string(action) + " is under dual control: the console makes no approval request"}
	}
	if !d.Allow {
		if err := a.Access.RecordDenied(r.Context(), p, action, res, d.Reason); err != nil {
			c.fail(w, r, lang, &p, err) // AUD-7: no silent refusal either
			return
		}
		c.fail(w, r, lang, &p, d.Err())
		return
	}
	if r.Method == http.MethodPost {
		r.Body = http.MaxBytesReader(w, r.Body, consoleMaxForm)
		if err := r.ParseForm(); err != nil {
			c.fail(w, r, lang, &p, sceau.Errorf(sceau.Invalid, "server: console", "the form could not be read"))
			return
		}
		want := c.csrf(term, p)
		if action == access.SessionLogin {
			want = c.loginToken(term)
		}
		if subtle.ConstantTimeCompare([]byte(r.PostFormValue("csrf")), []byte(want)) != 1 {
			c.fail(w, r, lang, &p, sceau.Errorf(sceau.Denied, "server: console",
				"the form's token is missing or stale (CSRF protection): reload the page and try again"))
			return
		}
	}
	ctx := sceau.WithActor(access.WithPrincipal(r.Context(), p), p.Actor(d.Role))
	c.mux.ServeHTTP(w, r.WithContext(ctx))
}

// csrf is the token of p's forms: bound to the session (or, for a person
// acting by their certificate, to the account) and to the terminal.
func (c *console) csrf(term *x509.Certificate, p access.Principal) string {
	return c.mac("session", p.Session, p.Account, access.Fingerprint(term))
}

// loginToken protects the login form (login CSRF): bound to the terminal.
func (c *console) loginToken(term *x509.Certificate) string {
	return c.mac("login", access.Fingerprint(term))
}

func (c *console) mac(parts ...string) string {
	m := hmac.New(sha256.New, c.key)
	m.Write([]byte(strings.Join(parts, "\x00")))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func clearSession(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: consoleCookie, Value: "", Path: consolePrefix, Secure: true, HttpOnly: true,
		SameSite: http.SameSiteStrictMode, MaxAge: -1})
}

// consoleLang is the language chosen with the switch, else the browser's.
func consoleLang(r *http.Request) string {
	if ck, err := r.Cookie(consoleLangCookie); err == nil && (ck.Value == "fr" || ck.Value == "en") {
		return ck.Value
	}
	best, bestQ := "en", -1.0
	for _, part := range strings.Split(r.Header.Get("Accept-Language"), ",") {
		tag, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		q := 1.0
		if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			q = 0
			if v == "1" || strings.HasPrefix(v, "1.") {
				q = 1
			} else if strings.HasPrefix(v, "0.") && len(v) > 2 && v[2] >= '0' && v[2] <= '9' {
				q = float64(v[2]-'0') / 10
			}
		}
		primary, _, _ := strings.Cut(strings.ToLower(tag), "-")
		if (primary == "fr" || primary == "en") && q > bestQ {
			best, bestQ = primary, q
		}
	}
	return best
}

// page makes the page of request r for principal p.
func (c *console) page(r *http.Request, lang, titleKey string, p *access.Principal, data any) *consolePage {
	pg := &consolePage{Lang: lang, Path: r.URL.Path, Data: data, w: consoleWords[lang]}
	pg.Other, pg.OtherName = "fr", "Français"
	if lang == "fr" {
		pg.Other, pg.OtherName = "en", "English"
	}
	q := r.URL.Query()
	q.Set("lang", pg.Other)
	pg.Path = r.URL.Path + "?" + q.Encode()
	pg.Title = pg.T(titleKey)
	if p != nil && p.Account != "" {
		pg.Who = p.Account
		var rs []string
		for _, role := range p.Roles {
			rs = append(rs, string(role))
		}
		pg.Roles = strings.Join(rs, ", ")
		if term, err := access.TerminalFromTLS(r.TLS); err == nil {
			pg.CSRF = c.csrf(term, *p)
		}
	}
	if m := r.URL.Query().Get("done"); m != "" {
		if v, ok := pg.w["done."+m]; ok {
			pg.Notice = v
		}
	}
	return pg
}

// render writes the page with template name.
func (c *console) render(w http.ResponseWriter, code int, name string, pg *consolePage) {
	var buf bytes.Buffer
	if err := consoleTemplates.ExecuteTemplate(&buf, name, pg); err != nil {
		c.a.Log.Error("console template", "template", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(code)
	_, _ = w.Write(buf.Bytes())
}

// fail shows err on an error page with its status (403 for a refusal).
func (c *console) fail(w http.ResponseWriter, r *http.Request, lang string, p *access.Principal, err error) {
	err = store.Unclassified("server", err)
	code := statusOf(err)
	if code == http.StatusInternalServerError {
		c.a.Log.Error("console: internal error", "err", err)
	}
	pg := c.page(r, lang, "error.title", p, nil)
	pg.Error = sceau.Message(err)
	c.render(w, code, "error", pg)
}

// principal is the request's principal, set by serve.
func consolePrincipal(r *http.Request) *access.Principal {
	p, _ := access.PrincipalFrom(r.Context())
	return &p
}

// back redirects after a POST to path with a notice.
func back(w http.ResponseWriter, r *http.Request, path, done string) {
	http.Redirect(w, r, path+"?done="+url.QueryEscape(done), http.StatusSeeOther)
}
