package main

import (
	"log/slog"

	"github.com/spf13/cobra"

	"github.com/sceau/sceau/internal/config"
	"github.com/sceau/sceau/internal/node"
)

func newServeCmd(e *env) *cobra.Command {
	var logJSON, publicOnly, statusOnly bool
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

With --public-only it opens no keystore and no admin listener, signs and writes
nothing, and serves the public listener from the shared database (docs/scaling.md).

With --status-only (a second site's first hour, after 'sceau backup restore') it
serves the public listener alone: CRLs as stored, OCSP signed by the delegated
responders, publication and time-stamping, with the journal's workers; no admin
listener, and nothing signs with a CA key (docs/continuity.md).

Stop it with Ctrl-C or SIGTERM: listeners drain, keys are dropped.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := config.Load(e.configPath)
			if err != nil {
				return err
			}
			log := newLogger(e, logJSON)
			if publicOnly {
				return node.ServePublic(cmd.Context(), cfg, log, nil)
			}
			if statusOnly { // CONT-1
				return node.ServeStatusOnly(cmd.Context(), cfg, log, nil)
			}
			return node.Serve(cmd.Context(), cfg, log, nil)
		},
	}
	cmd.Flags().BoolVar(&logJSON, "log-json", false, "write logs as JSON lines")
	cmd.Flags().BoolVar(&publicOnly, "public-only", false, "serve CRLs, OCSP and the site alone: no key, no admin listener")
	cmd.Flags().BoolVar(&statusOnly, "status-only", false, "serve the status services first at a second site: no admin listener, no CA key used (CONT-1)")
	cmd.MarkFlagsMutuallyExclusive("public-only", "status-only")
	return cmd
}

func newLogger(e *env, asJSON bool) *slog.Logger {
	if asJSON {
		return slog.New(slog.NewJSONHandler(e.stderr, nil))
	}
	return slog.New(slog.NewTextHandler(e.stderr, nil))
}
