package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
	"golang.org/x/crypto/ocsp"

	"github.com/sceau/sceau/internal/access"
	"github.com/sceau/sceau/internal/config"
	"github.com/sceau/sceau/internal/node"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/server"
)

// benchOptions are the flags of the bench commands.
type benchOptions struct {
	clients    int
	duration   time.Duration
	count      int
	certs      int // ocsp: certificates issued before the measurement
	cpuProfile string
}

// benchTarget is a command's goal: a rate to reach and a p99 to stay under.
type benchTarget struct {
	Rate float64       // requests per second, at least
	P99  time.Duration // strictly less
}

var (
	issueTarget = benchTarget{Rate: 3000, P99: 20 * time.Millisecond}
	ocspTarget  = benchTarget{Rate: 10000, P99: 5 * time.Millisecond}
)

func newBenchCmd(e *env) *cobra.Command {
	o := &benchOptions{}
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure issuance and OCSP throughput on a temporary installation",
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

Each prints requests, errors, the rate, p50, p99 and max latency, the
process's peak and current resident memory (VmHWM, VmRSS: server and clients
share the process), and PASS or BELOW for each target with the figure's
ratio to it. Clients and server share the machine's cores: on a small
machine the figures are a floor. --cpuprofile writes a CPU profile of the
measured run (server and clients) for 'go tool pprof'.`,
	}
	cmd.PersistentFlags().IntVar(&o.clients, "clients", 8, "concurrent clients, each with its own keep-alive connection")
	cmd.PersistentFlags().DurationVar(&o.duration, "duration", 10*time.Second, "how long to measure (ignored with --count)")
	cmd.PersistentFlags().IntVar(&o.count, "count", 0, "measure exactly this many requests instead of a --duration")
	cmd.PersistentFlags().StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of the measured run to this file")
	cmd.PersistentFlags().BoolVar(&e.jsonOut, "json", false, "print the result as JSON")

	issue := &cobra.Command{
		Use:   "issue",
		Short: "Measure certificate issuance through the admin API",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.check(); err != nil {
				return err
			}
			return benchIssue(cmd.Context(), e, o)
		},
	}
	ocspCmd := &cobra.Command{
		Use:   "ocsp",
		Short: "Measure OCSP answers from pre-signed responses on the public listener",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.check(); err != nil {
				return err
			}
			if o.certs < 1 {
				return sceau.Errorf(sceau.Invalid, "bench", "--certs must be at least 1")
			}
			return benchOCSP(cmd.Context(), e, o)
		},
	}
	ocspCmd.Flags().IntVar(&o.certs, "certs", 1000, "certificates to issue first; the requests cycle over them")
	cmd.AddCommand(issue, ocspCmd)
	return cmd
}

func (o *benchOptions) check() error {
	const op = "bench"
	switch {
	case o.clients < 1:
		return sceau.Errorf(sceau.Invalid, op, "--clients must be at least 1")
	case o.count < 0:
		return sceau.Errorf(sceau.Invalid, op, "--count must not be negative")
	case o.count == 0 && o.duration <= 0:
		return sceau.Errorf(sceau.Invalid, op, "--duration must be positive")
	}
	return nil
}

// benchInstallation is a throwaway installation served in this process.
type benchInstallation struct {
	dir    string
	cfg    *config.Config
	node   *node.Node
	cancel context.CancelFunc
	errc   chan error
}

// startBench initializes an installation in a new temporary directory on
// two free ports and serves it until Close.
func startBench(ctx context.Context, e *env) (*benchInstallation, error) {
	const op = "bench"
	dir, err := os.MkdirTemp("", "sceau-bench-")
	if err != nil {
		return nil, sceau.E(sceau.Unavailable, op, "cannot create a temporary directory", err)
	}
	fail := func(err error) (*benchInstallation, error) {
		os.RemoveAll(dir)
		return nil, err
	}
	ports, err := freePorts(2)
	if err != nil {
		return fail(sceau.E(sceau.Unavailable, op, "no free port on 127.0.0.1", err))
	}
	data := templateData{Org: "Sceau Bench", PublicListen: ports[0], AdminListen: ports[1], BaseURL: "http://" + ports[0]}
	progress(e, "creating a temporary installation in %s …", dir)
	inst, err := node.Init(ctx, dir, renderConfig(data), node.InitOptions{})
	if err != nil {
		return fail(err)
	}
	cfg, err := config.Load(inst.ConfigPath)
	if err != nil {
		return fail(err)
	}
	// Requests that fail are counted and the first is shown; the server's
	// own log would only compete with the measurement.
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	sctx, cancel := context.WithCancel(ctx)
	b := &benchInstallation{dir: dir, cfg: cfg, cancel: cancel, errc: make(chan error, 1)}
	ready := make(chan *node.Node, 1)
	go func() { b.errc <- node.Serve(sctx, cfg, log, func(n *node.Node) { ready <- n }) }()
	select {
	case b.node = <-ready:
		return b, nil
	case err := <-b.errc:
		cancel()
		return fail(err)
	case <-ctx.Done():
		cancel()
		<-b.errc
		return fail(sceau.E(sceau.Unavailable, op, "interrupted", ctx.Err()))
	}
}

// Close stops the server and removes the installation.
func (b *benchInstallation) Close() error {
	b.cancel()
	err := <-b.errc
	if rerr := os.RemoveAll(b.dir); err == nil && rerr != nil {
		err = rerr
	}
	return err
}

// freePorts returns n distinct host:port on 127.0.0.1 that were free a
// moment ago.
func freePorts(n int) ([]string, error) {
	var out []string
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		defer ln.Close()
		out = append(out, ln.Addr().String())
	}
	return out, nil
}

// rawClient is a minimal HTTP/1.1 client over one keep-alive connection
// (TLS for the admin listener). A load generator should take as little of
// the shared CPU as it can: net/http's client spends two goroutines and
// their hand-offs per connection, this one only writes each pre-built
// request and reads the response.
type rawClient struct {
	dial func() (net.Conn, error)
	conn net.Conn
	br   *bufio.Reader
}

// do sends a complete request and returns the status and body of the
// response. A connection the server closed is redialled once.
func (c *rawClient) do(req []byte) (int, []byte, error) {
	for attempt := 0; ; attempt++ {
		reused := c.conn != nil
		if !reused {
			conn, err := c.dial()
			if err != nil {
				return 0, nil, err
			}
			c.conn, c.br = conn, bufio.NewReaderSize(conn, 16<<10)
		}
		status, body, err := c.exchange(req)
		if err == nil {
			return status, body, nil
		}
		c.Close()
		if !reused || attempt > 0 {
			return 0, nil, err
		}
	}
}

func (c *rawClient) exchange(req []byte) (int, []byte, error) {
	if _, err := c.conn.Write(req); err != nil {
		return 0, nil, err
	}
	resp, err := http.ReadResponse(c.br, nil)
	if err != nil {
		return 0, nil, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return 0, nil, err
	}
	if resp.Close {
		c.Close()
	}
	return resp.StatusCode, body, nil
}

// Close drops the connection.
func (c *rawClient) Close() {
	if c.conn != nil {
		c.conn.Close()
		c.conn, c.br = nil, nil
	}
}

// postRequest is a complete HTTP/1.1 POST of body to host and path.
func postRequest(host, path, contentType string, body []byte) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n", path, host, contentType, len(body))
	b.Write(body)
	return b.Bytes()
}

// adminDialer connects to the admin listener with the operator's
// certificate, as the CLI does.
func adminDialer(cfg *config.Config) (func() (net.Conn, error), error) {
	tlsCfg, err := access.ClientTLS(cfg.Path(cfg.Admin.Dir), access.OperatorCert, access.OperatorKeyFile)
	if err != nil {
		return nil, err
	}
	tlsCfg.NextProtos = []string{"http/1.1"}
	return func() (net.Conn, error) {
		return tls.DialWithDialer(&net.Dialer{Timeout: 10 * time.Second}, "tcp", cfg.Admin.Listen, tlsCfg)
	}, nil
}

// benchCSRBodies makes n distinct issuance requests (P-256 keys, server
// profile) as ready JSON bodies.
func benchCSRBodies(n int) ([][]byte, error) {
	out := make([][]byte, n)
	for i := range out {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, err
		}
		name := fmt.Sprintf("bench-%d.example.org", i)
		csr, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{
			Subject: pkix.Name{CommonName: name}, DNSNames: []string{name}}, key)
		if err != nil {
			return nil, err
		}
		if out[i], err = json.Marshal(server.IssueRequest{CA: "issuing", Profile: "server",
			CSR: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: csr}))}); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// issueOnce posts one issuance request; it returns the response body.
func issueOnce(c *rawClient, req []byte) ([]byte, error) {
	status, body, err := c.do(req)
	if err != nil {
		return nil, err
	}
	if status != http.StatusCreated {
		return nil, fmt.Errorf("%d %s: %s", status, http.StatusText(status), bytes.TrimSpace(body))
	}
	return body, nil
}

func benchIssue(ctx context.Context, e *env, o *benchOptions) error {
	inst, err := startBench(ctx, e)
	if err != nil {
		return err
	}
	defer inst.Close()
	dial, err := adminDialer(inst.cfg)
	if err != nil {
		return err
	}
	const path = "/api/v1/certificates"
	n := 2048
	if o.count > 0 {
		n = min(o.count, n)
	}
	progress(e, "generating %d P-256 requests …", n)
	bodies, err := benchCSRBodies(n)
	if err != nil {
		return err
	}
	reqs := make([][]byte, len(bodies))
	for i, b := range bodies {
		reqs[i] = postRequest(inst.cfg.Admin.Listen, path, "application/json", b)
	}
	clients := make([]*rawClient, o.clients)
	for i := range clients {
		clients[i] = &rawClient{dial: dial}
		defer clients[i].Close()
	}
	// One request per client first: the connections (TLS handshakes) are
	// made outside the measurement.
	if _, err := runClients(ctx, e, "warm-up", clients, 0, o.clients, "", func(c *rawClient, i int) error {
		_, err := issueOnce(c, reqs[i%len(reqs)])
		return err
	}); err != nil {
		return err
	}
	r, err := runClients(ctx, e, "issue", clients, o.duration, o.count, o.cpuProfile, func(c *rawClient, i int) error {
		_, err := issueOnce(c, reqs[i%len(reqs)])
		return err
	})
	if err != nil {
		return err
	}
	return report(e, "issue", "POST https://"+inst.cfg.Admin.Listen+path, o, r, issueTarget)
}

func benchOCSP(ctx context.Context, e *env, o *benchOptions) error {
	inst, err := startBench(ctx, e)
	if err != nil {
		return err
	}
	defer inst.Close()
	dial, err := adminDialer(inst.cfg)
	if err != nil {
		return err
	}
	issuing, err := inst.node.Authority.CA("issuing")
	if err != nil {
		return err
	}
	progress(e, "generating %d P-256 requests …", o.certs)
	bodies, err := benchCSRBodies(o.certs)
	if err != nil {
		return err
	}
	admins := make([]*rawClient, o.clients)
	for i := range admins {
		admins[i] = &rawClient{dial: dial}
		defer admins[i].Close()
	}
	certs := make([]*x509.Certificate, o.certs)
	if _, err := runClients(ctx, e, "issuing the certificates", admins, 0, o.certs, "", func(c *rawClient, i int) error {
		b, err := issueOnce(c, postRequest(inst.cfg.Admin.Listen, "/api/v1/certificates", "application/json", bodies[i]))
		if err != nil {
			return err
		}
		var resp server.IssueResponse
		if err := json.Unmarshal(b, &resp); err != nil {
			return err
		}
		blk, _ := pem.Decode([]byte(resp.Certificate))
		if blk == nil {
			return errors.New("the answer holds no PEM certificate")
		}
		certs[i], err = x509.ParseCertificate(blk.Bytes)
		return err
	}); err != nil {
		return err
	}
	for _, c := range admins {
		c.Close()
	}

	const path = "/ocsp"
	addr := inst.cfg.Public.Listen
	reqs := make([][]byte, len(certs))
	for i, cert := range certs {
		der, err := ocsp.CreateRequest(cert, issuing.Cert, &ocsp.RequestOptions{Hash: crypto.SHA1})
		if err != nil {
			return err
		}
		reqs[i] = postRequest(addr, path, "application/ocsp-request", der)
	}
	clients := make([]*rawClient, o.clients)
	for i := range clients {
		clients[i] = &rawClient{dial: func() (net.Conn, error) { return net.DialTimeout("tcp", addr, 10*time.Second) }}
		defer clients[i].Close()
	}
	// Check one answer in full before measuring: a good status for the
	// certificate, signed by the CA's responder. The measured requests
	// only check that the OCSP status is "successful".
	body, err := ocspOnce(clients[0], reqs[0])
	if err != nil {
		return err
	}
	resp, err := ocsp.ParseResponseForCert(body, certs[0], issuing.Cert)
	if err != nil {
		return fmt.Errorf("bench: the OCSP answer does not verify: %w", err)
	}
	if resp.Status != ocsp.Good {
		return fmt.Errorf("bench: the OCSP answer for a fresh certificate is %d, not good", resp.Status)
	}
	r, err := runClients(ctx, e, "ocsp", clients, o.duration, o.count, o.cpuProfile, func(c *rawClient, i int) error {
		_, err := ocspOnce(c, reqs[i%len(reqs)])
		return err
	})
	if err != nil {
		return err
	}
	return report(e, "ocsp", fmt.Sprintf("POST http://%s%s (%d certificates)", addr, path, len(certs)), o, r, ocspTarget)
}

// ocspOnce posts one DER request and checks the answer is a successful
// OCSP response.
func ocspOnce(c *rawClient, req []byte) ([]byte, error) {
	status, b, err := c.do(req)
	if err != nil {
		return nil, err
	}
	if status != http.StatusOK {
		return nil, fmt.Errorf("%d %s: %s", status, http.StatusText(status), bytes.TrimSpace(b))
	}
	// OCSPResponse ::= SEQUENCE { responseStatus ENUMERATED, ... }
	s := cryptobyte.String(b)
	var seq cryptobyte.String
	var rs int
	if !s.ReadASN1(&seq, cbasn1.SEQUENCE) || !seq.ReadASN1Enum(&rs) {
		return nil, errors.New("the answer is not an OCSP response")
	}
	if rs != 0 {
		return nil, fmt.Errorf("OCSP response status %d, not successful", rs)
	}
	return b, nil
}

// benchRun is what runClients measured.
type benchRun struct {
	elapsed    time.Duration
	latencies  []time.Duration // of the successful requests, sorted
	requests   int64
	errors     int64
	firstError string
}

// runClients runs do from one goroutine per client, for d or, if
// count > 0, for exactly count requests (i is the request's number),
// timing each one.
// With a profile file, the run is CPU-profiled. Progress goes to a
// terminal only.
func runClients(ctx context.Context, e *env, name string, clients []*rawClient, d time.Duration, count int, profile string,
	do func(c *rawClient, i int) error) (*benchRun, error) {
	var (
		next, done, failed atomic.Int64
		firstErr           sync.Once
		r                  benchRun
		mu                 sync.Mutex
	)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if profile != "" {
		f, err := os.Create(profile)
		if err != nil {
			return nil, sceau.E(sceau.Invalid, "bench", "cannot create the profile file", err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return nil, sceau.E(sceau.Internal, "bench", "cannot start the CPU profile", err)
		}
		defer pprof.StopCPUProfile()
	}
	resetPeakMemory()
	start := time.Now()
	deadline := start.Add(d)
	stopProgress := showProgress(e, name, start, &done, &failed)
	var wg sync.WaitGroup
	for _, c := range clients {
		wg.Go(func() {
			lat := make([]time.Duration, 0, 1<<14)
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if count > 0 && i >= count || count == 0 && !time.Now().Before(deadline) {
					break
				}
				t := time.Now()
				err := do(c, i)
				el := time.Since(t)
				if err != nil {
					if ctx.Err() != nil {
						break
					}
					failed.Add(1)
					firstErr.Do(func() { r.firstError = err.Error() })
				} else {
					lat = append(lat, el)
				}
				done.Add(1)
			}
			mu.Lock()
			r.latencies = append(r.latencies, lat...)
			mu.Unlock()
		})
	}
	wg.Wait()
	r.elapsed = time.Since(start)
	stopProgress()
	if err := ctx.Err(); err != nil {
		return nil, sceau.E(sceau.Unavailable, "bench", "interrupted", err)
	}
	r.requests, r.errors = done.Load(), failed.Load()
	slices.Sort(r.latencies)
	if r.requests > 0 && r.errors == r.requests {
		return &r, sceau.Errorf(sceau.Unavailable, "bench", "%s: every request failed; the first: %s", name, r.firstError)
	}
	return &r, nil
}

// isTerminal reports whether w is a terminal (progress is shown there only).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// progress prints a step on a terminal.
func progress(e *env, format string, args ...any) {
	if isTerminal(e.stderr) {
		fmt.Fprintf(e.stderr, "\r\033[K"+format, args...)
	}
}

// showProgress rewrites one status line on a terminal until stopped.
func showProgress(e *env, name string, start time.Time, done, failed *atomic.Int64) (stop func()) {
	if !isTerminal(e.stderr) {
		return func() {}
	}
	quit, finished := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(250 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-quit:
				fmt.Fprint(e.stderr, "\r\033[K")
				return
			case <-t.C:
				n := done.Load()
				fmt.Fprintf(e.stderr, "\r\033[K%s: %d requests, %d errors, %.0f/s", name, n, failed.Load(),
					float64(n)/time.Since(start).Seconds())
			}
		}
	}()
	return func() { close(quit); <-finished }
}

// BenchResult is the outcome of a bench command, as printed with --json.
type BenchResult struct {
	Bench      string  `json:"bench"`
	Endpoint   string  `json:"endpoint"`
	Clients    int     `json:"clients"`
	CPUs       int     `json:"cpus"`
	Seconds    float64 `json:"seconds"`
	Requests   int64   `json:"requests"`
	Errors     int64   `json:"errors"`
	FirstError string  `json:"first_error,omitempty"`
	Rate       float64 `json:"rate_per_s"`
	P50ms      float64 `json:"p50_ms"`
	P99ms      float64 `json:"p99_ms"`
	MaxMs      float64 `json:"max_ms"`
	VmHWMKiB   int64   `json:"vm_hwm_kib"`
	VmRSSKiB   int64   `json:"vm_rss_kib"`
	Target     struct {
		Rate      float64 `json:"rate_per_s"`
		RateRatio float64 `json:"rate_ratio"` // measured / target: 1 or more passes
		RatePass  bool    `json:"rate_pass"`
		P99ms     float64 `json:"p99_ms"`
		P99Ratio  float64 `json:"p99_ratio"` // measured / limit: under 1 passes
		P99Pass   bool    `json:"p99_pass"`
	} `json:"target"`
}

func report(e *env, name, endpoint string, o *benchOptions, r *benchRun, t benchTarget) error {
	res := BenchResult{Bench: name, Endpoint: endpoint, Clients: o.clients, CPUs: runtime.GOMAXPROCS(0),
		Seconds: r.elapsed.Seconds(), Requests: r.requests, Errors: r.errors, FirstError: r.firstError}
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	if ok := int64(len(r.latencies)); ok > 0 {
		res.Rate = float64(ok) / r.elapsed.Seconds()
		res.P50ms = ms(r.latencies[len(r.latencies)/2])
		res.P99ms = ms(r.latencies[min(len(r.latencies)-1, len(r.latencies)*99/100)])
		res.MaxMs = ms(r.latencies[len(r.latencies)-1])
	}
	res.VmHWMKiB, res.VmRSSKiB = processMemory()
	res.Target.Rate, res.Target.P99ms = t.Rate, ms(t.P99)
	res.Target.RateRatio = res.Rate / t.Rate
	res.Target.RatePass = res.Rate >= t.Rate && r.errors == 0
	res.Target.P99ms = ms(t.P99)
	res.Target.P99Ratio = res.P99ms / ms(t.P99)
	res.Target.P99Pass = res.P99ms < ms(t.P99) && len(r.latencies) > 0
	if e.jsonOut {
		return printJSON(e.stdout, res)
	}
	verdict := func(ok bool) string {
		if ok {
			return "PASS"
		}
		return "BELOW"
	}
	w := e.stdout
	fmt.Fprintf(w, "sceau bench %s: %s\n", name, endpoint)
	fmt.Fprintf(w, "  clients   %d on %d CPUs (clients and server share them), %.1fs\n", res.Clients, res.CPUs, res.Seconds)
	fmt.Fprintf(w, "  requests  %d, errors %d\n", res.Requests, res.Errors)
	if res.FirstError != "" {
		fmt.Fprintf(w, "  first error: %s\n", res.FirstError)
	}
	fmt.Fprintf(w, "  rate      %.0f/s      target >= %.0f/s  %.2f of target  %s\n", res.Rate, t.Rate, res.Target.RateRatio,
		verdict(res.Target.RatePass))
	fmt.Fprintf(w, "  latency   p50 %.2f ms  p99 %.2f ms  max %.2f ms\n", res.P50ms, res.P99ms, res.MaxMs)
	fmt.Fprintf(w, "            target p99 < %.0f ms  %.2f of limit  %s\n", res.Target.P99ms, res.Target.P99Ratio,
		verdict(res.Target.P99Pass))
	fmt.Fprintf(w, "  memory    VmHWM %.1f MiB (peak during the run), VmRSS %.1f MiB at its end (server and clients, one process)\n",
		float64(res.VmHWMKiB)/1024, float64(res.VmRSSKiB)/1024)
	if o.cpuProfile != "" {
		fmt.Fprintf(w, "  profile   %s (go tool pprof -top %s)\n", o.cpuProfile, o.cpuProfile)
	}
	return nil
}

// resetPeakMemory returns the free heap to the system and makes VmHWM
// start again from the resident set (Linux: 5 to /proc/self/clear_refs),
// so that the peak reported is the measured run's, not the keystore's key
// derivation at start-up. It is best effort: elsewhere the peak stays the
// process's.
func resetPeakMemory() {
	debug.FreeOSMemory()
	_ = os.WriteFile(filepath.Join("/proc", "self", "clear_refs"), []byte("5"), 0)
}

// processMemory reads the peak and current resident set of this process
// (Linux /proc/self/status, KiB); zeros elsewhere.
func processMemory() (hwm, rss int64) {
	f, err := os.Open(filepath.Join("/proc", "self", "status"))
	if err != nil {
		return 0, 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		n, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		if err != nil {
			continue
		}
		switch k {
		case "VmHWM":
			hwm = n
		case "VmRSS":
			rss = n
		}
	}
	return hwm, rss
}
