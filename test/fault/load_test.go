package fault

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/sceau/sceau/internal/server"
)

// call sends a JSON request to the admin API and returns the status and
// body; err is set only when no answer came (the process is gone, the
// connection was cut).
func (in *installation) call(ctx context.Context, method, path string, body any) (int, []byte, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, in.adminAt+path, rd)
	if err != nil {
		return 0, nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := in.admin.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, nil, err
	}
	return resp.StatusCode, b, nil
}

// ackCert is a certificate whose issuance a client was told succeeded.
type ackCert struct {
	serial string
	pem    []byte
	cert   *x509.Certificate
	trial  int
}

// ledger is what the clients of one installation were told: each
// acknowledged issuance and revocation, the refusals, and every answer that
// breaks the rule "no 5xx other than a 503 with a reason".
type ledger struct {
	mu       sync.Mutex
	certs    map[string]*ackCert
	revoked  map[string]int // serial -> trial of the acknowledged revocation
	bad      []string
	badCount int // answers breaking the rules, all of them
	refused  int // 503 with a reason
	noAnswer int // the request got no answer at all
	cliFail  int // CLI issuance that exited non-zero
}

func newLedger() *ledger {
	return &ledger{certs: map[string]*ackCert{}, revoked: map[string]int{}}
}

func (l *ledger) badf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.badCount++
	if len(l.bad) < 50 {
		l.bad = append(l.bad, fmt.Sprintf(format, args...))
	} else if len(l.bad) == 50 {
		l.bad = append(l.bad, "… (more)")
	}
}

// refusalReason returns the reason an error answer gives: the "error" of
// the admin API's JSON body, or the text of a public listener's answer.
func refusalReason(body []byte) string {
	var eb server.ErrorBody
	if json.Unmarshal(body, &eb) == nil {
		return strings.TrimSpace(eb.Error)
	}
	return strings.TrimSpace(string(body))
}

// classify records an answer that is not a success: no answer at all, a
// clean refusal (a 503 that gives a reason), or a violation: any other
// error status, since the suite's requests are all valid.
func (l *ledger) classify(what string, code int, body []byte, err error) {
	switch {
	case err != nil:
		l.mu.Lock()
		l.noAnswer++
		l.mu.Unlock()
	case code == http.StatusServiceUnavailable && refusalReason(body) != "":
		l.mu.Lock()
		l.refused++
		l.mu.Unlock()
	default:
		l.badf("%s: %d %.300s", what, code, strings.TrimSpace(string(body)))
	}
}

func (l *ledger) ackIssue(c *ackCert) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, dup := l.certs[c.serial]; dup {
		l.badCount++
		l.bad = append(l.bad, "serial "+c.serial+" was acknowledged for two issuances")
		return
	}
	l.certs[c.serial] = c
}

func (l *ledger) ackRevoke(serial string, trial int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.revoked[serial] = trial
}

// counts returns the acknowledged issuances and revocations so far.
func (l *ledger) counts() (issued, revoked int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.certs), len(l.revoked)
}

// load is concurrent issuance and revocation against an installation:
// issuers over the admin API and one through the CLI, revokers that revoke
// about half of what was issued with reason keyCompromise, and a poller of
// the public listener.
type load struct {
	in     *installation
	trial  int
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	toRev  chan string
	n      sync.Mutex
	seq    int
	health struct {
		sync.Mutex
		codes map[int]int // /healthz answers by status
	}
}

// loadOptions size a load; zero values mean the defaults.
type loadOptions struct {
	issuers  int  // admin API issuers (default 3)
	revokers int  // default 2
	noCLI    bool // no CLI issuer
}

func (in *installation) startLoad(trial int, o loadOptions) *load {
	if o.issuers == 0 {
		o.issuers = 3
	}
	if o.revokers == 0 {
		o.revokers = 2
	}
	ctx, cancel := context.WithCancel(context.Background())
	l := &load{in: in, trial: trial, ctx: ctx, cancel: cancel, toRev: make(chan string, 1024)}
	l.health.codes = map[int]int{}
	for range o.issuers {
		l.wg.Add(1)
		go l.issuer()
	}
	if !o.noCLI {
		l.wg.Add(1)
		go l.cliIssuer()
	}
	for range o.revokers {
		l.wg.Add(1)
		go l.revoker()
	}
	l.wg.Add(1)
	go l.poller()
	return l
}

// halt stops the load and waits for every client.
func (l *load) halt() {
	l.cancel()
	l.wg.Wait()
}

// healthCodes returns how many times /healthz answered each status.
func (l *load) healthCodes() map[int]int {
	l.health.Lock()
	defer l.health.Unlock()
	m := map[int]int{}
	for k, v := range l.health.codes {
		m[k] = v
	}
	return m
}

func (l *load) next() int {
	l.n.Lock()
	defer l.n.Unlock()
	l.seq++
	return l.seq
}

// pause waits d or until the load stops; false when it stopped.
func (l *load) pause(d time.Duration) bool {
	select {
	case <-l.ctx.Done():
		return false
	case <-time.After(d):
		return true
	}
}

// csr makes a subscriber key and a PEM request for a fresh DNS name.
func (l *load) csr() (string, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", err
	}
	name := fmt.Sprintf("t%d-%d-%d.fault.example.org", l.trial, l.in.runs, l.next())
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{
		Subject: pkix.Name{CommonName: name}, DNSNames: []string{name}}, key)
	if err != nil {
		return "", err
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der})), nil
}

// acknowledge checks an issuance answer and records it; half the
// certificates go to the revokers.
func (l *load) acknowledge(resp *server.IssueResponse, how string) {
	blk, _ := pem.Decode([]byte(resp.Certificate))
	if blk == nil {
		l.in.ledger.badf("%s: 200 without a PEM certificate", how)
		return
	}
	cert, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		l.in.ledger.badf("%s: 200 with a certificate that does not parse: %v", how, err)
		return
	}
	if cert.SerialNumber.Text(16) != resp.Serial {
		l.in.ledger.badf("%s: serial %s in the answer, %x in the certificate", how, resp.Serial, cert.SerialNumber)
		return
	}
	l.in.ledger.ackIssue(&ackCert{serial: resp.Serial, pem: []byte(resp.Certificate), cert: cert, trial: l.trial})
	if cert.SerialNumber.Bit(0) == 1 {
		select {
		case l.toRev <- resp.Serial:
		default:
		}
	}
}

func (l *load) issuer() {
	defer l.wg.Done()
	for l.ctx.Err() == nil {
		csr, err := l.csr()
		if err != nil {
			l.in.ledger.badf("csr: %v", err)
			return
		}
		code, body, err := l.in.call(l.ctx, http.MethodPost, "/api/v1/certificates",
			server.IssueRequest{CA: "issuing", Profile: "server", CSR: csr})
		if l.ctx.Err() != nil && err != nil {
			return // cancelled by halt: no answer, not acknowledged
		}
		if err == nil && code/100 == 2 {
			var resp server.IssueResponse
			if err := json.Unmarshal(body, &resp); err != nil {
				l.in.ledger.badf("issue: %d with %.300q: %v", code, body, err)
				continue
			}
			l.acknowledge(&resp, "issue")
			continue
		}
		l.in.ledger.classify("issue", code, body, err)
		if !l.pause(20 * time.Millisecond) {
			return
		}
	}
}

// cliIssuer issues through `sceau cert issue`, as an operator's script
// would: exit 0 with the JSON answer is the acknowledgement.
func (l *load) cliIssuer() {
	defer l.wg.Done()
	dir, err := os.MkdirTemp(l.in.logDir, "cli-")
	if err != nil {
		l.in.ledger.badf("cli: %v", err)
		return
	}
	for i := 0; l.ctx.Err() == nil; i++ {
		csr, err := l.csr()
		if err != nil {
			l.in.ledger.badf("csr: %v", err)
			return
		}
		req := filepath.Join(dir, fmt.Sprintf("req-%d.pem", i))
		out := filepath.Join(dir, fmt.Sprintf("cert-%d.pem", i))
		if err := os.WriteFile(req, []byte(csr), 0o600); err != nil {
			l.in.ledger.badf("cli: %v", err)
			return
		}
		// Not bound to l.ctx: an issuance the CLI started is let finish,
		// so that its answer, if any, is recorded.
		stdout, err := l.in.sceauOut("cert", "issue", "--ca", "issuing", "--profile", "server", "--csr", req, "--out", out, "--json")
		if err != nil {
			l.in.ledger.mu.Lock()
			l.in.ledger.cliFail++
			l.in.ledger.mu.Unlock()
			if !l.pause(50 * time.Millisecond) {
				return
			}
			continue
		}
		var resp server.IssueResponse
		if err := json.Unmarshal(stdout, &resp); err != nil {
			l.in.ledger.badf("cli issue: exit 0 with %q: %v", stdout, err)
			continue
		}
		l.acknowledge(&resp, "cli issue")
	}
}

func (l *load) revoker() {
	defer l.wg.Done()
	for {
		var serial string
		select {
		case <-l.ctx.Done():
			return
		case serial = <-l.toRev:
		}
		code, body, err := l.in.call(l.ctx, http.MethodPost, "/api/v1/certificates/"+serial+"/revoke",
			server.RevokeRequest{Reason: "keyCompromise"})
		if l.ctx.Err() != nil && err != nil {
			return
		}
		if err == nil && code/100 == 2 {
			var info struct {
				Status string `json:"status"`
			}
			if json.Unmarshal(body, &info) != nil || info.Status != "revoked" {
				l.in.ledger.badf("revoke %s: %d with %.300s", serial, code, body)
				continue
			}
			l.in.ledger.ackRevoke(serial, l.trial)
			continue
		}
		l.in.ledger.classify("revoke "+serial, code, body, err)
		if !l.pause(20 * time.Millisecond) {
			return
		}
	}
}

// poller reads /healthz and the CRL of the public listener: they too may
// answer only 2xx or a 503 with a reason.
func (l *load) poller() {
	defer l.wg.Done()
	for l.pause(50 * time.Millisecond) {
		for _, path := range []string{"/healthz", "/crl/issuing.crl"} {
			req, _ := http.NewRequestWithContext(l.ctx, http.MethodGet, l.in.base+path, nil)
			resp, err := l.in.public.Do(req)
			if err != nil {
				continue
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if path == "/healthz" {
				l.health.Lock()
				l.health.codes[resp.StatusCode]++
				l.health.Unlock()
			}
			if resp.StatusCode >= 500 && (resp.StatusCode != http.StatusServiceUnavailable || refusalReason(body) == "") {
				l.in.ledger.badf("GET %s: %d %.300q", path, resp.StatusCode, body)
			}
		}
	}
}
