package publication

import (
	"bytes"
	"net/http"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/sceau/sceau/internal/sceau"
)

// Kind is what a document is.
type Kind string

// The kinds of document the site publishes (PUB-1).
const (
	CP     Kind = "cp"     // certificate policy; its identifier is its OID
	CPS    Kind = "cps"    // certification practice statement
	CGU    Kind = "cgu"    // terms of use (conditions générales d'utilisation)
	PDS    Kind = "pds"    // PKI disclosure statement (EN 319 411-1 §6.1), named by QcPDS (EN 319 412-5 §4.3.4)
	Form   Kind = "form"   // a form applicants fill in
	Notice Kind = "notice" // an incident or information notice
	Other  Kind = "other"
)

// Kinds lists every kind, in the order the documents page shows them.
var Kinds = []Kind{CP, CPS, PDS, CGU, Form, Notice, Other}

// Languages are the languages a document version may be in; the site is
// in both.
var Languages = []string{"fr", "en"}

// The media types a document may have, with the extension of its URL.
var mediaTypes = map[string]string{
	"application/pdf": ".pdf",
	"text/html":       ".html",
	"text/plain":      ".txt",
}

// DefaultMaxSize bounds a document file.
const DefaultMaxSize = 20 << 20

// Meta describes one version of a document.
type Meta struct {
	Kind        Kind      `json:"kind"`
	Ident       string    `json:"ident"`   // for a CP its OID; otherwise a short name
	Version     string    `json:"version"` // "1.0", "2027-01"
	Lang        string    `json:"lang"`    // fr, en
	Title       string    `json:"title"`   // plain text, shown escaped
	EffectiveAt time.Time `json:"effective_at"`
	MediaType   string    `json:"media_type"`
}

// Document is a published version.
type Document struct {
	Meta
	ID          string     `json:"id"` // kind/ident/version/lang
	SHA256      string     `json:"sha256"`
	Size        int64      `json:"size"`
	PublishedAt time.Time  `json:"published_at"`
	PublishedBy string     `json:"published_by"`
	Approval    string     `json:"approval"`
	WithdrawnAt *time.Time `json:"withdrawn_at,omitempty"`
	WithdrawnBy string     `json:"withdrawn_by,omitempty"`
	Reason      string     `json:"withdrawn_reason,omitempty"`
	Withdrawal  string     `json:"withdrawal,omitempty"`
}

// Withdrawn tells whether the version was withdrawn.
func (d *Document) Withdrawn() bool { return d.WithdrawnAt != nil }

// Path is the version's stable URL path on the site.
func (d *Document) Path() string { return DocumentPath(d.ID, d.MediaType) }

// DocumentPath is the URL path of the version id with its media type.
func DocumentPath(id, mediaType string) string {
	return "/documents/" + id + mediaTypes[mediaType]
}

// DocumentID is the identifier of a version: its four coordinates.
func DocumentID(m Meta) string {
	return string(m.Kind) + "/" + m.Ident + "/" + m.Version + "/" + m.Lang
}

// component is what an identifier or a version may hold: it goes into
// URLs and file names, so no slash, no leading dot and no "..".
var component = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

const maxTitle = 200

// Check refuses metadata that cannot be published, naming the field.
func (m *Meta) Check() error {
	const op = "publication: document"
	if !validKind(m.Kind) {
		return sceau.Errorf(sceau.Invalid, op, "unknown kind %q: use one of %s", clip(string(m.Kind)), kindList())
	}
	for _, f := range []struct{ name, v string }{{"identifier", m.Ident}, {"version", m.Version}} {
		if !component.MatchString(f.v) || strings.Contains(f.v, "..") {
			return sceau.Errorf(sceau.Invalid, op, "the %s %q is not 1 to 64 letters, digits, '.', '_' or '-' starting with a letter or digit (no '/', no '..')",
				f.name, clip(f.v))
		}
	}
	if m.Kind == CP && !isOID(m.Ident) {
		return sceau.Errorf(sceau.Invalid, op, "a CP is identified by its OID (such as 1.2.250.1.999.1.1), not %q", clip(m.Ident))
	}
	if !validLang(m.Lang) {
		return sceau.Errorf(sceau.Invalid, op, "language %q is not one of %s", clip(m.Lang), strings.Join(Languages, ", "))
	}
	t := strings.TrimSpace(m.Title)
	if t == "" {
		return sceau.Errorf(sceau.Invalid, op, "the title is empty")
	}
	if utf8.RuneCountInString(t) > maxTitle || !utf8.ValidString(t) || strings.IndexFunc(t, unicode.IsControl) >= 0 {
		return sceau.Errorf(sceau.Invalid, op, "the title is not one line of at most %d characters of text", maxTitle)
	}
	m.Title = t
	if m.EffectiveAt.IsZero() {
		return sceau.Errorf(sceau.Invalid, op, "the effective date is missing")
	}
	m.EffectiveAt = m.EffectiveAt.UTC()
	if _, ok := mediaTypes[m.MediaType]; !ok {
		return sceau.Errorf(sceau.Invalid, op, "media type %q is not one of application/pdf, text/html, text/plain", clip(m.MediaType))
	}
	return nil
}

// CheckContent refuses a file that is empty, too large, or not of the
// declared media type.
func CheckContent(mediaType string, content []byte, maxSize int64) error {
	const op = "publication: document"
	if maxSize <= 0 {
		maxSize = DefaultMaxSize
	}
	switch {
	case len(content) == 0:
		return sceau.Errorf(sceau.Invalid, op, "the file is empty")
	case int64(len(content)) > maxSize:
		return sceau.Errorf(sceau.Invalid, op, "the file is %d bytes, more than the %d allowed (publication.max_document_bytes)", len(content), maxSize)
	}
	if got := Sniff(content); got != mediaType {
		return sceau.Errorf(sceau.Invalid, op, "the file is declared %s but its content is %s", mediaType, got)
	}
	return nil
}

// Sniff says which of the accepted media types content is, or what else
// it looks like.
func Sniff(content []byte) string {
	if bytes.HasPrefix(content, []byte("%PDF-")) {
		return "application/pdf"
	}
	detected, _, _ := strings.Cut(http.DetectContentType(content), ";")
	switch detected {
	case "text/html":
		return "text/html"
	case "text/plain":
		if utf8.Valid(content) && bytes.IndexByte(content, 0) < 0 {
			return "text/plain"
		}
		return "text in an encoding other than UTF-8"
	}
	return detected
}

// MediaTypeOf infers a media type from a file name's extension.
func MediaTypeOf(name string) (string, bool) {
	lower := strings.ToLower(name)
	for mt, ext := range mediaTypes {
		if strings.HasSuffix(lower, ext) || (ext == ".html" && strings.HasSuffix(lower, ".htm")) {
			return mt, true
		}
	}
	return "", false
}

func validKind(k Kind) bool {
	for _, x := range Kinds {
		if x == k {
			return true
		}
	}
	return false
}

func kindList() string {
	s := make([]string, len(Kinds))
	for i, k := range Kinds {
		s[i] = string(k)
	}
	return strings.Join(s, ", ")
}

func validLang(l string) bool {
	for _, x := range Languages {
		if x == l {
			return true
		}
	}
	return false
}

var oid = regexp.MustCompile(`^[0-2](\.(0|[1-9][0-9]{0,9}))+$`)

func isOID(s string) bool { return oid.MatchString(s) }

// clip bounds a value quoted in an error.
func clip(s string) string {
	if len(s) > 80 {
		s = s[:80] + "…"
	}
	return strings.ToValidUTF8(s, "?")
}
