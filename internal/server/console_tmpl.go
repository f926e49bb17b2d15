package server

import (
	"fmt"
	"html/template"
	"time"
)

// consoleCSS adds to the public site's stylesheet what the console needs:
// forms, notices and late requests.
const consoleCSS = `
/* The officers' console (console*.go). */
form.inline { display: inline; }
form.search { display: flex; flex-wrap: wrap; gap: .5rem 1rem; align-items: flex-end; margin-bottom: 1rem; }
label { display: block; font-weight: 600; }
input, select, textarea, button { font: inherit; }
input, select, textarea { padding: .3rem .4rem; border: 1px solid var(--muted); border-radius: .2rem; }
button { padding: .35rem .9rem; border: 1px solid var(--accent); background: var(--accent); color: #fff; border-radius: .2rem; cursor: pointer; }
button.secondary { background: #fff; color: var(--accent); }
.error { border: 2px solid #9b1c1c; color: #9b1c1c; background: #fdf2f2; padding: .75rem 1rem; margin: 1rem 0; }
.notice { border: 2px solid #176b2c; color: #176b2c; background: #f1f8f3; padding: .75rem 1rem; margin: 1rem 0; }
.warn { border-left: 4px solid #f2b705; padding: .25rem .75rem; margin: .75rem 0; }
tr.late td, tr.late th { background: #fdf2f2; }
.tag.late { border-color: #9b1c1c; color: #9b1c1c; font-weight: 700; }
.who { margin-left: auto; font-size: .9rem; }
.who button { padding: .1rem .5rem; border-color: #fff; }
.actions { display: flex; flex-wrap: wrap; gap: 1rem 2rem; align-items: flex-start; }
`

// consoleWords are the console's words in each language.
var consoleWords = map[string]map[string]string{
	"fr": {
		"brand": "Sceau", "brand.sub": "Console des opérateurs d'enregistrement", "skip": "Aller au contenu", "lang": "Langue",
		"nav.dossiers": "Dossiers", "nav.queue": "À valider", "nav.requests": "Demandes de révocation", "nav.label": "Navigation",
		"logout": "Se déconnecter", "as": "Connecté·e :",
		"error.title": "Refusé ou introuvable", "error.back": "Retour aux dossiers",
		"login.title": "Connexion", "login.intro": "Connectez-vous avec votre compte, votre mot de passe et le code TOTP de votre application, comme avec « sceau login ». Ce poste est authentifié par son certificat client.",
		"login.account": "Compte", "login.password": "Mot de passe", "login.totp": "Code TOTP", "login.submit": "Se connecter",
		"login.ended":    "Votre session a pris fin : connectez-vous de nouveau.",
		"dossiers.title": "Dossiers", "search.state": "État", "search.profile": "Profil", "search.text": "Nom, e-mail ou organisation",
		"search.any": "tous", "search.submit": "Rechercher", "dossiers.none": "Aucun dossier ne correspond.",
		"col.id": "N°", "col.subject": "Sujet", "col.kind": "Type", "col.profile": "Profil", "col.state": "État",
		"col.created": "Saisi le", "col.by": "par", "col.submitted": "Soumis le",
		"dossier.title": "Dossier", "dossier.facts": "Le dossier", "dossier.subject": "Ce que portera le certificat",
		"dossier.contact": "Contact du demandeur", "dossier.mandate": "Mandat du représentant",
		"dossier.evidence": "Pièces justificatives", "dossier.cgu": "Acceptations des CGU", "dossier.history": "Historique (journal)",
		"dossier.decide": "Décision", "dossier.noevidence": "Aucune pièce.", "dossier.nocgu": "Aucune acceptation.",
		"dossier.ca": "Autorité", "dossier.decided": "Décidé le", "dossier.reason": "Motif du rejet", "dossier.serial": "Numéro de série",
		"dossier.issued": "Émis le", "dossier.delivered": "Remis le", "dossier.delivery": "Remise",
		"dossier.entered":      "Vous avez saisi ce dossier : un autre opérateur d'enregistrement doit le valider ou le rejeter (quatre yeux).",
		"dossier.readonly":     "Votre rôle permet de lire ce dossier, pas d'en décider.",
		"dossier.notsubmitted": "Seul un dossier soumis se valide ou se rejette.",
		"validate":             "Valider le dossier", "reject": "Rejeter le dossier", "reject.reason": "Motif du rejet",
		"ev.type": "Document", "ev.number": "Numéro", "ev.country": "Pays", "ev.expires": "Expire le", "ev.method": "Vérification",
		"ev.added": "Ajoutée le", "ev.scan": "Scan",
		"scan.sealed": "Archivé confidentiel (ARC-3), scellé avec age pour les destinataires de l'archive : le serveur ne peut pas l'ouvrir. Pour le lire :",
		"scan.denied": "Vous ne pouvez pas lire le scan (ARC-3) :",
		"cgu.doc":     "Version", "cgu.how": "Comment", "cgu.at": "Acceptée le", "cgu.by": "Enregistrée par", "cgu.proof": "Preuve (archive)",
		"h.seq": "N°", "h.at": "Quand", "h.actor": "Qui", "h.role": "Rôle", "h.action": "Événement", "h.details": "Détails",
		"requests.title": "Demandes de révocation", "requests.none": "Aucune demande.", "requests.all": "toutes",
		"rq.id": "N°", "rq.dossier": "Dossier", "rq.serial": "Certificat", "rq.source": "Origine", "rq.reason": "Motif",
		"rq.received": "Reçue le", "rq.due": "À traiter avant", "rq.done": "Traitée le", "rq.state": "État", "rq.action": "Traitement",
		"rq.late": "EN RETARD", "rq.revoke": "Révoquer", "rq.refuse": "Refuser", "rq.reason.same": "(motif de la demande)",
		"rq.note": "Note (obligatoire pour refuser)", "rq.by": "par", "rq.submit": "Enregistrer la décision",
		"done.validated": "Dossier validé.", "done.rejected": "Dossier rejeté.", "done.revoked": "Certificat révoqué.",
		"done.refused": "Demande refusée.",
		"state.draft":  "brouillon", "state.submitted": "soumis", "state.validated": "validé", "state.rejected": "rejeté",
		"state.issued": "émis", "state.delivered": "remis", "state.received": "reçue", "state.revoked": "révoquée", "state.refused": "refusée",
	},
	"en": {
		"brand": "Sceau", "brand.sub": "Registration officers' console", "skip": "Skip to content", "lang": "Language",
		"nav.dossiers": "Dossiers", "nav.queue": "To validate", "nav.requests": "Revocation requests", "nav.label": "Navigation",
		"logout": "Log out", "as": "Logged in:",
		"error.title": "Refused or not found", "error.back": "Back to the dossiers",
		"login.title": "Log in", "login.intro": "Log in with your account, your password and the TOTP code of your app, as with `sceau login`. This terminal is authenticated by its client certificate.",
		"login.account": "Account", "login.password": "Password", "login.totp": "TOTP code", "login.submit": "Log in",
		"login.ended":    "Your session ended: log in again.",
		"dossiers.title": "Dossiers", "search.state": "State", "search.profile": "Profile", "search.text": "Name, e-mail or organisation",
		"search.any": "any", "search.submit": "Search", "dossiers.none": "No dossier matches.",
		"col.id": "No.", "col.subject": "Subject", "col.kind": "Kind", "col.profile": "Profile", "col.state": "State",
		"col.created": "Entered", "col.by": "by", "col.submitted": "Submitted",
		"dossier.title": "Dossier", "dossier.facts": "The dossier", "dossier.subject": "What the certificate will carry",
		"dossier.contact": "Applicant's contact", "dossier.mandate": "Representative's mandate",
		"dossier.evidence": "Identity evidence", "dossier.cgu": "CGU acceptances", "dossier.history": "History (journal)",
		"dossier.decide": "Decision", "dossier.noevidence": "No evidence.", "dossier.nocgu": "No acceptance.",
		"dossier.ca": "Authority", "dossier.decided": "Decided", "dossier.reason": "Rejection reason", "dossier.serial": "Serial number",
		"dossier.issued": "Issued", "dossier.delivered": "Delivered", "dossier.delivery": "Delivery",
		"dossier.entered":      "You entered this dossier: another Registration Officer must validate or reject it (four eyes).",
		"dossier.readonly":     "Your role reads this dossier; it does not decide on it.",
		"dossier.notsubmitted": "Only a submitted dossier is validated or rejected.",
		"validate":             "Validate the dossier", "reject": "Reject the dossier", "reject.reason": "Reason for the rejection",
		"ev.type": "Document", "ev.number": "Number", "ev.country": "Country", "ev.expires": "Expires", "ev.method": "Verified by",
		"ev.added": "Added", "ev.scan": "Scan",
		"scan.sealed": "Archived as confidential (ARC-3), sealed with age to the archive's recipients: the server cannot open it. To read it:",
		"scan.denied": "You may not read the scan (ARC-3):",
		"cgu.doc":     "Version", "cgu.how": "How", "cgu.at": "Accepted", "cgu.by": "Recorded by", "cgu.proof": "Proof (archive)",
		"h.seq": "No.", "h.at": "When", "h.actor": "Who", "h.role": "Role", "h.action": "Event", "h.details": "Details",
		"requests.title": "Revocation requests", "requests.none": "No request.", "requests.all": "all",
		"rq.id": "No.", "rq.dossier": "Dossier", "rq.serial": "Certificate", "rq.source": "From", "rq.reason": "Reason",
		"rq.received": "Received", "rq.due": "Due", "rq.done": "Done", "rq.state": "State", "rq.action": "Processing",
		"rq.late": "LATE", "rq.revoke": "Revoke", "rq.refuse": "Refuse", "rq.reason.same": "(the request's reason)",
		"rq.note": "Note (required to refuse)", "rq.by": "by", "rq.submit": "Record the decision",
		"done.validated": "Dossier validated.", "done.rejected": "Dossier rejected.", "done.revoked": "Certificate revoked.",
		"done.refused": "Request refused.",
		"state.draft":  "draft", "state.submitted": "submitted", "state.validated": "validated", "state.rejected": "rejected",
		"state.issued": "issued", "state.delivered": "delivered", "state.received": "received", "state.revoked": "revoked", "state.refused": "refused",
	},
}

var consoleFuncs = template.FuncMap{
	"when": func(t any) string {
		switch v := t.(type) {
		case time.Time:
			if v.IsZero() {
				return ""
			}
			return v.UTC().Format("2006-01-02 15:04 UTC")
		case *time.Time:
			if v == nil || v.IsZero() {
				return ""
			}
			return v.UTC().Format("2006-01-02 15:04 UTC")
		}
		return ""
	},
	"str":  func(v any) string { return fmt.Sprint(v) },
	"list": func(s ...string) []string { return s },
}

var consoleTemplates = template.Must(template.New("console").Funcs(consoleFuncs).Parse(consoleTemplateText))

// consoleTemplateText holds the console's pages.
const consoleTemplateText = `
{{define "head"}}<!doctype html>
<html lang="{{.Lang}}">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}} — {{.T "brand.sub"}}</title>
<link rel="stylesheet" href="/console/site.css"></head>
<body><a class="skip" href="#main">{{.T "skip"}}</a>
<header class="top"><div class="wrap">
<p class="brand">{{.T "brand"}}<span>{{.T "brand.sub"}}</span></p>
{{if .Who}}<nav aria-label="{{.T "nav.label"}}"><ul>
<li><a href="/console/dossiers?state=submitted">{{.T "nav.queue"}}</a></li>
<li><a href="/console/dossiers">{{.T "nav.dossiers"}}</a></li>
<li><a href="/console/revocation-requests?state=received">{{.T "nav.requests"}}</a></li>
</ul></nav>
<form class="inline who" method="post" action="/console/logout"><span id="who">{{.T "as"}} {{.Who}} ({{.Roles}})</span>
<input type="hidden" name="csrf" value="{{.CSRF}}"> <button type="submit" class="secondary">{{.T "logout"}}</button></form>{{end}}
<p class="langs">{{.T "lang"}}: <a href="{{.Path}}" hreflang="{{.Other}}" lang="{{.Other}}">{{.OtherName}}</a></p>
</div></header>
<main id="main" class="wrap">
<h1>{{.Title}}</h1>
{{if .Error}}<p class="error" id="error" role="alert">{{.Error}}</p>{{end}}
{{if .Notice}}<p class="notice" id="notice" role="status">{{.Notice}}</p>{{end}}
{{end}}

{{define "foot"}}</main>
<footer class="wrap"><p>Sceau — CA-4</p></footer>
</body></html>{{end}}

{{define "error"}}{{template "head" .}}
<p><a href="/console/dossiers">{{.T "error.back"}}</a></p>
{{template "foot" .}}{{end}}

{{define "login"}}{{template "head" .}}
{{if .Data.Ended}}<p class="warn">{{.T "login.ended"}}</p>{{end}}
<p>{{.T "login.intro"}}</p>
<form method="post" action="/console/login" id="login">
<input type="hidden" name="csrf" value="{{.Data.Token}}">
<p><label for="account">{{.T "login.account"}}</label><input id="account" name="account" autocomplete="username" required value="{{.Data.Account}}"></p>
<p><label for="password">{{.T "login.password"}}</label><input id="password" name="password" type="password" autocomplete="current-password" required></p>
<p><label for="totp">{{.T "login.totp"}}</label><input id="totp" name="totp" inputmode="numeric" autocomplete="one-time-code" required></p>
<p><button type="submit" id="login-submit">{{.T "login.submit"}}</button></p>
</form>
{{template "foot" .}}{{end}}

{{define "dossiers"}}{{template "head" .}}
<form class="search" method="get" action="/console/dossiers" role="search">
<p><label for="state">{{.T "search.state"}}</label><select id="state" name="state"><option value="">{{.T "search.any"}}</option>
{{range .Data.States}}<option value="{{.}}"{{if eq (str .) (str $.Data.Query.State)}} selected{{end}}>{{$.T (printf "state.%s" .)}}</option>{{end}}</select></p>
<p><label for="profile">{{.T "search.profile"}}</label><select id="profile" name="profile"><option value="">{{.T "search.any"}}</option>
{{range .Data.Profiles}}<option{{if eq . $.Data.Query.Profile}} selected{{end}}>{{.}}</option>{{end}}</select></p>
<p><label for="q">{{.T "search.text"}}</label><input id="q" name="q" value="{{.Data.Query.Text}}"></p>
<p><button type="submit">{{.T "search.submit"}}</button></p>
</form>
{{if .Data.Dossiers}}<div class="scroll"><table id="dossiers"><thead><tr><th scope="col">{{.T "col.id"}}</th><th scope="col">{{.T "col.subject"}}</th>
<th scope="col">{{.T "col.kind"}}</th><th scope="col">{{.T "col.profile"}}</th><th scope="col">{{.T "col.state"}}</th>
<th scope="col">{{.T "col.created"}}</th><th scope="col">{{.T "col.submitted"}}</th></tr></thead><tbody>
{{range .Data.Dossiers}}<tr><th scope="row"><a href="/console/dossiers/{{.ID}}">{{.ID}}</a></th><td><a href="/console/dossiers/{{.ID}}">{{.Subject.CommonName}}</a>{{with .Subject.Organization}} — {{.}}{{end}}</td>
<td>{{.Kind}}</td><td>{{.Profile}}</td><td><span class="tag">{{$.T (printf "state.%s" .State)}}</span></td>
<td>{{when .CreatedAt}} {{$.T "col.by"}} {{.CreatedBy}}</td><td>{{when .SubmittedAt}}</td></tr>
{{end}}</tbody></table></div>{{else}}<p>{{.T "dossiers.none"}}</p>{{end}}
{{template "foot" .}}{{end}}

{{define "dossier"}}{{template "head" .}}{{$d := .Data.D}}
<h2>{{.T "dossier.facts"}}</h2>
<dl class="facts">
<dt>{{.T "col.state"}}</dt><dd><span class="tag" id="state">{{.T (printf "state.%s" $d.State)}}</span></dd>
<dt>{{.T "col.kind"}}</dt><dd>{{$d.Kind}}</dd>
<dt>{{.T "dossier.ca"}}</dt><dd>{{$d.CA}}</dd>
<dt>{{.T "col.profile"}}</dt><dd>{{$d.Profile}}</dd>
<dt>{{.T "col.created"}}</dt><dd>{{when $d.CreatedAt}} {{.T "col.by"}} <span id="created-by">{{$d.CreatedBy}}</span></dd>
{{with $d.SubmittedAt}}<dt>{{$.T "col.submitted"}}</dt><dd>{{when .}}</dd>{{end}}
{{with $d.DecidedAt}}<dt>{{$.T "dossier.decided"}}</dt><dd>{{when .}} {{$.T "col.by"}} {{$d.DecidedBy}}</dd>{{end}}
{{with $d.Reason}}<dt>{{$.T "dossier.reason"}}</dt><dd>{{.}}</dd>{{end}}
{{with $d.Serial}}<dt>{{$.T "dossier.serial"}}</dt><dd><code>{{.}}</code></dd>{{end}}
{{with $d.IssuedAt}}<dt>{{$.T "dossier.issued"}}</dt><dd>{{when .}} {{$.T "col.by"}} {{$d.IssuedBy}}</dd>{{end}}
{{with $d.DeliveredAt}}<dt>{{$.T "dossier.delivered"}}</dt><dd>{{when .}} — {{$d.Delivery}}</dd>{{end}}
</dl>
<h2>{{.T "dossier.decide"}}</h2>
{{if ne (str $d.State) "submitted"}}<p>{{.T "dossier.notsubmitted"}}</p>
{{else if .Data.CanDecide}}{{if .Data.EnteredByMe}}<p class="warn">{{.T "dossier.entered"}}</p>{{end}}
<div class="actions">
<form method="post" action="/console/dossiers/{{$d.ID}}/validate" id="validate"><input type="hidden" name="csrf" value="{{.CSRF}}">
<button type="submit" id="validate-submit">{{.T "validate"}}</button></form>
<form method="post" action="/console/dossiers/{{$d.ID}}/reject" id="reject"><input type="hidden" name="csrf" value="{{.CSRF}}">
<p><label for="reason">{{.T "reject.reason"}}</label><textarea id="reason" name="reason" rows="2" cols="40" required></textarea></p>
<p><button type="submit" class="secondary" id="reject-submit">{{.T "reject"}}</button></p></form>
</div>{{else}}<p>{{.T "dossier.readonly"}}</p>{{end}}
<h2>{{.T "dossier.subject"}}</h2>
<dl class="facts" id="subject">{{range .Data.Subject}}<dt>{{index . 0}}</dt><dd>{{index . 1}}</dd>{{end}}</dl>
<h2>{{.T "dossier.contact"}}</h2>
<dl class="facts"><dt>name</dt><dd>{{$d.Contact.Name}}</dd><dt>email</dt><dd>{{$d.Contact.Email}}</dd>{{with $d.Contact.Phone}}<dt>phone</dt><dd>{{.}}</dd>{{end}}</dl>
{{with $d.Mandate}}<h2>{{$.T "dossier.mandate"}}</h2>
<dl class="facts"><dt>representative</dt><dd>{{.Representative}}</dd><dt>capacity</dt><dd>{{.Capacity}}</dd><dt>reference</dt><dd>{{.Reference}}</dd><dt>signed_on</dt><dd>{{.SignedOn}}</dd></dl>{{end}}
<h2 id="evidence-title">{{.T "dossier.evidence"}}</h2>
{{if $d.Evidence}}<div class="scroll"><table id="evidence"><thead><tr><th scope="col">{{.T "ev.type"}}</th><th scope="col">{{.T "ev.number"}}</th>
<th scope="col">{{.T "ev.country"}}</th><th scope="col">{{.T "ev.expires"}}</th><th scope="col">{{.T "ev.method"}}</th>
<th scope="col">{{.T "ev.added"}}</th><th scope="col">{{.T "ev.scan"}}</th></tr></thead><tbody>
{{range $d.Evidence}}<tr><th scope="row">{{.DocType}}</th><td>{{.Number}}</td><td>{{.IssuingCountry}}</td><td>{{.Expires}}</td><td>{{.Method}}</td>
<td>{{when .AddedAt}} {{$.T "col.by"}} {{.AddedBy}}</td>
<td>{{.ScanType}}, {{.ScanSize}} B, SHA-256 <code class="sha">{{.ScanSHA256}}</code><br>
{{if $.Data.ScanReadable}}<span class="scan-sealed">{{$.T "scan.sealed"}} <code>sceau archive get {{.ScanLeaf}} --identity …</code></span>
{{else}}<span class="scan-denied">{{$.T "scan.denied"}} {{$.Data.ScanWhy}} (archive {{.ScanLeaf}})</span>{{end}}</td></tr>
{{end}}</tbody></table></div>{{else}}<p>{{.T "dossier.noevidence"}}</p>{{end}}
<h2>{{.T "dossier.cgu"}}</h2>
{{if .Data.Acceptances}}<div class="scroll"><table id="cgu"><thead><tr><th scope="col">{{.T "cgu.doc"}}</th><th scope="col">{{.T "cgu.how"}}</th>
<th scope="col">{{.T "cgu.at"}}</th><th scope="col">{{.T "cgu.by"}}</th><th scope="col">{{.T "cgu.proof"}}</th></tr></thead><tbody>
{{range .Data.Acceptances}}<tr><th scope="row">{{if .URL}}<a href="{{.URL}}">{{.Document}}</a>{{else}}{{.Document}}{{end}}<br><code class="sha">{{.SHA256}}</code></th>
<td>{{.How}}</td><td>{{when .AcceptedAt}}</td><td>{{.RecordedBy}}</td><td>{{.ProofLeaf}}</td></tr>
{{end}}</tbody></table></div>{{else}}<p>{{.T "dossier.nocgu"}}</p>{{end}}
<h2>{{.T "dossier.history"}}</h2>
<div class="scroll"><table id="history"><thead><tr><th scope="col">{{.T "h.seq"}}</th><th scope="col">{{.T "h.at"}}</th><th scope="col">{{.T "h.actor"}}</th>
<th scope="col">{{.T "h.role"}}</th><th scope="col">{{.T "h.action"}}</th><th scope="col">{{.T "h.details"}}</th></tr></thead><tbody>
{{range .Data.History}}<tr><th scope="row">{{.Seq}}</th><td>{{.At}}</td><td>{{.Actor}}</td><td>{{.Role}}</td><td>{{.Action}}</td><td>{{.Details}}</td></tr>
{{end}}</tbody></table></div>
{{template "foot" .}}{{end}}

{{define "requests"}}{{template "head" .}}
<form class="search" method="get" action="/console/revocation-requests">
<p><label for="rstate">{{.T "rq.state"}}</label><select id="rstate" name="state"><option value="">{{.T "requests.all"}}</option>
{{range (list "received" "revoked" "refused")}}<option value="{{.}}"{{if eq . $.Data.State}} selected{{end}}>{{$.T (printf "state.%s" .)}}</option>{{end}}</select></p>
<p><button type="submit">{{.T "search.submit"}}</button></p></form>
{{if .Data.Requests}}<div class="scroll"><table id="requests"><thead><tr><th scope="col">{{.T "rq.id"}}</th><th scope="col">{{.T "rq.dossier"}}</th>
<th scope="col">{{.T "rq.serial"}}</th><th scope="col">{{.T "rq.source"}}</th><th scope="col">{{.T "rq.reason"}}</th>
<th scope="col">{{.T "rq.received"}}</th><th scope="col">{{.T "rq.due"}}</th><th scope="col">{{.T "rq.done"}}</th>
<th scope="col">{{.T "rq.state"}}</th>{{if .Data.CanProcess}}<th scope="col">{{.T "rq.action"}}</th>{{end}}</tr></thead><tbody>
{{range .Data.Requests}}<tr id="rq-{{.ID}}"{{if .Overdue}} class="late"{{end}}><th scope="row">{{.ID}}</th>
<td><a href="/console/dossiers/{{.Dossier}}">{{.Dossier}}</a></td><td><code>{{.Serial}}</code></td><td>{{.Source}}{{with .Requester}}: {{.}}{{end}}</td>
<td>{{.Reason}}{{with .Note}}<br><span class="meta">{{.}}</span>{{end}}</td><td>{{when .ReceivedAt}}</td>
<td>{{when .DueAt}}{{if .Overdue}} <span class="tag late">{{$.T "rq.late"}}</span>{{end}}</td>
<td>{{when .DoneAt}}{{with .CheckedBy}} {{$.T "rq.by"}} {{.}}{{end}}{{with .Decision}}<br><span class="meta">{{.}}</span>{{end}}</td>
<td><span class="tag">{{$.T (printf "state.%s" .State)}}</span></td>
{{if $.Data.CanProcess}}<td>{{if eq .State "received"}}<form method="post" action="/console/revocation-requests/{{.ID}}/process" class="process">
<input type="hidden" name="csrf" value="{{$.CSRF}}">
<p><label><input type="radio" name="decision" value="revoke" checked> {{$.T "rq.revoke"}}</label>
<label><input type="radio" name="decision" value="refuse"> {{$.T "rq.refuse"}}</label></p>
<p><label for="reason-{{.ID}}">{{$.T "rq.reason"}}</label><select id="reason-{{.ID}}" name="reason"><option value="">{{$.T "rq.reason.same"}}</option>
{{range $.Data.Reasons}}<option>{{.}}</option>{{end}}</select></p>
<p><label for="note-{{.ID}}">{{$.T "rq.note"}}</label><input id="note-{{.ID}}" name="note"></p>
<p><button type="submit" id="process-{{.ID}}">{{$.T "rq.submit"}}</button></p></form>{{end}}</td>{{end}}</tr>
{{end}}</tbody></table></div>{{else}}<p>{{.T "requests.none"}}</p>{{end}}
{{template "foot" .}}{{end}}
`
