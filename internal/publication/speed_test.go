package publication_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/sceau/sceau/internal/publication"
	"github.com/sceau/sceau/internal/sceautest"
)

// siteWithBaseURL is the fixture's site as a node serves it: with its
// public URL, every page rendered once per snapshot.
func siteWithBaseURL(f *fixture) *publication.Site {
	f.t.Helper()
	s := publication.NewSite(f.svc, f.src, f.pki, publication.SiteOptions{Publisher: "Sceau <Test> TSP", Clock: f.clock,
		BaseURL: "https://pki.example/"})
	if err := s.Refresh(context.Background()); err != nil {
		f.t.Fatal(err)
	}
	return s
}

func serve(h http.Handler, method, path string, header ...string) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(method, path, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	h.ServeHTTP(rec, req)
	return rec
}

// PUB-1, PUB-3 (issue 14 "Speed"): the pages are rendered with the
// snapshot, not per request, and follow it: what a change shows appears at
// the next refresh, and a refresh that changes nothing keeps the pages.
func TestPUB1_PagesAreRenderedWithTheSnapshot(t *testing.T) {
	f := newFixture(t, sceautest.OpenSQLite(t))
	site := siteWithBaseURL(f)
	h := site.Handler()

	home := serve(h, http.MethodGet, "/fr/")
	if home.Code != http.StatusOK || !strings.Contains(home.Body.String(), "sceau publication verify https://pki.example/</code>") {
		t.Fatalf("home: %d, the verification command does not name the base URL:\n%s", home.Code, home.Body.String())
	}
	// Without a base URL, the home page names the origin of the request.
	if b := f.get("/fr/").Body.String(); !strings.Contains(b, "sceau publication verify http://example.com/</code>") {
		t.Errorf("home without a base URL does not name the request's origin:\n%s", b)
	}

	for _, path := range []string{"/fr/", "/en/ca/root", "/en/documents", "/fr/notices"} {
		a, b := serve(h, http.MethodGet, path), serve(h, http.MethodGet, path)
		etag := a.Header().Get("ETag")
		if a.Code != http.StatusOK || etag == "" || etag != b.Header().Get("ETag") || a.Body.String() != b.Body.String() {
			t.Errorf("%s: %d, ETag %q then %q: want 200 and the same page", path, a.Code, etag, b.Header().Get("ETag"))
		}
		for k, want := range map[string]string{"Content-Type": "text/html; charset=utf-8", "Cache-Control": "public, max-age=10",
			"Content-Length": strconv.Itoa(a.Body.Len()), "Content-Language": path[1:3]} {
			if got := a.Header().Get(k); got != want {
				t.Errorf("%s: %s %q, want %q", path, k, got, want)
			}
		}
		if r := serve(h, http.MethodGet, path, "If-None-Match", etag); r.Code != http.StatusNotModified || r.Body.Len() != 0 {
			t.Errorf("%s with If-None-Match: %d, %d bytes; want 304, none", path, r.Code, r.Body.Len())
		}
		if r := serve(h, http.MethodHead, path); r.Code != http.StatusOK || r.Body.Len() != 0 || r.Header().Get("Content-Length") != strconv.Itoa(a.Body.Len()) {
			t.Errorf("HEAD %s: %d, %d bytes, Content-Length %q", path, r.Code, r.Body.Len(), r.Header().Get("Content-Length"))
		}
		if r := serve(h, http.MethodGet, path, "Range", "bytes=0-9"); r.Code != http.StatusPartialContent || r.Body.String() != a.Body.String()[:10] {
			t.Errorf("%s with Range: %d %q", path, r.Code, r.Body.String())
		}
	}

	before := serve(h, http.MethodGet, "/en/ca/root").Header().Get("ETag")
	if err := site.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	if after := serve(h, http.MethodGet, "/en/ca/root").Header().Get("ETag"); after != before {
		t.Errorf("a refresh that changed nothing changed the page: ETag %s, was %s", after, before)
	}
	crl := *f.src.crl
	crl.Number, crl.DER = 8, []byte("a newer CRL stand-in")
	f.src.crl = &crl
	f.publish(cpMeta("1.0", "en"), []byte("v1\n"))
	if err := site.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	page := serve(h, http.MethodGet, "/en/ca/root")
	if page.Header().Get("ETag") == before || !strings.Contains(page.Body.String(), "<dd>8</dd>") {
		t.Errorf("the CA page does not show the new CRL (number 8) after the refresh")
	}
	if !strings.Contains(serve(h, http.MethodGet, "/en/documents").Body.String(), "/documents/cp/1.2.250.1.999.1.1/1.0/en.txt") {
		t.Error("the documents page does not list the document published before the refresh")
	}
	if r := serve(h, http.MethodGet, "/en/ca/nope"); r.Code != http.StatusNotFound {
		t.Errorf("unknown CA: %d, want 404", r.Code)
	}

	// No template runs on the request path: a pre-rendered page costs a
	// small fraction of the allocations of one rendered per request (the
	// home page without a base URL).
	fallback := f.site.Handler()
	perRequest := testing.AllocsPerRun(20, func() { serve(fallback, http.MethodGet, "/fr/") })
	prerendered := testing.AllocsPerRun(20, func() { serve(h, http.MethodGet, "/fr/") })
	if prerendered*5 > perRequest {
		t.Errorf("a pre-rendered page takes %.0f allocations, one rendered per request %.0f: want under a fifth", prerendered, perRequest)
	}
	t.Logf("allocations per request: pre-rendered %.0f, rendered per request %.0f", prerendered, perRequest)
}

// BenchmarkSite serves the URLs 'sceau bench site' measures from the
// handler alone, without the network.
func BenchmarkSite(b *testing.B) {
	f := newFixture(b, sceautest.OpenSQLite(b))
	h := siteWithBaseURL(f).Handler()
	for _, path := range []string{"/fr/", "/en/ca/root", "/crl/root.crl", "/ca/root.der", "/manifest.json"} {
		b.Run(strings.ReplaceAll(strings.Trim(path, "/"), "/", "_"), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if r := serve(h, http.MethodGet, path); r.Code != http.StatusOK {
					b.Fatalf("%s: %d", path, r.Code)
				}
			}
		})
	}
}
