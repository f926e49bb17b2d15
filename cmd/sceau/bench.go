package main

import (
	"context"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/sceau/sceau/internal/bench"
	"github.com/sceau/sceau/internal/config"
	"github.com/sceau/sceau/internal/sceau"
)

func newBenchCmd(e *env) *cobra.Command {
	o := &bench.Options{}
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure issuance, OCSP and site throughput on a temporary installation",
		Long: `bench creates a throwaway installation in a temporary directory (as 'sceau init'
would, on two free ports of 127.0.0.1), serves it in this process, drives it
over real HTTP with concurrent clients, prints what it measured against the
project's targets, and removes the directory.

  sceau bench issue   POST /api/v1/certificates on the admin listener (TLS 1.3,
                      operator client certificate, keep-alive connections), one
                      pre-generated P-256 CSR per request, the server profile.
                      Target: at least 3000 certificates/s, p99 under 20 ms.
  sceau bench ocsp    issues --certs certificates first, then POSTs DER OCSP
                      requests (SHA-1 CertID, no nonce: the pre-signed path)
                      to /ocsp on the public listener.
                      Target: at least 10000 responses/s, p99 under 5 ms.
  sceau bench crl     GETs each CA's /crl/{id}.crl in turn on the public listener.
                      Target: as OCSP's (served from memory likewise).
  sceau bench site    runs 'bench ocsp', then, on the same installation, GETs
                      the site in turn: /fr/ and /en/, each CA's page in both,
                      /crl/{id}.crl, /ca/{id}.der and /manifest.json. It prints
                      both results and the site's ratios to OCSP: target rate
                      at least OCSP's, p99 no higher (PUB-3; --cpuprofile
                      profiles the site's run).

Each prints requests, errors, the rate, p50, p99 and max latency, the
process's peak and current resident memory (VmHWM, VmRSS: server and clients
share the process), and PASS or BELOW for each target with the figure's
ratio to it. Clients and server share the machine's cores: on a small
machine the figures are a floor. --cpuprofile writes a CPU profile of the
measured run (server and clients) for 'go tool pprof'. Each also prints this
process's CPU in cores; issue also measures bare x509.CreateCertificate on
every core after the run (--bare) and prints the rate's share of it.

--running drives the installation of --config while it serves, with its
operator client certificate: issue issues real certificates (CA issuing,
profile server) and ocsp asks about up to --certs of its issued ones; use a
test installation. --node ADMIN,PUBLIC (repeat it) spreads the clients over
several nodes; the nodes' CPU and memory are read from their /metrics.`,
	}
	cmd.PersistentFlags().IntVar(&o.Clients, "clients", 8, "concurrent clients, each with its own keep-alive connection")
	cmd.PersistentFlags().DurationVar(&o.Duration, "duration", 10*time.Second, "how long to measure (ignored with --count)")
	cmd.PersistentFlags().IntVar(&o.Count, "count", 0, "measure exactly this many requests instead of a --duration")
	cmd.PersistentFlags().StringVar(&o.CPUProfile, "cpuprofile", "", "write a CPU profile of the measured run to this file")
	cmd.PersistentFlags().BoolVar(&e.jsonOut, "json", false, "print the result as JSON")
	cmd.PersistentFlags().DurationVar(&o.Bare, "bare", 2*time.Second, "after issue, measure bare x509.CreateCertificate on every core this long (0: skip)")
	var running bool
	var nodes []string
	cmd.PersistentFlags().BoolVar(&running, "running", false, "drive the running installation of --config (issue: real certificates) instead of a throwaway one")
	cmd.PersistentFlags().StringArrayVar(&nodes, "node", nil, "with --running: a node as ADMIN,PUBLIC host:port (either may be empty); repeat for each")
	sub := func(use, short string, certs bool, run func(context.Context) error) *cobra.Command {
		c := &cobra.Command{Use: use, Short: short, Args: cobra.NoArgs, RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkBenchFlags(o, certs); err != nil {
				return err
			}
			if o.Remote = nil; running {
				cfg, err := config.Load(e.configPath)
				if err != nil {
					return err
				}
				o.Remote = &bench.Remote{Config: cfg}
				if s, err := readSession(cfg); err == nil && s != nil {
					o.Remote.Token = s.Token // to read the nodes' /metrics
				}
				for _, n := range nodes {
					admin, public, _ := strings.Cut(n, ",")
					o.Remote.Nodes = append(o.Remote.Nodes, bench.Node{Admin: admin, Public: public})
				}
			}
			return run(cmd.Context())
		}}
		if certs {
			c.Flags().IntVar(&o.Certs, "certs", 1000, "certificates to issue first; the OCSP requests cycle over them")
		}
		return c
	}
	cmd.AddCommand(
		sub("issue", "Measure certificate issuance through the admin API", false,
			func(ctx context.Context) error { return runBench(ctx, e, o, bench.Issue) }),
		sub("ocsp", "Measure OCSP answers from pre-signed responses on the public listener", true,
			func(ctx context.Context) error { return runBench(ctx, e, o, bench.OCSP) }),
		sub("crl", "Measure downloads of every CA's CRL on the public listener", false,
			func(ctx context.Context) error { return runBench(ctx, e, o, bench.CRL) }),
		sub("site", "Measure the public site's pages and files against OCSP in the same run", true,
			func(ctx context.Context) error { return runBench(ctx, e, o, bench.SiteVsOCSP) }))
	return cmd
}

// checkBenchFlags reports a bad flag by its name.
func checkBenchFlags(o *bench.Options, certs bool) error {
	const op = "bench"
	switch {
	case o.Clients < 1:
		return sceau.Errorf(sceau.Invalid, op, "--clients must be at least 1")
	case o.Count < 0:
		return sceau.Errorf(sceau.Invalid, op, "--count must not be negative")
	case o.Count == 0 && o.Duration <= 0:
		return sceau.Errorf(sceau.Invalid, op, "--duration must be positive")
	case certs && o.Certs < 1:
		return sceau.Errorf(sceau.Invalid, op, "--certs must be at least 1")
	}
	return nil
}

// runBench runs one measurement with progress on a terminal only, and
// prints its result.
func runBench[R interface{ Report(io.Writer) error }](ctx context.Context, e *env, o *bench.Options,
	measure func(context.Context, bench.Options) (R, error)) error {
	opts := *o
	if isTerminal(e.stderr) {
		opts.Progress = e.stderr
	}
	res, err := measure(ctx, opts)
	if err != nil {
		return err
	}
	if e.jsonOut {
		return printJSON(e.stdout, res)
	}
	return res.Report(e.stdout)
}
