package e2e

import (
	"bytes"
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/sceau/sceau/internal/sceautest"
)

// axeEnv names the axe.min.js of axe-core@4.14.1 (.ci/run sets it).
const axeEnv = "SCEAU_TEST_AXE"

// demoReady is the line 'sceau demo' prints once everything is up.
const demoReady = "The demo runs until Ctrl-C."

// siteLangs are the languages of the publication site (PUB-1).
var siteLangs = []string{"fr", "en"}

// viewports are the sizes each page is shown, screenshotted and checked at.
var viewports = []struct {
	name          string
	width, height int64
	mobile        bool
	scale         float64
}{
	{"desktop", 1280, 800, false, 1},
	{"phone", 390, 844, true, 2},
}

// TestPUB1_SiteInARealBrowser opens the publication site of a running demo
// in Chromium (PUB-1): every page in French and English, with its lang
// attribute and a language switch to the same page in the other language;
// every link works; the fingerprints on each CA page are those of the
// certificate served; axe-core finds no serious or critical accessibility
// violation at desktop and phone sizes. Screenshots of every page are kept in
// the test's artifact directory (go test -artifacts keeps it).
func TestPUB1_SiteInARealBrowser(t *testing.T) {
	chromium := sceautest.LookPath(t, "chromium", "apt-get install chromium")
	axe := axeScript(t)
	base := startDemo(t)
	shots := t.ArtifactDir()
	t.Logf("screenshots in %s (go test -artifacts -outputdir DIR keeps them)", shots)

	// PUB-1: / sends each reader to their language.
	for _, c := range []struct{ accept, want string }{
		{"fr-FR,fr;q=0.9,en;q=0.8", "/fr/"}, {"en-GB,en;q=0.9", "/en/"}, {"de", "/en/"}, {"de, fr;q=0.5", "/fr/"},
	} {
		req, _ := http.NewRequest(http.MethodGet, base+"/", nil)
		req.Header.Set("Accept-Language", c.accept)
		resp, err := noRedirect.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusFound || loc != c.want {
			t.Errorf("GET / with Accept-Language %q: %s to %q, want 302 to %q", c.accept, resp.Status, loc, c.want)
		}
	}

	ctx := newBrowser(t, chromium)
	c := &crawl{t: t, ctx: ctx, base: base, axe: axe, shots: shots, fetched: map[string]*fetched{}, visited: map[string]bool{}}
	c.checkRedirectInBrowser("fr-FR,fr;q=0.9", "/fr/")
	c.checkRedirectInBrowser("en-US,en;q=0.9", "/en/")
	c.run("/fr/", "/en/")
	c.checkAxeSeesAPlantedViolation("/en/")

	// Every page exists in both languages, and the crawl reached them all.
	bySuffix := map[string][]string{}
	for p := range c.visited {
		lang, rest := splitLang(p)
		bySuffix[rest] = append(bySuffix[rest], lang)
	}
	for rest, langs := range bySuffix {
		sort.Strings(langs)
		if !slices.Equal(langs, []string{"en", "fr"}) {
			t.Errorf("page %s is reachable in %v only", rest, langs)
		}
	}
	for _, want := range []string{"/", "/documents", "/notices", "/ca/root", "/ca/issuing"} {
		if _, ok := bySuffix[want]; !ok {
			t.Errorf("no link leads to the page {lang}%s (visited %v)", want, slices.Sorted(maps.Keys(c.visited)))
		}
	}
	// The demo publishes sample documents in both languages.
	for _, lang := range siteLangs {
		if c.documents[lang] == 0 {
			t.Errorf("/%s/documents lists no document; the demo publishes samples", lang)
		}
	}
	// The URIs certificates carry (the CPS pointer, QcPDS per language)
	// lead to a document version in force, which answers 200.
	for _, c := range []struct{ path, accept, prefix string }{
		{"/cps", "fr", "/documents/cps/"}, {"/cps", "en", "/documents/cps/"},
		{"/pds/fr", "en", "/documents/pds/pds/1.0/fr."}, {"/pds/en", "fr", "/documents/pds/pds/1.0/en."},
	} {
		req, _ := http.NewRequest(http.MethodGet, base+c.path, nil)
		req.Header.Set("Accept-Language", c.accept)
		resp, err := noRedirect.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		loc := resp.Header.Get("Location")
		if resp.StatusCode != http.StatusFound || !strings.HasPrefix(loc, c.prefix) {
			t.Errorf("GET %s (Accept-Language %s): %s to %q, want 302 to %s…", c.path, c.accept, resp.Status, loc, c.prefix)
			continue
		}
		if got, err := http.Get(base + loc); err != nil || got.StatusCode != http.StatusOK {
			t.Errorf("GET %s (from %s): %v %v", loc, c.path, got, err)
		} else {
			got.Body.Close()
		}
	}
	t.Logf("%d pages in the browser, %d links checked, documents listed: %v; axe-core %s ran %d times",
		len(c.visited), len(c.fetched), c.documents, c.axeVersion, c.axeRuns)
}

// noRedirect is a client that shows redirects instead of following them.
var noRedirect = &http.Client{
	Timeout:       20 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// axeScript returns the source of axe.min.js: from $SCEAU_TEST_AXE, else
// from the global npm root or a node_modules at the repository root.
func axeScript(t *testing.T) string {
	t.Helper()
	const hint = "npm install -g axe-core@4.14.1, or set " + axeEnv + " to its axe.min.js"
	if p := os.Getenv(axeEnv); p != "" {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatalf("%s=%s: %v", axeEnv, p, err)
		}
		return string(b)
	}
	var candidates []string
	if out, err := exec.Command("npm", "root", "-g").Output(); err == nil {
		candidates = append(candidates, filepath.Join(strings.TrimSpace(string(out)), "axe-core", "axe.min.js"))
	}
	if root, err := repoRoot(); err == nil {
		candidates = append(candidates, filepath.Join(root, "node_modules", "axe-core", "axe.min.js"))
	}
	for _, p := range candidates {
		if b, err := os.ReadFile(p); err == nil {
			return string(b)
		}
	}
	sceautest.Missing(t, "axe-core", hint)
	return ""
}

// startDemo runs 'sceau demo' in a temporary directory until the test ends
// and returns the base URL of its public listener, once its site has a
// signed manifest.
func startDemo(t *testing.T) string {
	t.Helper()
	addrs, err := freeAddrs(3)
	if err != nil {
		t.Fatal(err)
	}
	pub := addrs[0]
	out := &output{marker: demoReady, ready: make(chan struct{})}
	cmd := exec.Command(install.bin, "demo", "--dir", filepath.Join(t.TempDir(), "demo"), "--public", pub, "--admin", addrs[1], "--enroll", addrs[2])
	cmd.Dir = t.TempDir()
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start sceau demo: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case err := <-exited:
			if err != nil {
				t.Errorf("sceau demo after Ctrl-C: %v\n%s", err, out)
			}
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Signal(syscall.SIGKILL)
			<-exited
			t.Errorf("sceau demo did not stop within 30 s of Ctrl-C\n%s", out)
		}
	})
	select {
	case <-out.ready:
	case err := <-exited:
		exited <- err
		t.Fatalf("sceau demo exited before it was ready: %v\n%s", err, out)
	case <-time.After(3 * time.Minute):
		t.Fatalf("sceau demo not ready after 3 minutes\n%s", out)
	}
	base := "http://" + pub
	// The publication key is certified just after the demo is up: wait for
	// the first signed manifest, which every page links to.
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get(base + "/manifest.json.p7s")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return base
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the demo signed no manifest within 60 s (%v)\n%s", err, out)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// output collects a child process's output; when marker is set, ready
// closes once a line equal to marker has been written.
type output struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	marker string
	ready  chan struct{}
	seen   bool
}

func (o *output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.buf.Write(p)
	if o.marker != "" && !o.seen && bytes.Contains(o.buf.Bytes(), []byte("\n"+o.marker+"\n")) {
		o.seen = true
		close(o.ready)
	}
	return len(p), nil
}

func (o *output) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.String()
}

// newBrowser starts headless Chromium for the test and returns a context
// that runs in its first tab.
func newBrowser(t *testing.T, chromium string) context.Context {
	t.Helper()
	logs := &output{}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium),
		// As root in a container: no sandbox, no GPU, no /dev/shm.
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.CombinedOutput(logs),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
	})
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start %s: %v\n%s", chromium, err, logs)
	}
	return ctx
}

// fetched is what net/http got for a URL.
type fetched struct {
	status      int
	contentType string
	body        []byte
}

// crawl visits the site's pages in the browser and every link they hold.
type crawl struct {
	t          *testing.T
	ctx        context.Context
	base       string
	axe        string
	shots      string
	fetched    map[string]*fetched // absolute URL without fragment
	visited    map[string]bool     // paths of the pages opened in the browser
	documents  map[string]int      // language -> document links on its documents page
	axeRuns    int
	axeVersion string
}

// pageFacts is what the browser reports about a page.
type pageFacts struct {
	Lang      string            `json:"lang"`
	Links     []string          `json:"links"`     // every a[href] and link[href], resolved
	Switch    map[string]string `json:"switch"`    // hreflang -> href in the language switch
	IDs       []string          `json:"ids"`       // every element id, for fragments
	FP        map[string]string `json:"fp"`        // data-fp -> the fingerprint shown
	CSSRules  int               `json:"cssRules"`  // rules of /site.css the page applied
	ScriptRan bool              `json:"scriptRan"` // whether an inline script injected in the DOM ran
}

const factsJS = `(() => {
	const sw = {};
	for (const a of document.querySelectorAll('.langs a[hreflang]')) sw[a.getAttribute('hreflang')] = a.getAttribute('href');
	const fp = {};
	for (const c of document.querySelectorAll('code.fp[data-fp]')) fp[c.dataset.fp] = c.textContent.trim();
	let rules = 0;
	for (const s of document.styleSheets) { try { rules += s.cssRules.length; } catch (e) {} }
	// The CSP allows no script: one added to the page must not run, while
	// this evaluation (over the DevTools protocol) does.
	const s = document.createElement('script');
	s.textContent = 'window.__sceauInline = true;';
	document.head.appendChild(s);
	return {
		lang: document.documentElement.getAttribute('lang') || '',
		links: [...document.querySelectorAll('a[href], link[href]')].map(e => e.href),
		switch: sw,
		ids: [...document.querySelectorAll('[id]')].map(e => e.id),
		fp: fp,
		cssRules: rules,
		scriptRan: window.__sceauInline === true,
	};
})()`

// run opens the start pages and every site page linked from them.
func (c *crawl) run(start ...string) {
	c.documents = map[string]int{}
	queue := slices.Clone(start)
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		if c.visited[p] {
			continue
		}
		c.visited[p] = true
		for _, next := range c.visit(p) {
			if !c.visited[next] {
				queue = append(queue, next)
			}
		}
	}
}

// visit opens the page at path p in the browser, checks it, and returns the
// site pages it links to.
func (c *crawl) visit(p string) []string {
	t := c.t
	lang, rest := splitLang(p)
	resp, err := chromedp.Run(c.ctx, chromedp.NavigateResponse(c.base+p))
	if err != nil {
		t.Fatalf("open %s: %v", p, err)
	}
	if resp.Status != http.StatusOK {
		t.Errorf("%s: status %d in the browser", p, resp.Status)
	}
	if csp := headerValue(resp.Headers, "Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || strings.Contains(csp, "script-src") {
		t.Errorf("%s: Content-Security-Policy %q should allow no script", p, csp)
	}
	facts, err := chromedp.Run(c.ctx, chromedp.Evaluate[pageFacts](factsJS))
	if err != nil {
		t.Fatalf("%s: read the page: %v", p, err)
	}
	if facts.Lang != lang {
		t.Errorf(`%s: <html lang=%q>, want %q`, p, facts.Lang, lang)
	}
	if facts.ScriptRan {
		t.Errorf("%s: an inline script ran despite the CSP", p)
	}
	if facts.CSSRules == 0 {
		t.Errorf("%s: the stylesheet did not apply", p)
	}
	for _, other := range siteLangs {
		if other == lang {
			continue
		}
		if got, want := facts.Switch[other], "/"+other+rest; got != want {
			t.Errorf("%s: the switch to %s goes to %q, want %q", p, other, got, want)
		}
	}
	if strings.HasPrefix(rest, "/ca/") {
		c.checkFingerprints(p, strings.TrimPrefix(rest, "/ca/"), facts.FP)
	}

	var pages []string
	for _, link := range facts.Links {
		u, err := url.Parse(link)
		if err != nil {
			t.Errorf("%s: link %q: %v", p, link, err)
			continue
		}
		if u.Scheme == "mailto" {
			continue
		}
		if u.Scheme+"://"+u.Host != c.base {
			t.Errorf("%s: link %s leaves the site (the pages link only to their own files)", p, link)
			continue
		}
		if u.Fragment != "" && u.Path == p && !slices.Contains(facts.IDs, u.Fragment) {
			t.Errorf("%s: link to #%s, which is no element's id", p, u.Fragment)
		}
		u.Fragment = ""
		f := c.fetch(p, u.String())
		if f == nil {
			continue
		}
		if rest == "/documents" && strings.HasPrefix(u.Path, "/documents/") {
			c.documents[lang]++
		}
		if _, r := splitLang(u.Path); r != "" && strings.HasPrefix(f.contentType, "text/html") {
			pages = append(pages, u.Path)
		}
	}

	for _, vp := range viewports {
		c.inViewport(p, vp.name, vp.width, vp.height, vp.mobile, vp.scale)
	}
	return pages
}

// fetch GETs a link once with net/http: it must answer 200, or redirect
// once to a URL that answers 200. A /sha256/{hex} link must serve content
// with that SHA-256 (PUB-1, content-addressed files).
func (c *crawl) fetch(from, link string) *fetched {
	t := c.t
	if f, ok := c.fetched[link]; ok {
		return f
	}
	f, err := get(link)
	if err == nil && f.status >= 300 && f.status < 400 {
		var loc *url.URL
		if loc, err = url.Parse(f.contentType); err == nil {
			target := (&url.URL{Scheme: "http", Host: strings.TrimPrefix(c.base, "http://")}).ResolveReference(loc).String()
			if f, err = get(target); err == nil && f.status != http.StatusOK {
				err = fmt.Errorf("redirects to %s, which answers %d", target, f.status)
			}
		}
	} else if err == nil && f.status != http.StatusOK {
		err = fmt.Errorf("status %d", f.status)
	}
	if err != nil {
		t.Errorf("%s: broken link %s: %v", from, link, err)
		c.fetched[link] = nil
		return nil
	}
	if u, _ := url.Parse(link); strings.HasPrefix(u.Path, "/sha256/") {
		if sum := sha256.Sum256(f.body); hex.EncodeToString(sum[:]) != strings.ToLower(strings.TrimPrefix(u.Path, "/sha256/")) {
			t.Errorf("%s: %s serves content whose SHA-256 is %x", from, link, sum)
		}
	}
	c.fetched[link] = f
	return f
}

// get does one GET without following redirects; for a redirect the
// contentType field holds the Location.
func get(link string) (*fetched, error) {
	resp, err := noRedirect.Get(link)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	f := &fetched{status: resp.StatusCode, contentType: resp.Header.Get("Content-Type"), body: b}
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		f.contentType = resp.Header.Get("Location")
	}
	return f, nil
}

// checkFingerprints compares the SHA-256 and SHA-1 shown on the CA page p
// with those of the certificate served at /ca/{id}.der (PUB-1).
func (c *crawl) checkFingerprints(p, id string, shown map[string]string) {
	t := c.t
	der := c.fetch(p, c.base+"/ca/"+id+".der")
	if der == nil {
		return
	}
	s256, s1 := sha256.Sum256(der.body), sha1.Sum(der.body)
	for name, want := range map[string]string{"sha256": colonHex(s256[:]), "sha1": colonHex(s1[:])} {
		if got := shown[name]; got != want {
			t.Errorf("%s: %s fingerprint shown %q, the certificate at /ca/%s.der has %q", p, name, got, id, want)
		}
	}
}

// colonHex writes b as uppercase hex pairs separated by colons.
func colonHex(b []byte) string {
	pairs := make([]string, len(b))
	for i, x := range b {
		pairs[i] = fmt.Sprintf("%02X", x)
	}
	return strings.Join(pairs, ":")
}

// inViewport shows the open page p at one size, saves a full-page
// screenshot and runs axe-core on it.
func (c *crawl) inViewport(p, name string, width, height int64, mobile bool, scale float64) {
	t := c.t
	opts := []chromedp.EmulateViewportOption{chromedp.EmulateScale(scale)}
	if mobile {
		opts = append(opts, chromedp.EmulateMobile, chromedp.EmulateTouch, chromedp.EmulatePortrait)
	}
	if err := chromedp.Do(c.ctx, chromedp.EmulateViewport(width, height, opts...)); err != nil {
		t.Fatalf("%s: emulate %s: %v", p, name, err)
	}
	png, err := chromedp.Run(c.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("%s: screenshot (%s): %v", p, name, err)
	}
	file := filepath.Join(c.shots, screenshotName(p)+"-"+name+".png")
	if err := os.WriteFile(file, png, 0o644); err != nil {
		t.Fatal(err)
	}
	c.runAxe(p, name)
}

// axeRun injects axe-core into the open page, unless it is there already,
// and runs it.
func (c *crawl) axeRun(p string) axeResult {
	t := c.t
	loaded, err := chromedp.Run(c.ctx, chromedp.Evaluate[bool](`typeof window.axe === 'object'`))
	if err != nil {
		t.Fatalf("%s: %v", p, err)
	}
	if !loaded {
		if err := chromedp.Do(c.ctx, chromedp.Evaluate[chromedp.Void](c.axe)); err != nil {
			t.Fatalf("%s: inject axe-core: %v", p, err)
		}
	}
	res, err := chromedp.Run(c.ctx, chromedp.Evaluate[axeResult](axeRunJS, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("%s: axe.run: %v", p, err)
	}
	return res
}

// checkAxeSeesAPlantedViolation adds an image without a text alternative
// to a page and expects axe to report it: a run that sees nothing because
// the injection broke must not pass.
func (c *crawl) checkAxeSeesAPlantedViolation(p string) {
	t := c.t
	if err := chromedp.Do(c.ctx, chromedp.Navigate(c.base+p),
		chromedp.Evaluate[chromedp.Void](`document.querySelector('main').appendChild(document.createElement('img')).id = 'planted'`)); err != nil {
		t.Fatalf("%s: plant a violation: %v", p, err)
	}
	for _, v := range c.axeRun(p).Violations {
		if v.ID == "image-alt" && v.Impact == "critical" && len(v.Nodes) == 1 && v.Nodes[0].Target == `["#planted"]` {
			return
		}
	}
	t.Errorf("%s: axe did not report the image without alt planted in the page", p)
}

// axeViolation is one rule axe-core found broken, with the elements.
type axeViolation struct {
	ID     string `json:"id"`
	Impact string `json:"impact"`
	Help   string `json:"help"`
	Nodes  []struct {
		Target  string `json:"target"`
		Summary string `json:"summary"`
	} `json:"nodes"`
}

// axeResult is what axeRunJS returns.
type axeResult struct {
	Version    string         `json:"version"`
	Passes     int            `json:"passes"` // rules that passed, to show axe ran
	Violations []axeViolation `json:"violations"`
}

const axeRunJS = `axe.run(document, {resultTypes: ['violations']}).then(r => ({
	version: axe.version, passes: r.passes.length,
	violations: r.violations.map(v => ({
		id: v.id, impact: v.impact || '', help: v.help,
		nodes: v.nodes.map(n => ({target: JSON.stringify(n.target), summary: n.failureSummary || ''})),
	})),
}))`

// runAxe runs axe-core on the open page and fails the test on any serious
// or critical violation. The page's CSP does
// not stop the injection: DevTools evaluation is not subject to it.
func (c *crawl) runAxe(p, viewport string) {
	t := c.t
	res := c.axeRun(p)
	if res.Passes == 0 {
		t.Errorf("%s (%s): axe %s checked no rule", p, viewport, res.Version)
	}
	c.axeVersion, c.axeRuns = res.Version, c.axeRuns+1
	var serious, other []string
	for _, v := range res.Violations {
		var b strings.Builder
		fmt.Fprintf(&b, "%s (%s): %s", v.ID, v.Impact, v.Help)
		for _, n := range v.Nodes {
			fmt.Fprintf(&b, "\n      %s: %s", n.Target, strings.Join(strings.Fields(n.Summary), " "))
		}
		if v.Impact == "serious" || v.Impact == "critical" {
			serious = append(serious, b.String())
		} else {
			other = append(other, b.String())
		}
	}
	if len(other) > 0 {
		t.Logf("%s (%s): axe, minor or moderate:\n  %s", p, viewport, strings.Join(other, "\n  "))
	}
	if len(serious) > 0 {
		t.Errorf("%s (%s): axe finds serious violations:\n  %s", p, viewport, strings.Join(serious, "\n  "))
	}
}

// checkRedirectInBrowser opens / with the browser asking for accept and
// checks it lands on want (PUB-1 language negotiation).
func (c *crawl) checkRedirectInBrowser(accept, want string) {
	t := c.t
	ua, err := chromedp.Run(c.ctx, chromedp.Evaluate[string](`navigator.userAgent`))
	if err != nil {
		t.Fatal(err)
	}
	setLang := chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, emulation.SetUserAgentOverride, emulation.SetUserAgentOverrideParams{UserAgent: ua, AcceptLanguage: accept})
		return err
	})
	if err := chromedp.Do(c.ctx, setLang, chromedp.Navigate(c.base+"/")); err != nil {
		t.Fatalf("open / with Accept-Language %q: %v", accept, err)
	}
	got, err := chromedp.Run(c.ctx, chromedp.Evaluate[string](`location.pathname`))
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Errorf("the browser asking for %q lands on %s, want %s", accept, got, want)
	}
}

// splitLang cuts /fr/ca/root into fr and /ca/root (/fr/ into fr and /);
// rest is empty when p is not under a language.
func splitLang(p string) (lang, rest string) {
	for _, l := range siteLangs {
		if r, ok := strings.CutPrefix(p, "/"+l+"/"); ok {
			return l, "/" + r
		}
	}
	return "", ""
}

// screenshotName is the file name of a page's screenshots: fr-home,
// en-ca-root.
func screenshotName(p string) string {
	lang, rest := splitLang(p)
	if rest == "/" {
		rest = "/home"
	}
	return lang + strings.ReplaceAll(rest, "/", "-")
}

func headerValue(h map[string]any, name string) string {
	for k, v := range h {
		if strings.EqualFold(k, name) {
			s, _ := v.(string)
			return s
		}
	}
	return ""
}
