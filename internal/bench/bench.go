package bench

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/sceau/sceau/internal/adminapi"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/server"
)

// Target is a goal for one kind of request: a rate to reach and a p99 to
// stay under.
type Target struct {
	Rate float64       // successful requests per second, at least
	P99  time.Duration // 99th-percentile latency, strictly less
}

// The project's targets.
var (
	IssueTarget = Target{Rate: 3000, P99: 20 * time.Millisecond}
	OCSPTarget  = Target{Rate: 10000, P99: 5 * time.Millisecond}
)

// Options say how to drive the installation.
type Options struct {
	// Clients is the number of concurrent clients, each with its own
	// keep-alive connection; at least 1.
	Clients int
	// Duration is how long to measure; ignored when Count is set.
	Duration time.Duration
	// Count, if positive, measures exactly this many requests.
	Count int
	// Certs is the number of certificates OCSP issues before measuring;
	// the requests cycle over them. At least 1 for OCSP; Issue ignores it.
	Certs int
	// CPUProfile, if set, is the file that receives a CPU profile of the
	// measured run (server and clients), for 'go tool pprof'.
	CPUProfile string
	// Progress receives the steps and a status line rewritten in place
	// (terminal control sequences); nil shows nothing.
	Progress io.Writer
	// Remote, if set, is the running installation to drive instead of a
	// throwaway one (target.go).
	Remote *Remote
	// Bare, if positive, is how long to measure bare x509.CreateCertificate
	// on every core after an issuance run, the ceiling its rate is
	// compared with (issue 13).
	Bare time.Duration
}

func (o *Options) validate(needCerts bool) error {
	const op = "bench"
	switch {
	case o.Clients < 1:
		return sceau.Errorf(sceau.Invalid, op, "at least one client is needed")
	case o.Count < 0:
		return sceau.Errorf(sceau.Invalid, op, "the count must not be negative")
	case o.Count == 0 && o.Duration <= 0:
		return sceau.Errorf(sceau.Invalid, op, "the duration must be positive")
	case needCerts && o.Certs < 1:
		return sceau.Errorf(sceau.Invalid, op, "at least one certificate is needed")
	}
	return nil
}

const issuePath = "/api/v1/certificates"

// Issue measures certificate issuance through the admin API of a new
// temporary installation.
func Issue(ctx context.Context, o Options) (*Result, error) {
	if err := o.validate(false); err != nil {
		return nil, err
	}
	return withTarget(ctx, o, func(t *target) (*Result, error) { return measureIssue(ctx, t, o) })
}

func measureIssue(ctx context.Context, t *target, o Options) (*Result, error) {
	dial, host, err := t.dialer(true)
	if err != nil {
		return nil, err
	}
	n := 2048
	if o.Count > 0 {
		n = min(o.Count, n)
	}
	progress(o.Progress, "generating %d P-256 requests …", n)
	bodies, err := csrBodies(n)
	if err != nil {
		return nil, err
	}
	reqs := make([][]byte, len(bodies))
	for i, b := range bodies {
		reqs[i] = postRequest(host, issuePath, "application/json", b)
	}
	clients := newClients(o.Clients, dial)
	defer closeClients(clients)
	issue := func(c *rawClient, i int) error {
		_, err := issueOnce(c, reqs[i%len(reqs)])
		return err
	}
	// One request per client first: the connections (TLS handshakes) are
	// made outside the measurement.
	if _, err := runClients(ctx, o.Progress, "warm-up", clients, 0, o.Clients, "", issue); err != nil {
		return nil, err
	}
	return t.measure(ctx, o, "issue", t.endpoint("POST", "https", issuePath, true), IssueTarget, clients, issue)
}

// measure runs the clients with fn, sampling CPU and memory around the
// run, then the bare signing ceiling if asked, and makes the Result.
func (t *target) measure(ctx context.Context, o Options, name, endpoint string, goal Target, clients []*rawClient,
	fn func(c *rawClient, i int) error) (*Result, error) {
	before := t.sample(ctx)
	r, err := runClients(ctx, o.Progress, name, clients, o.Duration, o.Count, o.CPUProfile, fn)
	if err != nil {
		return nil, err
	}
	after := t.sample(ctx)
	res := newResult(name, endpoint, o, r, goal)
	res.Remote = t.remote
	res.addUsage(before, after)
	if o.Bare > 0 && name == "issue" { // the ceiling of signing, issuance's yardstick
		progress(o.Progress, "measuring bare x509.CreateCertificate on every core for %s …", o.Bare)
		if res.BareRate = bareSignRate(o.Bare); res.BareRate > 0 {
			res.BareRatio = res.Rate / res.BareRate
		}
	}
	return res, nil
}

// OCSP measures OCSP answers from pre-signed responses on the public
// listener: of a new temporary installation, after issuing o.Certs
// certificates through the admin API; or of a running one, for up to
// o.Certs of the issuing CA's certificates it already has.
func OCSP(ctx context.Context, o Options) (*Result, error) {
	if err := o.validate(true); err != nil {
		return nil, err
	}
	return withTarget(ctx, o, func(t *target) (*Result, error) { return measureOCSPOn(ctx, t, o) })
}

// measureOCSP measures the OCSP answers of the throwaway installation inst.
func measureOCSP(ctx context.Context, inst *installation, o Options) (*Result, error) {
	t, err := newTarget(Options{}, inst)
	if err != nil {
		return nil, err
	}
	return measureOCSPOn(ctx, t, o)
}

func measureOCSPOn(ctx context.Context, t *target, o Options) (*Result, error) {
	issuer, err := t.caCertificate(ctx, "issuing")
	if err != nil {
		return nil, err
	}
	var certs []*x509.Certificate
	if t.remote {
		certs, err = existingCertificates(ctx, t, o.Certs)
	} else {
		certs, err = issueCertificates(ctx, t, o)
	}
	if err != nil {
		return nil, err
	}
	const path = "/ocsp"
	dial, host, err := t.dialer(false)
	if err != nil {
		return nil, err
	}
	reqs := make([][]byte, len(certs))
	for i, cert := range certs {
		der, err := ocsp.CreateRequest(cert, issuer, &ocsp.RequestOptions{Hash: crypto.SHA1})
		if err != nil {
			return nil, err
		}
		reqs[i] = postRequest(host, path, "application/ocsp-request", der)
	}
	clients := newClients(o.Clients, dial)
	defer closeClients(clients)
	// Check one answer in full before measuring: a good status for the
	// certificate, signed for the CA. The measured requests only check
	// that the OCSP status is "successful".
	body, err := ocspOnce(clients[0], reqs[0])
	if err != nil {
		return nil, err
	}
	resp, err := ocsp.ParseResponseForCert(body, certs[0], issuer)
	if err != nil {
		return nil, fmt.Errorf("bench: the OCSP answer does not verify: %w", err)
	}
	if resp.Status != ocsp.Good {
		return nil, fmt.Errorf("bench: the OCSP answer for a valid certificate is %d, not good", resp.Status)
	}
	return t.measure(ctx, o, "ocsp", t.endpoint("POST", "http", path, false)+fmt.Sprintf(" (%d certificates)", len(certs)), OCSPTarget,
		clients, func(c *rawClient, i int) error {
			_, err := ocspOnce(c, reqs[i%len(reqs)])
			return err
		})
}

// existingCertificates lists up to n issued certificates of the issuing CA
// of a running installation; an OCSP request needs only the serial.
func existingCertificates(ctx context.Context, t *target, n int) ([]*x509.Certificate, error) {
	c, err := t.api()
	if err != nil {
		return nil, err
	}
	var out []*x509.Certificate
	after := ""
	for len(out) < n {
		page, err := c.Certificates(ctx, adminapi.CertificateFilter{CA: "issuing", Status: "issued", After: after, Limit: min(n-len(out), 1000)})
		if err != nil {
			return nil, err
		}
		if len(page) == 0 {
			break
		}
		for _, rec := range page {
			serial, ok := new(big.Int).SetString(rec.Serial, 16)
			if !ok {
				return nil, fmt.Errorf("bench: serial %q is not hexadecimal", rec.Serial)
			}
			out = append(out, &x509.Certificate{SerialNumber: serial})
		}
		after = page[len(page)-1].Serial
	}
	if len(out) == 0 {
		return nil, sceau.Errorf(sceau.NotFound, "bench", "the issuing CA has no issued certificate to ask about: issue some first")
	}
	return out, nil
}

// publicDialer connects to the public listener over plain TCP.
func publicDialer(addr string) func() (net.Conn, error) {
	return func() (net.Conn, error) { return net.DialTimeout("tcp", addr, 10*time.Second) }
}

// issueCertificates issues o.Certs certificates through the admin API, from
// o.Clients connections, and returns them.
func issueCertificates(ctx context.Context, t *target, o Options) ([]*x509.Certificate, error) {
	dial, host, err := t.dialer(true)
	if err != nil {
		return nil, err
	}
	progress(o.Progress, "generating %d P-256 requests …", o.Certs)
	bodies, err := csrBodies(o.Certs)
	if err != nil {
		return nil, err
	}
	admins := newClients(o.Clients, dial)
	defer closeClients(admins)
	certs := make([]*x509.Certificate, o.Certs)
	_, err = runClients(ctx, o.Progress, "issuing the certificates", admins, 0, o.Certs, "", func(c *rawClient, i int) error {
		b, err := issueOnce(c, postRequest(host, issuePath, "application/json", bodies[i]))
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
	})
	if err != nil {
		return nil, err
	}
	return certs, nil
}

// csrBodies makes n distinct issuance requests (P-256 keys, server
// profile) as ready JSON bodies.
func csrBodies(n int) ([][]byte, error) {
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
