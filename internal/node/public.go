package node

import (
	"context"
	"crypto"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/sceau/sceau/internal/audit"
	"github.com/sceau/sceau/internal/ca"
	"github.com/sceau/sceau/internal/config"
	"github.com/sceau/sceau/internal/keys"
	"github.com/sceau/sceau/internal/publication"
	"github.com/sceau/sceau/internal/revocation"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/server"
	"github.com/sceau/sceau/internal/store"
)

// The modes /healthz reports (docs/scaling.md).
const (
	// ModeSigning is a node that holds the keys: it issues, revokes,
	// signs CRLs and OCSP responses, and serves both listeners.
	ModeSigning = "signing"
	// ModePublicOnly is a node that holds no key and serves the public
	// listener alone, from what the signing nodes stored.
	ModePublicOnly = "public-only"
)

// OpenPublic opens the installation cfg describes as a public-only node
// (docs/scaling.md): the store read-only (store.OpenReadOnly), the CAs'
// certificates, and nothing else. It opens no keystore, neither the
// service's nor a CA's (so it needs neither keystore.secret_file nor a
// share holder), signs nothing and writes nothing; the database must have
// been created and migrated by a signing node. A nil log discards.
//
// Default deny, each background job of Serve weighed (SYS-2: the public
// side exposes nothing writable, down to its database session):
//   - CRL issuance, OCSP refresh, OCSP responder renewal: need the CA and
//     responder keys; the signing nodes run them and every node serves
//     their output from the database at once.
//   - orphan recovery: a write (a revocation); the signing nodes run it.
//   - journal checkpoints, export, syslog, retention, analysis (AUD-2,
//     AUD-4..6): need the audit key or write; the signing nodes run them
//     over the whole journal, this node's requests included, since it adds
//     no event.
//   - manifest signing (PUB-2): needs the publication key; the site serves
//     the manifests the signing nodes sign, and says stale if they lag.
//   - its start and stop go to its log, not to the journal (AUD-1 records
//     the start and stop of the signing service; this node changes no
//     state and cannot write).
//   - the rollback check (AUD-2, AUD-5) reads the journal's export when its
//     directory is on this host; elsewhere the signing nodes, which refuse
//     a rolled-back database at their start, are the check.
func OpenPublic(ctx context.Context, cfg *config.Config, log *slog.Logger) (*Node, error) {
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	specs, err := Specs(cfg)
	if err != nil {
		return nil, err
	}
	db, err := openReadOnlyStore(ctx, cfg)
	if err != nil {
		return nil, err
	}
	n := &Node{Config: cfg, Layout: LayoutOf(cfg), Log: log, DB: db, Journal: audit.NewJournal(nil), Metrics: server.NewMetrics(),
		kick: make(chan string, 1), publicOnly: true}
	if err := n.openPublic(ctx, specs); err != nil {
		n.Close()
		return nil, err
	}
	return n, nil
}

func (n *Node) openPublic(ctx context.Context, specs []ca.Spec) error {
	const op = "node: public-only"
	pending, err := n.DB.PendingMigrations(ctx)
	if err != nil {
		return err
	}
	if len(pending) > 0 {
		return sceau.Errorf(sceau.Unavailable, op, "the database lacks %d migrations of this version (%s): a public-only node writes nothing, "+
			"so start a signing node (sceau serve) of this version first, or run 'sceau db grant-service-role' with the owner's DSN",
			len(pending), strings.Join(pending, ", "))
	}
	if dir := n.Layout.ExportDir(); dir != "" {
		if _, err := os.Stat(dir); err == nil {
			if err := checkWitnesses(ctx, n.DB, n.Layout); err != nil {
				return err
			}
		}
	}
	cfg := n.Config
	n.Revocation = revocation.New(n.DB, n.Journal, revocation.Options{
		OCSPValidity: cfg.OCSP.Validity.Duration, OCSPRefreshBefore: cfg.OCSP.RefreshBefore.Duration})
	n.Authority = ca.New(n.DB, n.Journal, noKeys{}, n.Revocation, ca.Options{
		ActivationHint: func(string) string { return "this node is public-only: it holds no key (docs/scaling.md)" },
		Logger:         n.Log, URLs: ca.URLs{Base: cfg.Public.BaseURL}, OCSPSignerValidity: cfg.OCSP.SignerValidity.Duration,
		ReadOnly: true})
	n.Publication = publication.NewService(n.DB, n.Journal, publication.Options{MaxSize: cfg.Publication.MaxDocumentBytes})
	// ARC-6: the archive reads and verifies here; it signs no head.
	if n.Archive, err = n.newArchive(); err != nil {
		return err
	}
	pendingCAs, err := n.Authority.LoadCreated(ctx, specs)
	if err != nil {
		return err
	}
	n.pending = specsOf(specs, pendingCAs)
	for _, id := range pendingCAs {
		n.Log.Info("CA declared but not created: served here once a signing node creates it", "ca", id)
	}
	return n.Revocation.CheckShards(ctx)
}

// openReadOnlyStore opens the database the configuration names, read-only.
func openReadOnlyStore(ctx context.Context, cfg *config.Config) (*store.DB, error) {
	if cfg.Database.Engine == "postgres" {
		dsn, err := readDSN(cfg)
		if err != nil {
			return nil, err
		}
		return store.OpenReadOnly(ctx, store.Postgres, dsn)
	}
	return store.OpenReadOnly(ctx, store.SQLite, cfg.Path(cfg.Database.Path))
}

// noKeys is the key store of a public-only node: it holds no key, and
// every CA and responder key it is asked for is not activated (KEY-5), so
// that the CAs load with their certificates and sign nothing.
type noKeys struct{}

var (
	_ ca.KeyStore   = noKeys{}
	_ keys.Resolver = noKeys{}
)

func (noKeys) refusal() error {
	return keys.NotActivated("node: public-only", "this node is public-only: it holds no key (docs/scaling.md)")
}

func (k noKeys) Generate(string, keys.Type) (crypto.Signer, error) { return nil, k.refusal() }
func (k noKeys) Signer(string) (crypto.Signer, error)              { return nil, k.refusal() }
func (noKeys) Active(string) bool                                  { return false }

// ServePublic runs a public-only node of the installation cfg describes
// until ctx ends (docs/scaling.md, OpenPublic): the public listener alone,
// serving the publication site, the CRLs and OCSP from what the signing
// nodes store, and picking up the CAs they create. There is no admin
// listener: public.listen is the only port it opens. ready, if set, is
// called with the node once the listener is bound.
func ServePublic(ctx context.Context, cfg *config.Config, log *slog.Logger, ready func(*Node)) error {
	tuneGC()
	n, err := OpenPublic(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer n.Close()
	responder := n.Revocation.NewResponder(log)
	responder.Observe = n.Metrics.ObserveOCSP
	site := n.Site()
	if err := site.Refresh(ctx); err != nil {
		return err
	}
	pub := &server.Public{Authority: n.Authority, Revocation: n.Revocation, Responder: responder, Log: log, Site: site.Handler(),
		Mode: ModePublicOnly, Health: func(ctx context.Context) error {
			if err := n.DB.Health(ctx); err != nil {
				return err
			}
			return site.Health()
		}}
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go n.followCAs(sctx, log)
	go site.Run(sctx)
	// AUD-1: this node cannot write the journal; its start and stop are
	// in its log, with its pid.
	log.Info("sceau started, public-only: no admin listener, no key, read-only database", "config", cfg.DataDir, "pid", os.Getpid())
	err = server.Listen(sctx, log, []server.Listener{{Name: "public", Addr: cfg.Public.Listen, Handler: pub.Handler()}}, func() {
		if ready != nil {
			ready(n)
		}
	})
	cancel()
	log.Info("sceau stopped, public-only", "pid", os.Getpid())
	return err
}

// followCAs loads the CAs a signing node creates, as often as the site
// refreshes (publication.refresh), until ctx ends.
func (n *Node) followCAs(ctx context.Context, log *slog.Logger) {
	t := time.NewTicker(n.Config.Publication.Refresh.Duration)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if ids, err := n.LoadNewCAs(ctx); err != nil && ctx.Err() == nil {
				log.Error("loading the CAs created on a signing node failed", "err", err)
			} else if len(ids) > 0 {
				log.Info("CAs created on a signing node are served here now", "cas", ids)
			}
		}
	}
}
