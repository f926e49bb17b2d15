package node

import (
	"context"
	"log/slog"
	"os"
	"runtime/debug"
	"time"

	"github.com/sceau/sceau/internal/access"
	"github.com/sceau/sceau/internal/clockguard"
	"github.com/sceau/sceau/internal/config"
	"github.com/sceau/sceau/internal/server"
)

// Serve runs the installation cfg describes until ctx ends: it opens the
// node, starts the journal's workers, revokes serials left reserved by an
// interrupted issuance, reissues CRLs on schedule and after each
// revocation, renews OCSP responders, and serves the public and the admin
// listeners. ready, if set, is called with the node once the listeners are
// bound.
func Serve(ctx context.Context, cfg *config.Config, log *slog.Logger, ready func(*Node)) error {
	return serve(ctx, cfg, log, ready, false)
}

// ServeStatusOnly runs the status services alone (CONT-1, the second
// site's first hour; docs/continuity.md): the public listener (CRLs as
// stored, OCSP signed by the delegated responders, publication,
// time-stamping) and the journal's workers, with no admin listener and
// nothing that signs with a CA key (no CRL issuance, no responder renewal,
// no termination steps), so that no CA key is used or activated.
func ServeStatusOnly(ctx context.Context, cfg *config.Config, log *slog.Logger, ready func(*Node)) error {
	return serve(ctx, cfg, log, ready, true)
}

// ModeStatusOnly is a node started with ServeStatusOnly (/healthz).
const ModeStatusOnly = "status-only"

func serve(ctx context.Context, cfg *config.Config, log *slog.Logger, ready func(*Node), statusOnly bool) error {
	tuneGC()
	n, err := Open(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer n.Close()
	// AUD-2, AUD-4..6: checkpoints, export, retention, analysis; stopped
	// after service.stopped below, with a final checkpoint (audit.go).
	stopAudit, err := n.startAudit(ctx, log)
	if err != nil {
		return err
	}
	defer stopAudit()
	// AUD-1: start and stop of the application are journal events; if the
	// journal cannot be written, the service does not start (AUD-7).
	if err := n.record(ctx, "service.started", map[string]any{"pid": os.Getpid(), "data_dir": cfg.DataDir,
		"public": cfg.Public.Listen, "admin": cfg.Admin.Listen, "clock": n.ClockGuard.Summary()}); err != nil {
		return err
	}
	defer func() {
		if err := n.record(context.Background(), "service.stopped", map[string]any{"pid": os.Getpid()}); err != nil {
			log.Error("cannot record the stop in the audit journal", "err", err)
		}
	}()
	if k, err := n.Authority.RecoverOrphans(ctx); err != nil {
		return err
	} else if k > 0 {
		log.Warn("revoked serials left by interrupted issuances", "count", k)
	}
	tlsCfg, err := access.ServerTLS(n.Layout.AdminDir(), n.Keys)
	if err != nil {
		return err
	}
	responder := n.Revocation.NewResponder(log)
	responder.Observe = n.Metrics.ObserveOCSP
	// PUB-1..PUB-3: the site is built before the listeners open, then
	// rebuilt every publication.refresh from the store.
	site := n.Site()
	if err := site.Refresh(ctx); err != nil {
		return err
	}
	n.Metrics.ObservePublication(site.CRLSecondsLeft, site.ManifestNumber)
	// SYS-4: the clock's last check is a metric and on /healthz, which
	// answers 503 while the guard refuses to sign.
	n.Metrics.ObserveClock(n.clockReading)
	if n.ClockGuard.Status().State == clockguard.Off {
		log.Warn("SYS-4: clock.servers is empty: the clock is not checked against NTP; a production installation lists its servers (docs/clock.md)")
	}
	mode := ModeSigning
	if statusOnly {
		mode = ModeStatusOnly
	}
	pub := &server.Public{Authority: n.Authority, Revocation: n.Revocation, Responder: responder, Log: log, Site: site.Handler(),
		Mode: mode, Health: func(ctx context.Context) error {
			if err := n.DB.Health(ctx); err != nil {
				return err
			}
			if err := n.ClockGuard.Err(); err != nil {
				return err
			}
			return site.Health()
		},
		Details: func() []string { return []string{"clock: " + n.ClockGuard.Summary()} },
		TSA:     n.tsaHandler(), TSAPath: cfg.Timestamping.ListenPath} // ARC-5
	n.observeBackupAge(ctx) // CONT-1 (backup.go)
	if statusOnly {
		return n.serveStatus(ctx, log, pub, ready)
	}
	acc, err := n.Access(ctx)
	if err != nil {
		return err
	}
	adm := &server.Admin{Authority: n.Authority, Revocation: n.Revocation, Metrics: n.Metrics, Log: log, MaxBodyBytes: cfg.Admin.MaxBodyBytes,
		Admission: server.NewAdmission(cfg.Issuance.MaxInFlight, n.Metrics),
		Custodian: n.Custodian(acc), Access: acc, Audit: n.auditAPI(), Publication: n.Publication, Archive: n.Archive,
		Incidents: n.Incidents, Registration: n.Registration, EnrollURL: cfg.Enroll.BaseURL, ACME: n.ACME,
		EST: n.EST} // INC-1, CA-4
	if adm.Backups, err = n.KeyBackups(acc); err != nil { // KEY-4, KEY-6
		return err
	}
	adm.SelfAudit = n.SelfAudit(site, acc) // COMP-1 (compliance.go)
	n.selfAudit = adm.SelfAudit

	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	schedDone := make(chan struct{})
	go func() {
		defer close(schedDone)
		n.Revocation.RunScheduler(sctx, n.kick, time.Minute, func(msg string, args ...any) { log.Warn(msg, args...) })
	}()
	go n.maintain(sctx, log)
	go n.runArchive(sctx)
	go n.runIncidents(sctx)                 // INC-1, INC-4 (incident.go)
	go n.runTerminations(sctx, adm.Backups) // END-1 (termination.go)
	go n.runBackups(sctx)                   // CONT-1: every backup.interval (backup.go)
	clockDone := make(chan struct{})
	go func() { // SYS-4: every clock.interval, every minute while not in range
		defer close(clockDone)
		n.ClockGuard.Run(sctx)
	}()
	go site.Run(sctx)
	enroll, err := n.enrollListeners(log) // CA-4 holders' routes, apart from the public listener (SYS-2)
	if err != nil {
		return err
	}
	log.Info("sceau started", "config", cfg.DataDir, "pid", os.Getpid())
	err = server.Listen(sctx, log, append([]server.Listener{
		{Name: "public", Addr: cfg.Public.Listen, Handler: pub.Handler()},
		{Name: "admin", Addr: cfg.Admin.Listen, Handler: adm.Handler(), TLS: tlsCfg, Refused: newHandshakeRecorder(n, log).refused},
	}, enroll...), func() {
		if ready != nil {
			ready(n)
		}
	})
	cancel()
	<-schedDone
	<-clockDone
	log.Info("sceau stopped")
	return err
}

// tuneGC: issuance allocates briskly and the heap stays small (tens of
// MiB), so collecting less often buys about 7% of issuance throughput.
// GOGC and GOMEMLIMIT in the environment take precedence.
func tuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(300)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(2 << 30)
	}
}

// maintain revokes orphaned reservations every minute, renews the OCSP
// responders daily and loads the CAs created on another node as often as
// the site refreshes (publication.refresh), until ctx ends.
func (n *Node) maintain(ctx context.Context, log *slog.Logger) {
	t := time.NewTicker(24 * time.Hour)
	defer t.Stop()
	orphans := time.NewTicker(time.Minute)
	defer orphans.Stop()
	newCAs := time.NewTicker(n.Config.Publication.Refresh.Duration)
	defer newCAs.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-newCAs.C:
			if ids, err := n.LoadNewCAs(ctx); err != nil && ctx.Err() == nil {
				log.Error("loading the CAs created on another node failed", "err", err)
			} else if len(ids) > 0 {
				log.Info("CAs created on another node are served here now", "cas", ids)
			}
		case <-orphans.C:
			if k, err := n.Authority.RecoverOrphans(ctx); err != nil && ctx.Err() == nil {
				log.Error("orphan recovery failed", "err", err)
			} else if k > 0 {
				log.Warn("revoked serials left by interrupted issuances", "count", k)
			}
		case <-t.C:
			if err := n.Authority.RenewOCSPResponders(ctx); err != nil && ctx.Err() == nil {
				log.Error("OCSP responder renewal failed", "err", err)
			}
		}
	}
}
