package publication

import (
	"context"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"

	"github.com/sceau/sceau/internal/sceau"
)

// Export writes the whole site into dir as static files that any web
// server or CDN can serve (PUB-1 mirrors): every file of the manifest, the
// manifest and its signature, and the pages in each language (as
// index.html of their directory). It refuses a dir that is not empty.
func (s *Site) Export(ctx context.Context, dir string) (int, error) {
	const op = "publication: export"
	if err := s.Refresh(ctx); err != nil {
		return 0, err
	}
	snap := s.cur.load()
	if snap.manifest == nil {
		return 0, sceau.Errorf(sceau.Unavailable, op, "no manifest is signed yet: a mirror without one cannot be verified")
	}
	if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
		return 0, sceau.Errorf(sceau.Conflict, op, "%s is not empty: export into a new directory", dir)
	}
	// The manifest's own copy: the snapshot's files may be newer than it
	// if the site changed meanwhile, so read what it lists.
	var m struct{ Files []Entry }
	if err := jsonUnmarshal(snap.manifest.Body, &m); err != nil {
		return 0, err
	}
	paths := []string{"/manifest.json", "/manifest.json.p7s", "/site.css"}
	for _, e := range m.Files {
		paths = append(paths, e.Path)
	}
	for _, lang := range Languages {
		paths = append(paths, "/"+lang+"/", "/"+lang+"/documents", "/"+lang+"/notices")
		for _, c := range snap.cas {
			paths = append(paths, "/"+lang+"/ca/"+c.ID)
		}
	}
	h := s.Handler()
	n := 0
	for _, p := range paths {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequestWithContext(ctx, http.MethodGet, p, nil))
		if rec.Code != http.StatusOK {
			return n, sceau.Errorf(sceau.Unavailable, op, "%s answered %d", p, rec.Code)
		}
		name := filepath.Join(dir, filepath.FromSlash(strings.TrimPrefix(p, "/")))
		if isPage(p) {
			name = filepath.Join(name, "index.html")
		}
		if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
			return n, sceau.E(sceau.Unavailable, op, "", err)
		}
		if err := os.WriteFile(name, rec.Body.Bytes(), 0o644); err != nil {
			return n, sceau.E(sceau.Unavailable, op, "", err)
		}
		n++
	}
	return n, nil
}

// isPage tells whether a path is one of the HTML pages, which the
// manifest does not list: they are views of the files it lists.
func isPage(p string) bool {
	for _, lang := range Languages {
		if p == "/"+lang || strings.HasPrefix(p, "/"+lang+"/") {
			return true
		}
	}
	return false
}

// DirFetcher reads a copy written by Export.
type DirFetcher string

// Fetch reads path under the directory.
func (d DirFetcher) Fetch(_ context.Context, path string) ([]byte, error) {
	clean := filepath.Clean("/" + path)
	b, err := os.ReadFile(filepath.Join(string(d), filepath.FromSlash(clean)))
	if os.IsNotExist(err) {
		return nil, sceau.Errorf(sceau.NotFound, "publication: verify", "%s is missing", path)
	}
	if err != nil {
		return nil, sceau.E(sceau.Unavailable, "publication: verify", "", err)
	}
	return b, nil
}

// List returns every file under the directory as a site path.
func (d DirFetcher) List(_ context.Context) ([]string, error) {
	var out []string
	err := filepath.WalkDir(string(d), func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		rel, err := filepath.Rel(string(d), p)
		if err != nil {
			return err
		}
		site := "/" + filepath.ToSlash(rel)
		if strings.HasSuffix(site, "/index.html") {
			site = strings.TrimSuffix(site, "index.html")
		}
		out = append(out, site)
		return nil
	})
	if err != nil {
		return nil, sceau.E(sceau.Unavailable, "publication: verify", "", err)
	}
	return out, nil
}
