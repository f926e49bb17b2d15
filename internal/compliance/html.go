package compliance

import (
	"encoding/json"
	"html/template"
	"io"
	"strings"
	"time"
)

var page = template.Must(template.New("report").Funcs(template.FuncMap{
	"when": func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 UTC") },
	"day":  func(t *time.Time) string { return t.UTC().Format(time.DateOnly) },
	"join": func(s []string) string { return strings.Join(s, ", ") },
	"css":  func(b []byte) template.CSS { return template.CSS(b) },
}).Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Compliance self-audit – {{.R.Installation}}</title>
<style>{{css .CSS}}
.verdict-pass { color: #17692c; font-weight: 700; }
.verdict-fail { color: #a4161a; font-weight: 700; }
.verdict-to-confirm { color: #7a5200; font-weight: 700; }
td ul { margin: 0; padding-left: 1.1rem; }
li.failed { color: #a4161a; }
</style>
</head>
<body>
<header class="top"><div class="wrap"><p class="brand">{{.R.Installation}} <span>Compliance self-audit (COMP-1)</span></p></div></header>
<main id="content" class="wrap">
<h1>Self-audit of {{when .R.At}}: <span class="verdict-{{.R.Verdict}}" id="verdict">{{.R.Verdict}}</span></h1>
<p>{{.R.Passed}} clauses pass, {{.R.Failed}} fail, {{.R.Confirm}} to confirm with evidence. Sceau {{.R.Version}}{{if .R.By}}, run by {{.R.By}}{{end}}{{if .R.Archived}}; archived as item {{.R.Archived}} (COMP-2){{end}}.</p>
<table>
<thead><tr><th scope="col">Clause</th><th scope="col">Requirements</th><th scope="col">Verdict</th><th scope="col">Findings and evidence</th></tr></thead>
<tbody>
{{range .R.Clauses}}<tr id="clause-{{.ID}}">
<td>{{.Title}}<br><small>{{.ID}}</small></td>
<td>{{join .Cites}}</td>
<td class="verdict-{{.Verdict}}">{{.Verdict}}{{if .FollowUp}}<br><small>put right by {{day .FollowUp}}</small>{{end}}</td>
<td><ul>{{range .Findings}}<li{{if .Failed}} class="failed"{{end}}>{{.Message}}</li>{{end}}
{{if .Wanted}}<li>Evidence wanted: {{.Wanted}}</li>{{end}}
{{range .Evidence}}<li>Recorded {{when .RecordedAt}}: archive item {{.Item}} (SHA-256 {{.SHA256}}){{if .Note}}: {{.Note}}{{end}}</li>{{else}}{{if .Wanted}}<li>No evidence recorded yet.</li>{{end}}{{end}}</ul></td>
</tr>
{{end}}</tbody>
</table>
</main>
</body>
</html>
`))

// WriteHTML renders r as a page in the public site's look; css is the
// site's stylesheet, put inline so the file stands alone.
func WriteHTML(w io.Writer, r *Report, css []byte) error {
	return page.Execute(w, struct {
		R   *Report
		CSS []byte
	}{r, css})
}

func writeJSON(w io.Writer, r *Report) {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(r)
}
