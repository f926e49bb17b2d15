package server

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/sceau/sceau/internal/access"
	"github.com/sceau/sceau/internal/audit"
	"github.com/sceau/sceau/internal/registration"
	"github.com/sceau/sceau/internal/revocation"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/store"
)

func (c *console) routes() {
	m := c.mux
	m.HandleFunc("GET /console/{$}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, consolePrefix+"dossiers?state=submitted", http.StatusSeeOther)
	})
	m.HandleFunc("GET /console/site.css", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/css; charset=utf-8")
		_, _ = w.Write(c.css)
	})
	m.HandleFunc("GET /console/login", c.loginPage)
	m.HandleFunc("POST /console/login", c.login)
	m.HandleFunc("POST /console/logout", c.logout)
	m.HandleFunc("GET /console/dossiers", c.withRA(c.dossiers))
	m.HandleFunc("GET /console/dossiers/{id}", c.withRA(c.dossier))
	m.HandleFunc("POST /console/dossiers/{id}/validate", c.withRA(c.decideDossier(true)))
	m.HandleFunc("POST /console/dossiers/{id}/reject", c.withRA(c.decideDossier(false)))
	m.HandleFunc("GET /console/revocation-requests", c.withRA(c.requests))
	m.HandleFunc("POST /console/revocation-requests/{id}/process", c.withRA(c.process))
}

func (c *console) withRA(f func(http.ResponseWriter, *http.Request, *registration.Service)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if c.a.Registration == nil {
			c.fail(w, r, consoleLang(r), consolePrincipal(r),
				sceau.Errorf(sceau.Unavailable, "server: console", "the registration authority is not configured"))
			return
		}
		f(w, r, c.a.Registration)
	}
}

// loginData is the login form's.
type loginData struct {
	Token, Account string
	Ended          bool
}

func (c *console) loginPage(w http.ResponseWriter, r *http.Request) {
	term, _ := access.TerminalFromTLS(r.TLS)
	pg := c.page(r, consoleLang(r), "login.title", consolePrincipal(r), loginData{Token: c.loginToken(term), Ended: r.URL.Query().Get("ended") != ""})
	c.render(w, http.StatusOK, "login", pg)
}

// login opens a session as `sceau login` does (ROLE-4): the password and
// the TOTP code of a person, from this terminal; the token goes into the
// session cookie and nowhere else.
func (c *console) login(w http.ResponseWriter, r *http.Request) {
	term, _ := access.TerminalFromTLS(r.TLS)
	account := strings.TrimSpace(r.PostFormValue("account"))
	s, err := c.a.Access.Login(r.Context(), term, account, r.PostFormValue("password"), r.PostFormValue("totp"))
	if err != nil {
		pg := c.page(r, consoleLang(r), "login.title", nil, loginData{Token: c.loginToken(term), Account: account})
		pg.Error = sceau.Message(err)
		c.render(w, statusOf(err), "login", pg)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: consoleCookie, Value: s.Token, Path: consolePrefix, Secure: true, HttpOnly: true,
		SameSite: http.SameSiteStrictMode})
	http.Redirect(w, r, consolePrefix+"dossiers?state=submitted", http.StatusSeeOther)
}

func (c *console) logout(w http.ResponseWriter, r *http.Request) {
	p := consolePrincipal(r)
	if p.Session != "" {
		if err := c.a.Access.Logout(r.Context(), *p); err != nil {
			c.fail(w, r, consoleLang(r), p, err)
			return
		}
	}
	clearSession(w)
	http.Redirect(w, r, consolePrefix+"login", http.StatusSeeOther)
}

// dossiersData is the list page's.
type dossiersData struct {
	Query    registration.Query
	States   []registration.State
	Profiles []string
	Dossiers []*registration.Dossier
}

func (c *console) dossiers(w http.ResponseWriter, r *http.Request, s *registration.Service) {
	p := consolePrincipal(r)
	q := r.URL.Query()
	query := registration.Query{State: registration.State(q.Get("state")), Profile: q.Get("profile"), Text: q.Get("q")}
	list, err := s.Search(r.Context(), *p, query)
	if err != nil {
		c.fail(w, r, consoleLang(r), p, err)
		return
	}
	data := dossiersData{Query: query, Dossiers: list, States: []registration.State{registration.Draft, registration.Submitted,
		registration.Validated, registration.Rejected, registration.Issued, registration.Delivered}}
	if c.a.Authority != nil {
		for _, ca := range c.a.Authority.CAs() {
			for _, pr := range ca.Spec.Profiles {
				if !slices.Contains(data.Profiles, pr.Name) {
					data.Profiles = append(data.Profiles, pr.Name)
				}
			}
		}
		slices.Sort(data.Profiles)
	}
	c.render(w, http.StatusOK, "dossiers", c.page(r, consoleLang(r), "dossiers.title", p, data))
}

// dossierData is the dossier page's.
type dossierData struct {
	D           *registration.Dossier
	Subject     [][2]string
	Acceptances []registration.CGU
	History     []historyEvent
	// CanDecide: the caller's roles allow dossier.validate (the four-eyes
	// rule is the service's, shown when it refuses); EnteredByMe warns.
	CanDecide, EnteredByMe bool
	// ScanReadable: the caller may take the sealed scan (ARC-3); else
	// ScanWhy says why not.
	ScanReadable bool
	ScanWhy      string
}

type historyEvent struct {
	Seq                          int64
	At, Actor, Role, Action, Hit string
	Details                      string
}

func (c *console) loadDossier(r *http.Request, s *registration.Service, p *access.Principal) (*dossierData, error) {
	id, err := pathID(r)
	if err != nil {
		return nil, err
	}
	d, err := s.Dossier(r.Context(), *p, id)
	if err != nil {
		return nil, err
	}
	data := &dossierData{D: d, EnteredByMe: d.CreatedBy == p.Account}
	if data.Acceptances, err = s.Acceptances(r.Context(), *p, id); err != nil {
		return nil, err
	}
	recs, err := s.History(r.Context(), *p, id, d.CreatedAt)
	if err != nil {
		return nil, err
	}
	for _, rec := range recs {
		data.History = append(data.History, historyOf(rec))
	}
	res := access.Resource{Kind: "dossier", ID: fmt.Sprint(id)}
	data.CanDecide = access.Decide(*p, access.DossierValidate, res).Allow
	dec := access.Decide(*p, access.ArchiveReadConfidential, access.Resource{Kind: "archive-item"})
	data.ScanReadable, data.ScanWhy = dec.Allow, dec.Reason
	sj := d.Subject
	for _, f := range [][2]string{{"common_name", sj.CommonName}, {"given_name", sj.GivenName}, {"surname", sj.Surname},
		{"pseudonym", sj.Pseudonym}, {"serial_number", sj.SerialNumber}, {"organization", sj.Organization},
		{"organizational_unit", sj.OrganizationalUnit}, {"organization_identifier", sj.OrganizationIdentifier},
		{"locality", sj.Locality}, {"province", sj.Province}, {"country", sj.Country},
		{"emails", strings.Join(sj.Emails, ", ")}, {"dns_names", strings.Join(sj.DNSNames, ", ")}, {"ip_addresses", strings.Join(sj.IPs, ", ")}} {
		if f[1] != "" {
			data.Subject = append(data.Subject, f)
		}
	}
	return data, nil
}

func historyOf(rec audit.Record) historyEvent {
	e := historyEvent{Seq: rec.Seq, At: rec.At, Actor: rec.Actor, Role: rec.Role, Action: rec.Action}
	var m map[string]any
	if json.Unmarshal([]byte(rec.Details), &m) == nil {
		var parts []string
		for k, v := range m {
			parts = append(parts, fmt.Sprintf("%s=%v", k, v))
		}
		slices.Sort(parts)
		e.Details = strings.Join(parts, "; ")
	} else {
		e.Details = rec.Details
	}
	return e
}

func (c *console) dossier(w http.ResponseWriter, r *http.Request, s *registration.Service) {
	p := consolePrincipal(r)
	data, err := c.loadDossier(r, s, p)
	if err != nil {
		c.fail(w, r, consoleLang(r), p, err)
		return
	}
	pg := c.page(r, consoleLang(r), "dossier.title", p, data)
	pg.Title = fmt.Sprintf("%s %d", pg.Title, data.D.ID)
	c.render(w, http.StatusOK, "dossier", pg)
}

// decideDossier validates or rejects through the service (CA-4): its
// refusal, such as the four-eyes rule's, is shown on the dossier's page
// with the refusal's status.
func (c *console) decideDossier(validate bool) func(http.ResponseWriter, *http.Request, *registration.Service) {
	return func(w http.ResponseWriter, r *http.Request, s *registration.Service) {
		p := consolePrincipal(r)
		id, err := pathID(r)
		if err == nil {
			if validate {
				_, err = s.Validate(r.Context(), *p, id)
			} else {
				_, err = s.Reject(r.Context(), *p, id, strings.TrimSpace(r.PostFormValue("reason")))
			}
		}
		if err == nil {
			done := "validated"
			if !validate {
				done = "rejected"
			}
			back(w, r, fmt.Sprintf("%sdossiers/%d", consolePrefix, id), done)
			return
		}
		data, lerr := c.loadDossier(r, s, p)
		if lerr != nil {
			c.fail(w, r, consoleLang(r), p, err)
			return
		}
		pg := c.page(r, consoleLang(r), "dossier.title", p, data)
		pg.Title = fmt.Sprintf("%s %d", pg.Title, data.D.ID)
		pg.Error = sceau.Message(store.Unclassified("server", err))
		c.render(w, statusOf(err), "dossier", pg)
	}
}

// requestsData is the revocation requests page's.
type requestsData struct {
	State      string
	Requests   []*registration.RevocationRequest
	CanProcess bool
	Reasons    []string
}

func (c *console) requests(w http.ResponseWriter, r *http.Request, s *registration.Service) {
	p := consolePrincipal(r)
	state := r.URL.Query().Get("state")
	list, err := s.Requests(r.Context(), *p, state, 500)
	if err != nil {
		c.fail(w, r, consoleLang(r), p, err)
		return
	}
	data := requestsData{State: state, Requests: list,
		CanProcess: access.Decide(*p, access.RevocationRequestCheck, access.Resource{Kind: "revocation_request"}).Allow}
	for name := range revocation.Reasons {
		data.Reasons = append(data.Reasons, name)
	}
	slices.Sort(data.Reasons)
	c.render(w, http.StatusOK, "requests", c.page(r, consoleLang(r), "requests.title", p, data))
}

// process revokes with the request's reason (or the one chosen) or
// refuses with a note, through the service (CA-4).
func (c *console) process(w http.ResponseWriter, r *http.Request, s *registration.Service) {
	p := consolePrincipal(r)
	id, err := pathID(r)
	decision := r.PostFormValue("decision")
	if err == nil && decision != "revoke" && decision != "refuse" {
		err = sceau.Errorf(sceau.Invalid, "server: decision", "decision %q: revoke or refuse", decision)
	}
	if err == nil {
		_, err = s.Process(r.Context(), *p, id, decision == "revoke", r.PostFormValue("reason"), strings.TrimSpace(r.PostFormValue("note")))
	}
	if err != nil {
		list, lerr := s.Requests(r.Context(), *p, "", 500)
		if lerr != nil {
			c.fail(w, r, consoleLang(r), p, err)
			return
		}
		data := requestsData{Requests: list, CanProcess: true}
		for name := range revocation.Reasons {
			data.Reasons = append(data.Reasons, name)
		}
		slices.Sort(data.Reasons)
		pg := c.page(r, consoleLang(r), "requests.title", p, data)
		pg.Error = sceau.Message(store.Unclassified("server", err))
		c.render(w, statusOf(err), "requests", pg)
		return
	}
	back(w, r, consolePrefix+"revocation-requests", map[string]string{"revoke": "revoked", "refuse": "refused"}[decision])
}
