package publication

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/sceau/sceau/internal/audit"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/store"
)

// SiteOptions describe the site; zero values take the defaults.
type SiteOptions struct {
	// Publisher is the trust service provider's name, on every page and
	// in the manifest.
	Publisher string
	// About is the home page's presentation of the provider, by language.
	About map[string]string
	// Contact is where relying parties write (an address, a URL).
	Contact string
	// BaseURL is the site's public URL (public.base_url), which the home
	// page's verification command names. With it every page is rendered
	// once per snapshot; without it the home page is rendered per request
	// with the origin the request reached.
	BaseURL string
	// Refresh is how often the site rereads the store, so that a change
	// made on any node is served everywhere (PUB-3); 500ms.
	Refresh time.Duration
	// CRLMargin is how long before a CRL's nextUpdate the monitor calls it
	// stale without a newer one (at most a tenth of the CRL's validity); 1h.
	CRLMargin time.Duration
	// ManifestGrace is how long the manifest may lag a change before the
	// site is stale (a node without the publication key waits for one
	// with it); 1m.
	ManifestGrace time.Duration
	Clock         sceau.Clock
	Log           *slog.Logger
	// ReadOnly is for a node that writes nothing (public-only,
	// docs/scaling.md): a change between stale and fresh is logged, not
	// journaled; the signing nodes' sites journal it (PUB-3, AUD-6).
	ReadOnly bool
}

// Site is the public repository as served: pages, files, the manifest,
// and the freshness monitor. It serves a snapshot of the store, rebuilt
// every Refresh (PUB-3: a change made on any node is served within a second).
type Site struct {
	svc    *Service
	db     *store.DB
	src    Sources
	signer ManifestSigner
	opts   SiteOptions
	clock  sceau.Clock
	log    *slog.Logger
	cur    current
	cache  fileCache

	mu         sync.Mutex // one Refresh at a time
	staleSince time.Time  // the manifest lags the files since
	staleSent  string     // the reasons last journaled as stale
}

// NewSite returns the site over svc and src. signer may be nil on a node
// without the publication key: it serves the manifests others sign.
func NewSite(svc *Service, src Sources, signer ManifestSigner, o SiteOptions) *Site {
	if o.Publisher == "" {
		o.Publisher = "Sceau"
	}
	o.BaseURL = strings.TrimRight(o.BaseURL, "/")
	if o.Refresh <= 0 {
		o.Refresh = 500 * time.Millisecond
	}
	if o.CRLMargin <= 0 {
		o.CRLMargin = time.Hour
	}
	if o.ManifestGrace <= 0 {
		o.ManifestGrace = time.Minute
	}
	if o.Log == nil {
		o.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return &Site{svc: svc, db: svc.db, src: src, signer: signer, opts: o, clock: sceau.ClockOr(o.Clock), log: o.Log,
		cache: fileCache{max: 64 << 20, m: map[string][]byte{}}}
}

// Refresh rebuilds the snapshot from the store, signs a new manifest when
// the files changed, runs the freshness checks, and swaps the snapshot in.
func (s *Site) Refresh(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	prev := s.cur.load()
	snap, err := s.build(ctx, prev)
	if err != nil {
		return err
	}
	files := snap.entries()
	m, err := s.svc.SignIfChanged(ctx, s.opts.Publisher, files, s.signer)
	now := s.clock.Now()
	snap.manifest = m
	switch {
	case err == nil:
		s.staleSince = time.Time{}
	case sceau.KindOf(err) == sceau.Unavailable:
		// No key here, or it cannot sign now: the manifest lags. Within
		// the grace another node (or this one, once activated) signs.
		if s.staleSince.IsZero() {
			s.staleSince = now
		}
		if now.Sub(s.staleSince) >= s.opts.ManifestGrace {
			snap.stale = append(snap.stale, "the manifest does not list the files published since "+
				s.staleSince.UTC().Format(time.RFC3339)+": "+sceau.Message(err))
		}
	default:
		return err
	}
	if m == nil && len(files) > 0 && err == nil {
		snap.stale = append(snap.stale, "no manifest is signed")
	}
	if err := s.prerender(snap, prev); err != nil {
		return err
	}
	s.cur.p.Store(snap)
	return s.journalFreshness(ctx, snap.stale)
}

// journalFreshness records each change between stale and fresh once
// (PUB-3, AUD-6: the analysis raises an alert on publication.stale).
func (s *Site) journalFreshness(ctx context.Context, stale []string) error {
	why := joinReasons(stale)
	if why == s.staleSent {
		return nil
	}
	action := audit.ActionPublicationStale
	details := map[string]any{"reasons": stale}
	if why == "" {
		action, details = audit.ActionPublicationFresh, map[string]any{"was": s.staleSent}
		s.log.Info("publication: the site is fresh again")
	} else {
		s.log.Warn("publication: the site is stale", "reasons", why)
	}
	if s.opts.ReadOnly {
		s.staleSent = why
		return nil
	}
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		return s.svc.journal.Append(ctx, tx, audit.Event{Actor: sceau.System("publication"), Action: action, Object: "site", Details: details})
	})
	if err == nil {
		s.staleSent = why
	}
	return err
}

// Run refreshes the site every Refresh until ctx ends. A failed refresh
// keeps serving the last snapshot and is logged; Health reports it.
func (s *Site) Run(ctx context.Context) {
	t := time.NewTicker(s.opts.Refresh)
	defer t.Stop()
	for {
		if err := s.Refresh(ctx); err != nil && ctx.Err() == nil {
			s.log.Error("publication: refresh", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Health is nil while the site is fresh, or an Unavailable error naming
// what is stale (PUB-3): /healthz answers 503 with it.
func (s *Site) Health() error {
	snap := s.cur.load()
	if snap == nil {
		return sceau.Errorf(sceau.Unavailable, "publication", "the site was not built yet")
	}
	if len(snap.stale) > 0 {
		return sceau.Errorf(sceau.Unavailable, "publication", "%s", joinReasons(snap.stale))
	}
	if age := s.clock.Now().Sub(snap.built); age > 10*s.opts.Refresh+10*time.Second {
		return sceau.Errorf(sceau.Unavailable, "publication", "the site was last rebuilt %s ago", age.Round(time.Second))
	}
	return nil
}

// CRLSecondsLeft reports, per CA, the seconds until its current CRL's
// nextUpdate (negative once passed), for the freshness metric.
func (s *Site) CRLSecondsLeft() map[string]float64 {
	snap := s.cur.load()
	out := map[string]float64{}
	if snap == nil {
		return out
	}
	now := s.clock.Now()
	for _, c := range snap.cas {
		if c.CRL != nil {
			out[c.ID] = c.CRL.NextUpdate.Sub(now).Seconds()
		}
	}
	return out
}

// ManifestNumber is the number of the manifest served, 0 if none.
func (s *Site) ManifestNumber() int64 {
	if snap := s.cur.load(); snap != nil && snap.manifest != nil {
		return snap.manifest.Number
	}
	return 0
}

// fileCache keeps document files in memory: they are immutable, so an
// entry never goes stale; it is bounded, and a miss reads the store.
type fileCache struct {
	mu   sync.Mutex
	max  int
	size int
	m    map[string][]byte
}

func (c *fileCache) get(sha string) ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	b, ok := c.m[sha]
	return b, ok
}

func (c *fileCache) put(sha string, b []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.size+len(b) > c.max {
		return
	}
	if _, ok := c.m[sha]; !ok {
		c.m[sha] = b
		c.size += len(b)
	}
}
