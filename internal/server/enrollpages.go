package server

import (
	"bytes"
	"html/template"
	"net/http"
	"time"

	"github.com/sceau/sceau/internal/publication"
	"github.com/sceau/sceau/internal/registration"
)

// enrollCSP: the pages run no script, load only their inline style and
// post only to themselves.
const enrollCSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// holderReasons are the RFC 5280 reasons a holder may give; the others
// (cACompromise, privilegeWithdrawn…) are for the CA's officers.
var holderReasons = []string{"unspecified", "keyCompromise", "affiliationChanged", "superseded", "cessationOfOperation"}

var enrollWords = map[string]map[string]string{
	"en": {
		"title.index":    "Certificate holders",
		"title.revoke":   "Revoke my certificate",
		"title.received": "Revocation request received",
		"title.download": "Download my certificate",
		"intro":          "This service is for holders of certificates issued by this certification authority. The public repository (certificates, CRLs, policies) is on the public site.",
		"revoke.intro":   "Give the serial number of your certificate and the revocation secret you were handed with it. A Revocation Officer checks the request, then revokes the certificate; you can follow it with the number you receive.",
		"serial":         "Serial number (hexadecimal)",
		"secret":         "Revocation secret",
		"reason":         "Reason",
		"note":           "Note for the officer (optional)",
		"submit":         "Send the request",
		"error":          "Refused",
		"received":       "Your request is number",
		"due":            "It is due to be processed before",
		"state":          "State",
		"go.revoke":      "Ask for the revocation of my certificate",
		"r.unspecified":  "unspecified", "r.keyCompromise": "my key is compromised or lost",
		"r.affiliationChanged": "my details changed", "r.superseded": "replaced by another certificate",
		"r.cessationOfOperation": "no longer used",
	},
	"fr": {
		"title.index":    "Porteurs de certificats",
		"title.revoke":   "Révoquer mon certificat",
		"title.received": "Demande de révocation reçue",
		"title.download": "Télécharger mon certificat",
		"intro":          "Ce service est destiné aux porteurs de certificats émis par cette autorité de certification. Le dépôt public (certificats, LCR, politiques) est sur le site de publication.",
		"revoke.intro":   "Indiquez le numéro de série de votre certificat et le secret de révocation qui vous a été remis avec lui. Un officier de révocation vérifie la demande puis révoque le certificat ; le numéro reçu permet de la suivre.",
		"serial":         "Numéro de série (hexadécimal)",
		"secret":         "Secret de révocation",
		"reason":         "Motif",
		"note":           "Note pour l'officier (facultatif)",
		"submit":         "Envoyer la demande",
		"error":          "Refusé",
		"received":       "Votre demande porte le numéro",
		"due":            "Elle doit être traitée avant le",
		"state":          "État",
		"go.revoke":      "Demander la révocation de mon certificat",
		"r.unspecified":  "non précisé", "r.keyCompromise": "ma clé est compromise ou perdue",
		"r.affiliationChanged": "mes informations ont changé", "r.superseded": "remplacé par un autre certificat",
		"r.cessationOfOperation": "n'est plus utilisé",
	},
}

type pageData struct {
	Lang, Title                 string
	Index, Form                 bool
	Serial, Reason, Note, Error string
	Request                     *registration.RevocationRequest
	Reasons                     []string
}

func (d pageData) W(key string) string {
	if w, ok := enrollWords[d.Lang][key]; ok {
		return w
	}
	return key
}

func (d pageData) Other() string {
	if d.Lang == "fr" {
		return "en"
	}
	return "fr"
}

var enrollPage = template.Must(template.New("enroll").Funcs(template.FuncMap{
	"utc": func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 MST") },
}).Parse(`<!doctype html>
<html lang="{{.Lang}}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.W .Title}}</title>
<style>body{font-family:system-ui,sans-serif;max-width:42rem;margin:2rem auto;padding:0 1rem;line-height:1.5;color:#1a1a1a}
label{display:block;margin-top:1rem;font-weight:600}input,select,textarea{width:100%;padding:.4rem;font:inherit;box-sizing:border-box}
button{margin-top:1.2rem;padding:.5rem 1.2rem;font:inherit}.error{border-left:.3rem solid #b00020;background:#fdecee;padding:.6rem 1rem}
.ok{border-left:.3rem solid #1b5e20;background:#e8f5e9;padding:.6rem 1rem}.langs{float:right}</style>
</head><body>
<p class="langs"><a href="?lang={{.Other}}" hreflang="{{.Other}}" lang="{{.Other}}">{{if eq .Other "fr"}}Français{{else}}English{{end}}</a></p>
<main>
<h1>{{.W .Title}}</h1>
{{with .Error}}<p class="error" role="alert"><strong>{{$.W "error"}}:</strong> {{.}}</p>{{end}}
{{if .Index}}<p>{{.W "intro"}}</p><p><a href="/revoke?lang={{.Lang}}">{{.W "go.revoke"}}</a></p>{{end}}
{{if .Form}}<p>{{.W "revoke.intro"}}</p>
<form method="post" action="/revoke?lang={{.Lang}}">
<label for="serial">{{.W "serial"}}</label><input id="serial" name="serial" required pattern="[0-9A-Fa-f:]+" value="{{.Serial}}" autocomplete="off">
<label for="secret">{{.W "secret"}}</label><input id="secret" name="secret" type="password" required autocomplete="off">
<label for="reason">{{.W "reason"}}</label><select id="reason" name="reason">{{range .Reasons}}<option value="{{.}}"{{if eq . $.Reason}} selected{{end}}>{{$.W (print "r." .)}}</option>{{end}}</select>
<label for="note">{{.W "note"}}</label><textarea id="note" name="note" maxlength="2000" rows="3">{{.Note}}</textarea>
<button type="submit">{{.W "submit"}}</button>
</form>{{end}}
{{with .Request}}<p class="ok" role="status">{{$.W "received"}} <strong id="request-id">{{.ID}}</strong>.</p>
<p>{{$.W "due"}} <strong id="due">{{utc .DueAt}}</strong>. {{$.W "state"}}: <span id="state">{{.State}}</span>.</p>{{end}}
</main></body></html>`))

// page renders one page of the enrollment listener in the holder's
// language: ?lang= first, then Accept-Language.
func (e *Enroll) page(w http.ResponseWriter, r *http.Request, code int, d pageData) {
	d.Lang = r.URL.Query().Get("lang")
	if _, ok := enrollWords[d.Lang]; !ok {
		d.Lang = publication.Language(r)
	}
	d.Reasons = holderReasons
	var b bytes.Buffer
	if err := enrollPage.Execute(&b, d); err != nil {
		e.Log.Error("enroll page", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", enrollCSP)
	h.Set("Vary", "Accept-Language")
	w.WriteHeader(code)
	_, _ = w.Write(b.Bytes())
}
