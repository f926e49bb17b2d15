package publication

import (
	"bytes"
	"html/template"
	"math/big"
	"sort"
	"strings"
	"time"
)

// The pages for people (PUB-1): server-side HTML, no script, the same in
// French and English, each with its lang attribute.

var pageFuncs = template.FuncMap{
	"date": func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format("2006-01-02")
	},
	"datetime": func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 MST") },
	"colons": func(hex string) string {
		var b strings.Builder
		for i := 0; i < len(hex); i += 2 {
			if i > 0 {
				b.WriteByte(':')
			}
			b.WriteString(strings.ToUpper(hex[i:min(i+2, len(hex))]))
		}
		return b.String()
	},
	"serial": func(n *big.Int) string { return strings.ToUpper(n.Text(16)) },
	"deref":  func(t *time.Time) time.Time { return *t },
}

var layout = template.Must(template.New("layout").Funcs(pageFuncs).Parse(`<!doctype html>
<html lang="{{.Lang}}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}} – {{.Publisher}}</title>
<link rel="stylesheet" href="/site.css">
{{range .Alternates}}<link rel="alternate" hreflang="{{.Lang}}" href="{{.Href}}">
{{end}}</head>
<body>
<a class="skip" href="#content">{{.W "skip"}}</a>
<header class="top">
<div class="wrap">
<p class="brand"><a href="/{{.Lang}}/">{{.Publisher}}</a> <span>{{.W "repository"}}</span></p>
<nav aria-label="{{.W "nav.label"}}"><ul>
<li><a href="/{{.Lang}}/"{{if eq .Page "home"}} aria-current="page"{{end}}>{{.W "nav.home"}}</a></li>
<li><a href="/{{.Lang}}/documents"{{if eq .Page "documents"}} aria-current="page"{{end}}>{{.W "nav.documents"}}</a></li>
<li><a href="/{{.Lang}}/notices"{{if eq .Page "notices"}} aria-current="page"{{end}}>{{.W "nav.notices"}}</a></li>
</ul></nav>
<p class="langs">{{range .Alternates}}<a href="{{.Href}}" hreflang="{{.Lang}}" lang="{{.Lang}}">{{.Name}}</a> {{end}}</p>
</div>
</header>
<main id="content" class="wrap">
{{.Body}}
</main>
<footer class="wrap">
<p>{{if .Contact}}{{.W "contact"}}{{.W "colon"}}{{.Contact}} · {{end}}{{.W "manifest"}}{{.W "colon"}}<a href="/manifest.json">manifest.json</a> · <a href="/manifest.json.p7s">manifest.json.p7s</a></p>
</footer>
</body>
</html>
`))

var homeBody = template.Must(template.New("home").Funcs(pageFuncs).Parse(`<h1>{{.W "home.title"}}</h1>
{{with .About}}<p class="about">{{.}}</p>{{end}}
<section aria-labelledby="cas"><h2 id="cas">{{.W "home.cas"}}</h2>
<div class="scroll"><table>
<thead><tr><th scope="col">{{.W "ca"}}</th><th scope="col">{{.W "status"}}</th><th scope="col">{{.W "validity"}}</th><th scope="col">{{.W "certificate"}}</th><th scope="col">{{.W "crl"}}</th></tr></thead>
<tbody>
{{range .CAs}}<tr><th scope="row"><a href="/{{$.Lang}}/ca/{{.ID}}">{{.Cert.Subject.CommonName}}</a>{{if not .Parent}} <span class="tag">{{$.W "root"}}</span>{{end}}</th>
<td>{{$.W .Status}}</td><td>{{date .Cert.NotBefore}} – {{date .Cert.NotAfter}}</td>
<td><a href="/ca/{{.ID}}.der">DER</a> · <a href="/ca/{{.ID}}.pem">PEM</a></td>
<td>{{if .CRL}}<a href="/crl/{{.ID}}.crl">{{.ID}}.crl</a>{{else}}{{$.W "crl.none"}}{{end}}</td></tr>
{{end}}</tbody></table></div>
</section>
<section aria-labelledby="current"><h2 id="current">{{.W "home.current"}}</h2>
{{if .Current}}<ul class="docs">{{range .Current}}<li><a href="{{.Path}}" hreflang="{{.Lang}}">{{.Title}}</a> <span class="meta">{{.Ident}} · {{.Version}} · {{.Lang}} · {{$.W "doc.effective"}} {{date .EffectiveAt}}</span></li>
{{end}}</ul>{{else}}<p>{{.W "home.nocurrent"}}</p>{{end}}
</section>
<section aria-labelledby="manifest"><h2 id="manifest">{{.W "manifest"}}</h2>
<p>{{.W "manifest.intro"}}</p>
{{with .Manifest}}<p>{{$.W "manifest.number"}} {{.Number}} · {{datetime .CreatedAt}} · SHA-256 <code>{{.SHA256}}</code></p>{{end}}
<p>{{.W "manifest.verify"}}{{.W "colon"}}<code>sceau publication verify {{.Origin}}/</code> · <code>openssl cms -verify -binary -inform DER -in manifest.json.p7s -content manifest.json -CAfile root.pem -purpose any</code></p>
</section>
`))

var caBody = template.Must(template.New("ca").Funcs(pageFuncs).Parse(`{{with .CA}}<h1>{{.Cert.Subject.CommonName}}</h1>
<dl class="facts">
<dt>{{$.W "subject"}}</dt><dd>{{.Cert.Subject}}</dd>
<dt>{{$.W "issuer"}}</dt><dd>{{.Cert.Issuer}}{{if .Parent}} (<a href="/{{$.Lang}}/ca/{{.Parent}}">{{$.W "parent"}}</a>){{else}} ({{$.W "root"}}){{end}}</dd>
<dt>{{$.W "serial"}}</dt><dd><code>{{serial .Cert.SerialNumber}}</code></dd>
<dt>{{$.W "status"}}</dt><dd>{{$.W .Status}}</dd>
<dt>{{$.W "validity"}}</dt><dd>{{$.W "from"}} {{datetime .Cert.NotBefore}} {{$.W "to"}} {{datetime .Cert.NotAfter}}</dd>
<dt>SHA-256</dt><dd><code class="fp" data-fp="sha256">{{colons .SHA256}}</code></dd>
<dt>SHA-1</dt><dd><code class="fp" data-fp="sha1">{{colons .SHA1}}</code></dd>
<dt>{{$.W "download"}}</dt><dd><a href="/ca/{{.ID}}.der">{{.ID}}.der</a> · <a href="/ca/{{.ID}}.pem">{{.ID}}.pem</a></dd>
{{if .OCSPURL}}<dt>{{$.W "ocsp"}}</dt><dd><code>{{.OCSPURL}}</code></dd>{{end}}
{{if .Policies}}<dt>{{$.W "policies"}}</dt><dd>{{range $i, $p := .Policies}}{{if $i}}, {{end}}<code>{{$p}}</code>{{end}}</dd>{{end}}
</dl>
<h2>{{$.W "crl"}}</h2>
{{if .CRL}}<dl class="facts">
<dt>{{$.W "crl.number"}}</dt><dd>{{.CRL.Number}}</dd>
<dt>{{$.W "crl.this"}}</dt><dd>{{datetime .CRL.ThisUpdate}}</dd>
<dt>{{$.W "crl.next"}}</dt><dd>{{datetime .CRL.NextUpdate}}</dd>
<dt>{{$.W "crl.entries"}}</dt><dd>{{.CRL.Entries}}</dd>
<dt>SHA-256</dt><dd><code>{{.CRLSHA256}}</code></dd>
<dt>{{$.W "download"}}</dt><dd><a href="/crl/{{.ID}}.crl">{{.ID}}.crl</a>{{if .CRLURL}} · <code>{{.CRLURL}}</code>{{end}}</dd>
</dl>{{else}}<p>{{$.W "crl.none"}}</p>{{end}}{{end}}
`))

var docsBody = template.Must(template.New("docs").Funcs(pageFuncs).Parse(`<h1>{{.Title}}</h1>
<p>{{.Intro}}</p>
{{range .Groups}}<section aria-labelledby="k-{{.Kind}}"><h2 id="k-{{.Kind}}">{{$.W .Label}}</h2>
<div class="scroll"><table>
<thead><tr><th scope="col">{{$.W "doc.title"}}</th><th scope="col">{{$.W "doc.ident"}}</th><th scope="col">{{$.W "doc.version"}}</th><th scope="col">{{$.W "doc.lang"}}</th><th scope="col">{{$.W "doc.effective"}}</th><th scope="col">{{$.W "doc.published"}}</th><th scope="col">{{$.W "doc.state"}}</th><th scope="col">SHA-256</th></tr></thead>
<tbody>
{{range .Rows}}<tr class="{{.State}}"><th scope="row"><a href="{{.Doc.Path}}" hreflang="{{.Doc.Lang}}" lang="{{.Doc.Lang}}">{{.Doc.Title}}</a> <span class="meta">({{.Doc.Size}} {{$.W "size"}})</span></th>
<td><code>{{.Doc.Ident}}</code></td><td>{{.Doc.Version}}</td><td>{{.Doc.Lang}}</td><td>{{date .Doc.EffectiveAt}}</td><td>{{date .Doc.PublishedAt}}</td>
<td><span class="tag {{.State}}">{{$.W (print "doc." .State)}}</span>{{if .Doc.Withdrawn}} {{date (deref .Doc.WithdrawnAt)}} ({{$.W "doc.reason"}}{{$.W "colon"}}{{.Doc.Reason}}){{end}}</td>
<td><a href="/sha256/{{.Doc.SHA256}}"><code class="sha">{{.Doc.SHA256}}</code></a></td></tr>
{{end}}</tbody></table></div></section>
{{else}}<p>{{.Empty}}</p>
{{end}}
`))

// docRow is one version with its state on the date shown.
type docRow struct {
	Doc   *Document
	State string // current, superseded, upcoming, withdrawn
}

type docGroup struct {
	Kind  Kind
	Label string
	Rows  []docRow
}

// states marks, per document and language, the version in force: the
// newest effective, not withdrawn, whose date has come.
func states(docs []*Document, now time.Time) map[*Document]string {
	out := map[*Document]string{}
	current := map[string]*Document{}
	for _, d := range docs {
		switch {
		case d.Withdrawn():
			out[d] = "withdrawn"
		case d.EffectiveAt.After(now):
			out[d] = "upcoming"
		default:
			out[d] = "superseded"
			k := string(d.Kind) + "/" + d.Ident + "/" + d.Lang
			if c, ok := current[k]; !ok || d.EffectiveAt.After(c.EffectiveAt) || (d.EffectiveAt.Equal(c.EffectiveAt) && d.PublishedAt.After(c.PublishedAt)) {
				current[k] = d
			}
		}
	}
	for _, d := range current {
		out[d] = "current"
	}
	return out
}

func groups(docs []*Document, st map[*Document]string, only func(Kind) bool) []docGroup {
	var out []docGroup
	for _, k := range Kinds {
		if !only(k) {
			continue
		}
		g := docGroup{Kind: k, Label: "kind." + string(k)}
		for _, d := range docs {
			if d.Kind == k {
				g.Rows = append(g.Rows, docRow{Doc: d, State: st[d]})
			}
		}
		sort.SliceStable(g.Rows, func(i, j int) bool {
			a, b := g.Rows[i].Doc, g.Rows[j].Doc
			if a.Ident != b.Ident {
				return a.Ident < b.Ident
			}
			return a.EffectiveAt.After(b.EffectiveAt)
		})
		if len(g.Rows) > 0 {
			out = append(out, g)
		}
	}
	return out
}

type alternate struct{ Lang, Name, Href string }

// page is what the layout needs.
type page struct {
	Lang, Page, Title, Publisher, Contact string
	Alternates                            []alternate
	Body                                  template.HTML
}

func (p page) W(key string) string { return word(p.Lang, key) }

// pageSpec is one page of the site in one language: what renderPage needs.
type pageSpec struct {
	lang, name string
	path       string // without the language prefix
	title      string
	body       *template.Template
	data       map[string]any
}

// homePage is the home page in lang; origin is the site's URL, which its
// verification command names.
func homePage(snap *snapshot, lang, origin string) pageSpec {
	st := states(snap.docs, snap.built)
	var current []*Document
	for _, d := range snap.docs {
		if st[d] == "current" && d.Kind != Notice && d.Lang == lang {
			current = append(current, d)
		}
	}
	data := map[string]any{"CAs": snap.cas, "Current": current, "Origin": origin}
	if snap.manifest != nil {
		data["Manifest"] = map[string]any{"Number": snap.manifest.Number, "CreatedAt": snap.manifest.CreatedAt, "SHA256": snap.manifest.SHA256()}
	}
	return pageSpec{lang, "home", "/", word(lang, "home.title"), homeBody, data}
}

func caPage(c *caView, lang string) pageSpec {
	return pageSpec{lang, "ca", "/ca/" + c.ID, c.Cert.Subject.CommonName, caBody, map[string]any{"CA": c}}
}

// docsPage is the documents page, or with notices the notices page.
func docsPage(snap *snapshot, lang string, notices bool) pageSpec {
	st := states(snap.docs, snap.built)
	if notices {
		return pageSpec{lang, "notices", "/notices", word(lang, "notices.title"), docsBody, map[string]any{
			"Title": word(lang, "notices.title"), "Intro": "", "Empty": word(lang, "notices.none"),
			"Groups": groups(snap.docs, st, func(k Kind) bool { return k == Notice })}}
	}
	return pageSpec{lang, "documents", "/documents", word(lang, "docs.title"), docsBody, map[string]any{
		"Title": word(lang, "docs.title"), "Intro": word(lang, "docs.intro"), "Empty": word(lang, "home.nocurrent"),
		"Groups": groups(snap.docs, st, func(k Kind) bool { return k != Notice })}}
}

// renderPage executes the page's body and the layout around it.
func (s *Site) renderPage(sp pageSpec) ([]byte, error) {
	lang, data := sp.lang, sp.data
	data["Lang"] = lang
	data["W"] = func(key string) string { return word(lang, key) }
	if sp.name == "home" {
		data["About"] = s.opts.About[lang]
	}
	var b bytes.Buffer
	if err := sp.body.Execute(&b, wordsData(data)); err != nil {
		return nil, err
	}
	p := page{Lang: lang, Page: sp.name, Title: sp.title, Publisher: s.opts.Publisher, Contact: s.opts.Contact, Body: template.HTML(b.String())}
	for _, l := range Languages {
		p.Alternates = append(p.Alternates, alternate{Lang: l, Name: word(l, "lang.name"), Href: "/" + l + sp.path})
	}
	var out bytes.Buffer
	if err := layout.Execute(&out, p); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// wordsData lets templates call .W "key" on a map.
type wordsData map[string]any

func (d wordsData) W(key string) string { return d["W"].(func(string) string)(key) }
