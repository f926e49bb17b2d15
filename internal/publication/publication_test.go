package publication_test

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sceau/sceau/internal/access"
	"github.com/sceau/sceau/internal/audit"
	"github.com/sceau/sceau/internal/publication"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/sceautest"
	"github.com/sceau/sceau/internal/store"
)

// PUB-4, ROLE-3: a version is published only after two other people
// approve; it is then on the site at its path, and the journal names the
// requester and both approvers.
func TestPUB4_DocumentIsPublishedUnderDualControl(t *testing.T) {
	sceautest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		content := []byte("Politique de certification, version 1.0.\n")
		m := cpMeta("1.0", "fr")
		sum, err := f.svc.Store(ctx, admin1.Actor(access.ApplicationAdministrator), m.MediaType, content)
		if err != nil {
			t.Fatal(err)
		}
		ch, err := publication.AddChange(m, sum)
		if err != nil {
			t.Fatal(err)
		}
		// A Registration Officer may not request it; the requester may not approve it.
		if _, err := f.acc.RequestPublicationChange(ctx, reg1, ch.Document, ch); sceau.KindOf(err) != sceau.Denied {
			t.Fatalf("a Registration Officer requests a publication: %v, want Denied", err)
		}
		if err := access.MayChangePublication(reg1); sceau.KindOf(err) != sceau.Denied {
			t.Fatalf("a Registration Officer stores a file: %v, want Denied", err)
		}
		req, err := f.acc.RequestPublicationChange(ctx, admin1, ch.Document, ch)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.acc.Approvals().Approve(ctx, admin1, req.ID); sceau.KindOf(err) != sceau.Denied {
			t.Fatalf("the requester approves: %v, want Denied", err)
		}
		f.approve(req.ID, so1)
		f.refresh()
		if rec := f.get("/documents/cp/1.2.250.1.999.1.1/1.0/fr.txt"); rec.Code != http.StatusNotFound {
			t.Fatalf("after one approval the version is served: %d", rec.Code)
		}
		if got := f.approve(req.ID, admin2); got.Status != access.StatusExecuted {
			t.Fatalf("after two approvals: %s (%s)", got.Status, got.Result)
		}
		start := time.Now()
		f.refresh() // what Run does every publication.refresh (500ms)
		rec := f.get("/documents/cp/1.2.250.1.999.1.1/1.0/fr.txt")
		if rec.Code != http.StatusOK || rec.Body.String() != string(content) {
			t.Fatalf("published version: %d %q", rec.Code, rec.Body.String())
		}
		if d := time.Since(start); d > time.Second {
			t.Errorf("the version took %s to be served, more than a second", d)
		}
		var executed string
		seen := map[string]bool{}
		for _, e := range f.events() {
			seen[e[0]] = true
			if e[0] == "approval.executed" {
				executed = e[1]
			}
		}
		for _, a := range []string{audit.ActionPublicationFileStored, audit.ActionPublicationPublished} {
			if !seen[a] {
				t.Errorf("no %s event", a)
			}
		}
		if !strings.Contains(executed, `"so1"`) || !strings.Contains(executed, `"admin2"`) {
			t.Fatalf("approval.executed does not name both approvers: %s", executed)
		}
		d, err := f.svc.Document(ctx, ch.Document)
		if err != nil || d.PublishedBy != "admin1 (application_administrator)" && !strings.HasPrefix(d.PublishedBy, "admin1") || d.Approval != req.ID {
			t.Fatalf("document record: %+v, %v", d, err)
		}
	})
}

// PUB-1: bad input gets a precise error and changes nothing.
func TestPUB1_BadDocumentsAreRefusedAndChangeNothing(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, sceautest.OpenSQLite(t))
	actor := admin1.Actor(access.ApplicationAdministrator)
	for _, c := range []struct {
		name, mediaType string
		content         []byte
		want            string
	}{
		{"empty", "text/plain", nil, "empty"},
		{"oversized", "text/plain", []byte(strings.Repeat("a", 65<<10)), "more than"},
		{"pdf that is text", "application/pdf", []byte("not a PDF at all"), "declared application/pdf but its content is text/plain"},
		{"html that is a pdf", "text/html", []byte("%PDF-1.7 …"), "content is application/pdf"},
		{"unknown type", "application/x-msdownload", []byte("MZ"), "not one of"},
		{"latin-1 text", "text/plain", []byte("caf\xe9 cr\xe8me"), "other than UTF-8"},
	} {
		if _, err := f.svc.Store(ctx, actor, c.mediaType, c.content); sceau.KindOf(err) != sceau.Invalid || !strings.Contains(sceau.Message(err), c.want) {
			t.Errorf("%s: %v, want Invalid saying %q", c.name, err, c.want)
		}
	}
	sum, err := f.svc.Store(ctx, actor, "text/plain", []byte("CGU\n"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		m    publication.Meta
		want string
	}{
		{"path trick", publication.Meta{Kind: "cgu", Ident: "../../etc", Version: "1", Lang: "fr", Title: "x", EffectiveAt: time.Now(), MediaType: "text/plain"}, "no '/'"},
		{"dot dot", publication.Meta{Kind: "cgu", Ident: "a..b", Version: "1", Lang: "fr", Title: "x", EffectiveAt: time.Now(), MediaType: "text/plain"}, "'..'"},
		{"CP without OID", publication.Meta{Kind: "cp", Ident: "ma-pc", Version: "1", Lang: "fr", Title: "x", EffectiveAt: time.Now(), MediaType: "text/plain"}, "OID"},
		{"unknown kind", publication.Meta{Kind: "blog", Ident: "a", Version: "1", Lang: "fr", Title: "x", EffectiveAt: time.Now(), MediaType: "text/plain"}, "unknown kind"},
		{"unknown language", publication.Meta{Kind: "cgu", Ident: "a", Version: "1", Lang: "de", Title: "x", EffectiveAt: time.Now(), MediaType: "text/plain"}, "language"},
		{"no date", publication.Meta{Kind: "cgu", Ident: "a", Version: "1", Lang: "fr", Title: "x", MediaType: "text/plain"}, "effective date"},
		{"title on two lines", publication.Meta{Kind: "cgu", Ident: "a", Version: "1", Lang: "fr", Title: "a\nb", EffectiveAt: time.Now(), MediaType: "text/plain"}, "one line"},
	} {
		if _, err := publication.AddChange(c.m, sum); sceau.KindOf(err) != sceau.Invalid || !strings.Contains(sceau.Message(err), c.want) {
			t.Errorf("%s: %v, want Invalid saying %q", c.name, err, c.want)
		}
	}
	// A declared type other than the stored file's, a file never stored.
	m := publication.Meta{Kind: "cgu", Ident: "cgu", Version: "1.0", Lang: "fr", Title: "CGU", EffectiveAt: time.Now(), MediaType: "text/html"}
	ch, _ := publication.AddChange(m, sum)
	if _, err := f.acc.RequestPublicationChange(ctx, admin1, ch.Document, ch); sceau.KindOf(err) != sceau.Invalid {
		t.Errorf("a text file declared HTML: %v, want Invalid", err)
	}
	m.MediaType = "text/plain"
	ch, _ = publication.AddChange(m, strings.Repeat("0", 64))
	if _, err := f.acc.RequestPublicationChange(ctx, admin1, ch.Document, ch); sceau.KindOf(err) != sceau.NotFound {
		t.Errorf("a file never stored: %v, want NotFound", err)
	}
	// A withdrawal of something never published.
	wd, _ := publication.WithdrawChange("cgu/none/1/fr", "typo")
	if _, err := f.acc.RequestPublicationChange(ctx, admin1, wd.Document, wd); sceau.KindOf(err) != sceau.NotFound {
		t.Errorf("withdrawing a version never published: %v, want NotFound", err)
	}
	// A duplicate version, once the first is published.
	f.publish(cpMeta("1.0", "fr"), []byte("v1\n"))
	sum2, _ := f.svc.Store(ctx, actor, "text/plain", []byte("v1 bis\n"))
	dup, _ := publication.AddChange(cpMeta("1.0", "fr"), sum2)
	if _, err := f.acc.RequestPublicationChange(ctx, admin1, dup.Document, dup); sceau.KindOf(err) != sceau.Conflict {
		t.Errorf("a duplicate version: %v, want Conflict", err)
	}
	docs, err := f.svc.Documents(ctx)
	if err != nil || len(docs) != 1 {
		t.Fatalf("documents after the refusals: %d, %v", len(docs), err)
	}
}

// PUB-1: HTML in a title is shown as text, never run.
func TestPUB1_TitleIsEscaped(t *testing.T) {
	f := newFixture(t, sceautest.OpenSQLite(t))
	m := cpMeta("2.0", "en")
	m.Title = `<script>alert("x")</script> & <b>bold</b>`
	f.publish(m, []byte("text\n"))
	f.refresh()
	body := f.get("/en/documents").Body.String()
	if strings.Contains(body, "<script>") || strings.Contains(body, "<b>bold") {
		t.Fatal("the title's HTML reached the page unescaped")
	}
	if !strings.Contains(body, "&lt;script&gt;") {
		t.Fatal("the escaped title is not on the page")
	}
}

// PUB-1: a published version never changes and never leaves: the database
// refuses an update of its content and any deletion; a withdrawal keeps
// it listed, marked withdrawn, and downloadable.
func TestPUB1_PublishedVersionIsImmutableAndWithdrawnStaysListed(t *testing.T) {
	sceautest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		f.publish(cpMeta("1.0", "fr"), []byte("version 1\n"))
		id := "cp/1.2.250.1.999.1.1/1.0/fr"
		for _, q := range []string{
			`UPDATE publication_documents SET title = 'changed' WHERE id = ?`,
			`UPDATE publication_documents SET sha256 = 'x' WHERE id = ?`,
			`DELETE FROM publication_documents WHERE id = ?`,
		} {
			if _, err := db.ExecContext(ctx, q, id); err == nil {
				t.Errorf("%s: accepted", q)
			}
		}
		if _, err := db.ExecContext(ctx, `UPDATE publication_files SET content = ?`, []byte("other")); err == nil {
			t.Error("a stored file was changed")
		}
		if _, err := db.ExecContext(ctx, `DELETE FROM publication_files`); err == nil {
			t.Error("a stored file was deleted")
		}
		wd, err := publication.WithdrawChange(id, "replaced by 1.1")
		if err != nil {
			t.Fatal(err)
		}
		req, err := f.acc.RequestPublicationChange(ctx, admin1, wd.Document, wd)
		if err != nil {
			t.Fatal(err)
		}
		f.approve(req.ID, so1, admin2)
		f.refresh()
		page := f.get("/fr/documents").Body.String()
		if !strings.Contains(page, "retirée") || !strings.Contains(page, "replaced by 1.1") {
			t.Fatal("the withdrawn version is not marked withdrawn with its reason")
		}
		if rec := f.get("/documents/" + id + ".txt"); rec.Code != http.StatusOK || rec.Body.String() != "version 1\n" {
			t.Fatalf("the withdrawn version is not downloadable: %d", rec.Code)
		}
		withdrawn := false
		for _, e := range f.events() {
			withdrawn = withdrawn || e[0] == audit.ActionPublicationWithdrawn && strings.Contains(e[1], "replaced by 1.1")
		}
		if !withdrawn {
			t.Error("no publication.withdrawn event with the reason")
		}
		again, _ := publication.WithdrawChange(id, "twice")
		if _, err := f.acc.RequestPublicationChange(ctx, admin1, again.Document, again); sceau.KindOf(err) != sceau.Conflict {
			t.Fatalf("a second withdrawal: %v, want Conflict", err)
		}
	})
}

// PUB-2: the manifest lists every file; openssl cms -verify accepts its
// signature with the root, and refuses it after one byte of the manifest
// changes; Verify finds a changed, a missing and an extra file.
func TestPUB2_ManifestIsSignedAndEveryFileChecks(t *testing.T) {
	sceautest.NeedOpenSSL(t)
	ctx := context.Background()
	f := newFixture(t, sceautest.OpenSQLite(t))
	f.publish(cpMeta("1.0", "fr"), []byte("version 1\n"))
	f.refresh()
	body, sig := f.get("/manifest.json").Body.Bytes(), f.get("/manifest.json.p7s").Body.Bytes()
	var m publication.Manifest
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatal(err)
	}
	paths := map[string]bool{}
	for _, e := range m.Files {
		paths[e.Path] = true
	}
	for _, p := range []string{"/ca/root.der", "/ca/root.pem", "/crl/root.crl", "/documents/cp/1.2.250.1.999.1.1/1.0/fr.txt"} {
		if !paths[p] {
			t.Errorf("the manifest does not list %s", p)
		}
	}
	if m.Number < 2 || m.PreviousSHA256 == "" {
		t.Errorf("manifest %d, previous %q: each change makes a new manifest chained to the last", m.Number, m.PreviousSHA256)
	}
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	root := write("root.pem", pemCert(f.pki.root.Raw))
	verify := func(content []byte) error {
		return exec.Command("openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in", write("m.p7s", sig),
			"-content", write("m.json", content), "-CAfile", root, "-purpose", "any", "-out", os.DevNull).Run()
	}
	if err := verify(body); err != nil {
		t.Fatalf("openssl cms -verify refuses the manifest: %v", err)
	}
	tampered := append([]byte(nil), body...)
	tampered[len(tampered)/2] ^= 1
	if err := verify(tampered); err == nil {
		t.Fatal("openssl cms -verify accepts a changed manifest")
	}

	// A mirror: exported, verified, then damaged.
	mirror := filepath.Join(t.TempDir(), "site")
	if _, err := f.site.Export(ctx, mirror); err != nil {
		t.Fatal(err)
	}
	r, err := publication.Verify(ctx, publication.DirFetcher(mirror), f.pki.roots())
	if err != nil || !r.OK() || r.Checked != len(m.Files) {
		t.Fatalf("the fresh mirror: %+v, %v", r, err)
	}
	os.WriteFile(filepath.Join(mirror, "ca", "root.pem"), []byte("swapped"), 0o644)
	os.Remove(filepath.Join(mirror, "crl", "root.crl"))
	os.WriteFile(filepath.Join(mirror, "ca", "evil.der"), []byte("extra"), 0o644)
	r, err = publication.Verify(ctx, publication.DirFetcher(mirror), f.pki.roots())
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(r.Changed, ",") != "/ca/root.pem" || strings.Join(r.Missing, ",") != "/crl/root.crl" || strings.Join(r.Extra, ",") != "/ca/evil.der" {
		t.Fatalf("damaged mirror: changed %v, missing %v, extra %v", r.Changed, r.Missing, r.Extra)
	}
	os.WriteFile(filepath.Join(mirror, "manifest.json"), tampered, 0o644)
	if _, err := publication.Verify(ctx, publication.DirFetcher(mirror), f.pki.roots()); sceau.KindOf(err) != sceau.Invalid {
		t.Fatalf("a changed manifest: %v, want Invalid", err)
	}
}

// PUB-3: a CRL reaching its nextUpdate with no newer one makes the site
// stale: Health says why (/healthz answers 503 with it), the journal holds
// one publication.stale event, and publication.fresh once a new CRL is in.
func TestPUB3_CRLNearItsNextUpdateMakesTheSiteStale(t *testing.T) {
	f := newFixture(t, sceautest.OpenSQLite(t))
	if err := f.site.Health(); err != nil {
		t.Fatalf("fresh site: %v", err)
	}
	f.clock.Advance(22*time.Hour + 30*time.Minute) // 30 min before nextUpdate, within the 1h margin
	f.refresh()
	f.refresh()
	err := f.site.Health()
	if sceau.KindOf(err) != sceau.Unavailable || !strings.Contains(sceau.Message(err), "CRL of CA root") {
		t.Fatalf("Health: %v, want Unavailable naming the CRL", err)
	}
	if left := f.site.CRLSecondsLeft()["root"]; left != 1800 {
		t.Errorf("seconds until nextUpdate: %v, want 1800", left)
	}
	f.src.crl = &publication.CRL{Number: 8, ThisUpdate: f.clock.Now(), NextUpdate: f.clock.Now().Add(24 * time.Hour), DER: []byte("newer")}
	f.refresh()
	if err := f.site.Health(); err != nil {
		t.Fatalf("after a new CRL: %v", err)
	}
	var stale, fresh int
	for _, e := range f.events() {
		switch e[0] {
		case "publication.stale":
			stale++
		case "publication.fresh":
			fresh++
		}
	}
	if stale != 1 || fresh != 1 {
		t.Fatalf("journal: %d stale, %d fresh events, want 1 and 1", stale, fresh)
	}
}

// PUB-3: a manifest that cannot be signed makes the site stale after the
// grace, not at once.
func TestPUB3_UnsignedChangeMakesTheSiteStaleAfterTheGrace(t *testing.T) {
	f := newFixture(t, sceautest.OpenSQLite(t))
	f.pki.fail = true
	f.src.crl = &publication.CRL{Number: 8, ThisUpdate: f.clock.Now(), NextUpdate: f.clock.Now().Add(24 * time.Hour), DER: []byte("newer")}
	f.refresh()
	if err := f.site.Health(); err != nil {
		t.Fatalf("within the grace: %v", err)
	}
	f.clock.Advance(2 * time.Minute)
	f.refresh()
	if err := f.site.Health(); sceau.KindOf(err) != sceau.Unavailable || !strings.Contains(sceau.Message(err), "manifest") {
		t.Fatalf("after the grace: %v, want Unavailable naming the manifest", err)
	}
}

// PUB-1: files carry the headers a CDN caches by, and conditional requests
// get 304; pages are in the language asked for, with their lang attribute.
func TestPUB1_CachingHeadersAndLanguages(t *testing.T) {
	f := newFixture(t, sceautest.OpenSQLite(t))
	f.publish(cpMeta("1.0", "en"), []byte("v1\n"))
	f.refresh()
	rec := f.get("/crl/root.crl")
	h := rec.Header()
	if h.Get("Content-Type") != "application/pkix-crl" || h.Get("ETag") == "" || h.Get("Last-Modified") == "" ||
		h.Get("Expires") != f.src.crl.NextUpdate.UTC().Format(http.TimeFormat) || !strings.Contains(h.Get("Cache-Control"), "max-age=") {
		t.Fatalf("CRL headers: %v", h)
	}
	if again := f.get("/crl/root.crl", "If-None-Match", h.Get("ETag")); again.Code != http.StatusNotModified {
		t.Fatalf("If-None-Match: %d, want 304", again.Code)
	}
	doc := f.get("/documents/cp/1.2.250.1.999.1.1/1.0/en.txt")
	if !strings.Contains(doc.Header().Get("Cache-Control"), "immutable") {
		t.Errorf("document Cache-Control: %q", doc.Header().Get("Cache-Control"))
	}
	sha := strings.Trim(doc.Header().Get("ETag"), `"`)
	if by := f.get("/sha256/" + sha); by.Code != http.StatusOK || by.Body.String() != "v1\n" {
		t.Errorf("/sha256/%s: %d", sha, by.Code)
	}
	if r := f.get("/", "Accept-Language", "de-DE, fr-FR;q=0.8, en;q=0.5"); r.Code != http.StatusFound || r.Header().Get("Location") != "/fr/" {
		t.Errorf("negotiation: %d to %q, want /fr/", r.Code, r.Header().Get("Location"))
	}
	for _, lang := range publication.Languages {
		for _, p := range []string{"/", "/documents", "/notices", "/ca/root"} {
			r := f.get("/" + lang + p)
			if r.Code != http.StatusOK || !strings.Contains(r.Body.String(), `<html lang="`+lang+`">`) {
				t.Errorf("/%s%s: %d, lang attribute missing", lang, p, r.Code)
			}
		}
	}
	if r := f.get("/en/ca/root"); !strings.Contains(r.Body.String(), strings.ToUpper(sha256Colons(f.pki.root.Raw))) {
		t.Error("the CA page does not show the certificate's SHA-256 fingerprint")
	}
	if r := f.get("/en/ca/nope"); r.Code != http.StatusNotFound {
		t.Errorf("unknown CA page: %d", r.Code)
	}
}

// PUB-1: the CPS URI that profiles put in certificates (BaseURL/cps) and
// the QcPDS URLs (BaseURL/pds/{lang}) lead to the version in force, or to
// the documents page while none is.
func TestPUB1_PolicyURIsInCertificatesLeadToTheVersionInForce(t *testing.T) {
	f := newFixture(t, sceautest.OpenSQLite(t))
	f.refresh()
	if r := f.get("/cps", "Accept-Language", "en"); r.Code != http.StatusFound || r.Header().Get("Location") != "/en/documents" {
		t.Fatalf("/cps with no CPS: %d to %q, want /en/documents", r.Code, r.Header().Get("Location"))
	}
	for _, lang := range []string{"fr", "en"} {
		m := cpMeta("1.0", lang)
		m.Kind, m.Ident = publication.CPS, "dpc"
		f.publish(m, []byte("cps "+lang+"\n"))
	}
	f.refresh()
	for _, lang := range []string{"fr", "en"} {
		r := f.get("/cps", "Accept-Language", lang)
		if want := "/documents/cps/dpc/1.0/" + lang + ".txt"; r.Code != http.StatusFound || r.Header().Get("Location") != want {
			t.Errorf("/cps in %s: %d to %q, want %s", lang, r.Code, r.Header().Get("Location"), want)
		}
	}
	if r := f.get("/cp", "Accept-Language", "fr"); r.Header().Get("Location") != "/fr/documents" {
		t.Errorf("/cp with no CP: to %q, want /fr/documents", r.Header().Get("Location"))
	}
	// QcPDS (EN 319 412-5 §4.3.4) names one URL per language: /pds/fr
	// leads to the French PDS whatever the reader's Accept-Language.
	m := cpMeta("1.0", "fr")
	m.Kind, m.Ident = publication.PDS, "pds"
	f.publish(m, []byte("pds fr\n"))
	f.refresh()
	if r := f.get("/pds/fr", "Accept-Language", "en"); r.Code != http.StatusFound || r.Header().Get("Location") != "/documents/pds/pds/1.0/fr.txt" {
		t.Errorf("/pds/fr: %d to %q", r.Code, r.Header().Get("Location"))
	}
	if r := f.get("/pds/en", "Accept-Language", "fr"); r.Header().Get("Location") != "/en/documents" {
		t.Errorf("/pds/en with only a French PDS: to %q, want /en/documents", r.Header().Get("Location"))
	}
}

// TestCA4_CGUInForceSeenAtOnceHereAndWithinTheTTLOnAnotherNode: the
// versions behind Standing are cached (issuance asks at every
// certificate); a withdrawal through this node is seen at once, and a
// node that read before it sees it within StandingTTL.
func TestCA4_CGUInForceSeenAtOnceHereAndWithinTheTTLOnAnotherNode(t *testing.T) {
	f := newFixture(t, sceautest.OpenSQLite(t))
	ctx := context.Background()
	m := publication.Meta{Kind: publication.CGU, Ident: "abonnes", Version: "1", Lang: "fr", Title: "CGU",
		EffectiveAt: time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC), MediaType: "text/plain"}
	f.publish(m, []byte("Conditions générales, version 1."))
	id := "cgu/abonnes/1/fr"
	other := publication.NewService(f.db, nil, publication.Options{Clock: f.clock})
	for _, s := range []*publication.Service{f.svc, other} {
		if _, st, err := s.Standing(ctx, id, f.clock.Now()); err != nil || st != "current" {
			t.Fatalf("before: %s %v", st, err)
		}
	}
	wd, err := publication.WithdrawChange(id, "replaced")
	if err != nil {
		t.Fatal(err)
	}
	req, err := f.acc.RequestPublicationChange(ctx, admin1, wd.Document, wd)
	if err != nil {
		t.Fatal(err)
	}
	f.approve(req.ID, so1, admin2)
	if _, st, err := f.svc.Standing(ctx, id, f.clock.Now()); err != nil || st != "withdrawn" {
		t.Fatalf("this node, just after the withdrawal: %s %v", st, err)
	}
	deadline := time.Now().Add(publication.StandingTTL + 500*time.Millisecond)
	for {
		_, st, err := other.Standing(ctx, id, f.clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		if st == "withdrawn" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the other node still says %s after %s", st, publication.StandingTTL)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
