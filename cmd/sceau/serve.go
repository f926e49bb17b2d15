package main

import (
	"context"
	"log/slog"
	"os"
	"runtime/debug"
	"time"

	"github.com/spf13/cobra"

	"github.com/sceau/sceau/internal/access"
	"github.com/sceau/sceau/internal/config"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/server"
)

func newServeCmd(e *env) *cobra.Command {
	var logJSON bool
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the CAs with their public and administration listeners",
		Long: `serve loads the installation named by --config, activates the keystore, revokes
serials left reserved by an interrupted issuance (they are treated as issued),
reissues CRLs on schedule and after each revocation, refreshes pre-signed OCSP
responses, and serves:

  public listener (read-only)  /ca/ID.der /ca/ID.pem /ca/ID.txt  CA certificates, fingerprints
                               /crl/ID.crl                       each CA's current CRL
                               /ocsp                             OCSP, GET and POST (RFC 6960)
  admin listener (TLS 1.3,     /api/v1/...                       issuance and revocation API
  client certificate)          /metrics                          Prometheus metrics

Stop it with Ctrl-C or SIGTERM: listeners drain, keys are dropped.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := config.Load(e.configPath)
			if err != nil {
				return err
			}
			log := newLogger(e, logJSON)
			return serve(cmd.Context(), cfg, log, nil)
		},
	}
	cmd.Flags().BoolVar(&logJSON, "log-json", false, "write logs as JSON lines")
	return cmd
}

func newLogger(e *env, asJSON bool) *slog.Logger {
	if asJSON {
		return slog.New(slog.NewJSONHandler(e.stderr, nil))
	}
	return slog.New(slog.NewTextHandler(e.stderr, nil))
}

// serve runs an installation until ctx ends; ready is called once the
// listeners are bound.
func serve(ctx context.Context, cfg *config.Config, log *slog.Logger, ready func(*node)) error {
	// Issuance allocates briskly and the heap stays small (tens of MiB):
	// collecting less often buys about 7% of issuance throughput. GOGC and
	// GOMEMLIMIT in the environment take precedence.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(300)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(2 << 30)
	}
	n, err := openNode(ctx, cfg, log, false)
	if err != nil {
		return err
	}
	defer n.Close()
	// AUD-2, AUD-4..6: checkpoints, export, retention, analysis; stopped
	// after service.stopped below, with a final checkpoint (auditwire.go).
	stopAudit, err := startAudit(ctx, n, log)
	if err != nil {
		return err
	}
	defer stopAudit()
	// AUD-1: start and stop of the application are journal events; if the
	// journal cannot be written, the service does not start (AUD-7).
	if err := n.record(ctx, "service.started", map[string]any{"pid": os.Getpid(), "data_dir": cfg.DataDir,
		"public": cfg.Public.Listen, "admin": cfg.Admin.Listen}); err != nil {
		return err
	}
	defer func() {
		if err := n.record(context.Background(), "service.stopped", map[string]any{"pid": os.Getpid()}); err != nil {
			log.Error("cannot record the stop in the audit journal", "err", err)
		}
	}()
	if k, err := n.auth.RecoverOrphans(ctx); err != nil {
		return err
	} else if k > 0 {
		log.Warn("revoked serials left by interrupted issuances", "count", k)
	}
	tlsCfg, err := access.ServerTLS(cfg.Path(cfg.Admin.Dir), n.keys)
	if err != nil {
		return err
	}
	responder := n.rev.NewResponder(log)
	responder.Observe = n.metrics.ObserveOCSP
	pub := &server.Public{Authority: n.auth, Revocation: n.rev, Responder: responder, Log: log}
	acc, err := newAccess(ctx, n)
	if err != nil {
		return err
	}
	custodian := n.custodian()
	// ROLE-4: a holder whose role was removed presents no share.
	custodian.HolderCheck = func(ctx context.Context, holder string) error {
		ok, err := acc.HasRole(ctx, holder, access.KeyShareHolder)
		if err != nil {
			return err
		}
		if !ok {
			return sceau.Errorf(sceau.Denied, "quorum: present share", "%s does not hold the Key Share Holder role", holder)
		}
		return nil
	}
	adm := &server.Admin{Authority: n.auth, Revocation: n.rev, Metrics: n.metrics, Log: log, MaxBodyBytes: cfg.Admin.MaxBodyBytes,
		Custodian: custodian, Access: acc, Audit: auditAPI(n)}
	if adm.Backups, err = newKeyBackups(n, acc); err != nil { // keycmd.go (KEY-4, KEY-6)
		return err
	}

	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	schedDone := make(chan struct{})
	go func() {
		defer close(schedDone)
		n.rev.RunScheduler(sctx, n.kick, time.Minute, func(msg string, args ...any) { log.Warn(msg, args...) })
	}()
	go func() {
		t := time.NewTicker(24 * time.Hour)
		defer t.Stop()
		orphans := time.NewTicker(time.Minute)
		defer orphans.Stop()
		for {
			select {
			case <-sctx.Done():
				return
			case <-orphans.C:
				if k, err := n.auth.RecoverOrphans(sctx); err != nil && sctx.Err() == nil {
					log.Error("orphan recovery failed", "err", err)
				} else if k > 0 {
					log.Warn("revoked serials left by interrupted issuances", "count", k)
				}
			case <-t.C:
				if err := n.auth.RenewOCSPResponders(sctx); err != nil && sctx.Err() == nil {
					log.Error("OCSP responder renewal failed", "err", err)
				}
			}
		}
	}()
	log.Info("sceau started", "config", e2s(cfg), "pid", os.Getpid())
	err = server.Listen(sctx, log, []server.Listener{
		{Name: "public", Addr: cfg.Public.Listen, Handler: pub.Handler()},
		{Name: "admin", Addr: cfg.Admin.Listen, Handler: adm.Handler(), TLS: tlsCfg},
	}, func() {
		if ready != nil {
			ready(n)
		}
	})
	cancel()
	<-schedDone
	log.Info("sceau stopped")
	return err
}

func e2s(cfg *config.Config) string { return cfg.DataDir }
