package node_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/json"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/sceau/sceau/internal/adminapi"
	"github.com/sceau/sceau/internal/audit"
	"github.com/sceau/sceau/internal/config"
	"github.com/sceau/sceau/internal/node"
	"github.com/sceau/sceau/internal/revocation"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/sceautest"
	"github.com/sceau/sceau/internal/server"
)

// The load of the two-node test: per signing node, -nodes-certs
// certificates issued by clientsPerNode clients; every third one is
// revoked through the other node. docs/scaling.md gives the figures of a
// longer run: go test -run TestCA3_TwoNodes -v -nodes-certs 2000.
var nodesCerts = flag.Int("nodes-certs", 150, "certificates per signing node in TestCA3_TwoNodes…")

const clientsPerNode = 8

// CA-2, CA-3, AUD-2, SYS-2 on several nodes (issue 13, docs/scaling.md):
// two signing nodes (node.Serve) on one PostgreSQL database issue and
// revoke at once, each revoking certificates the other issued, while both
// sign CRLs; a public-only node (node.ServePublic) serves the same
// database without a key. Then: serials are unique; CRL numbers strictly
// increase in the journal's order and on each node; the journal's chain
// and checkpoints verify; every certificate chains to the root; the three
// nodes give the same OCSP answer, byte for byte, for every serial, and a
// revocation made on one node is answered by the others at once; the CRL
// a node signs is served by every node within a site refresh and lists
// every revocation; the public-only node signs and writes nothing and has
// no admin API.
func TestCA3_TwoNodesOnOnePostgreSQLIssueRevokeAndAgree(t *testing.T) {
	ctx := t.Context()
	certsPerNode := int64(*nodesCerts)
	scratch := t.TempDir()
	load := initOnPostgres(t, sceautest.PostgresSchema(t), scratch)
	// Two signing nodes of one installation, each with its own listeners.
	cfgA, cfgB, cfgC := load(), load(), load()
	cfgB.Public.Listen, cfgB.Admin.Listen = freeAddr(t), freeAddr(t)
	// The public-only node: no keystore at all (a host that never held
	// one), and an admin address nobody may open.
	cfgC.Public.Listen, cfgC.Admin.Listen = freeAddr(t), freeAddr(t)
	cfgC.Keystore.Dir, cfgC.Keystore.SecretFile = filepath.Join(scratch, "no-keystore"), ""
	logC := &errorLog{}
	a := startNode(t, cfgA, node.Serve, &errorLog{})
	b := startNode(t, cfgB, node.Serve, &errorLog{})
	c := startNode(t, cfgC, node.ServePublic, logC)

	root, issuing := a.Authority.CAs()[0].Cert, a.Authority.CAs()[1].Cert
	nodes := []*testNode{{name: "A", cfg: cfgA, n: a}, {name: "B", cfg: cfgB, n: b}, {name: "C (public-only)", cfg: cfgC, n: c}}
	for _, tn := range nodes {
		tn.connect(t)
	}

	// The load: both signing nodes issue; every third certificate goes to
	// the other node's revokers; both sign CRLs meanwhile.
	var (
		mu      sync.Mutex
		certs   = map[string]*x509.Certificate{}
		revoked = map[string]bool{}
		failed  []string
	)
	fail := func(format string, args ...any) {
		mu.Lock()
		failed = append(failed, fmt.Sprintf(format, args...))
		mu.Unlock()
	}
	record := func(cert *x509.Certificate) {
		mu.Lock()
		if certs[cert.SerialNumber.Text(16)] != nil {
			failed = append(failed, "serial "+cert.SerialNumber.Text(16)+" issued twice")
		}
		certs[cert.SerialNumber.Text(16)] = cert
		mu.Unlock()
	}
	// Issuance alone first, on one node then on both, with the same
	// clients in all and the same number of certificates: the second
	// node must not cost (docs/scaling.md).
	aloneElapsed := issueMany(ctx, nodes[:1], 2*clientsPerNode, certsPerNode, "alone", record, fail)
	bothElapsed := issueMany(ctx, nodes[:2], clientsPerNode, certsPerNode/2, "both", record, fail)

	// Then issuance and revocation on both at once, each node revoking
	// what the other issued, and CRLs signed by both meanwhile.
	start := time.Now()
	toRevoke := []chan *x509.Certificate{make(chan *x509.Certificate, certsPerNode), make(chan *x509.Certificate, certsPerNode)}
	var issuedElapsed time.Duration
	var issuers, revokers sync.WaitGroup
	crlNumbers := make([][]int64, 2)
	crlCtx, stopCRLs := context.WithCancel(ctx)
	var crlers sync.WaitGroup
	for i, tn := range nodes[:2] {
		var next atomic.Int64
		for range clientsPerNode {
			issuers.Add(1)
			go func() {
				defer issuers.Done()
				for k := next.Add(1); k <= certsPerNode; k = next.Add(1) {
					cert, err := issueOne(ctx, tn.api, fmt.Sprintf("n%s-%d.nodes.example.org", strings.ToLower(tn.name[:1]), k))
					if err != nil {
						fail("issue on %s: %v", tn.name, err)
						continue
					}
					record(cert)
					if k%3 == 0 {
						toRevoke[1-i] <- cert
					}
				}
			}()
		}
		other := nodes[1-i]
		for range 2 {
			revokers.Add(1)
			go func() {
				defer revokers.Done()
				for cert := range toRevoke[i] {
					serial := revocation.SerialHex(cert.SerialNumber)
					if _, err := tn.api.Revoke(ctx, serial, server.RevokeRequest{Reason: "keyCompromise"}); err != nil {
						fail("revoke %s on %s: %v", serial, tn.name, err)
						continue
					}
					mu.Lock()
					revoked[serial] = true
					mu.Unlock()
					// CA-3: the node that issued it, and the public-only
					// node, answer "revoked" at once: no wait, no retry.
					for _, o := range []*testNode{other, nodes[2]} {
						if st, err := o.ocspStatus(cert, issuing); err != nil || st != ocsp.Revoked {
							fail("right after its revocation on %s, %s answers status %d for %s (%v), want revoked", tn.name, o.name, st, serial, err)
						}
					}
				}
			}()
		}
		crlers.Add(1)
		go func() {
			defer crlers.Done()
			for crlCtx.Err() == nil {
				crls, err := tn.n.Revocation.IssueCRL(crlCtx, sceau.System("test"), "issuing")
				if err != nil && crlCtx.Err() == nil {
					fail("CRL on %s: %v", tn.name, err)
				} else if err == nil {
					crlNumbers[i] = append(crlNumbers[i], crls[0].Number)
				}
				select {
				case <-crlCtx.Done():
				case <-time.After(50 * time.Millisecond):
				}
			}
		}()
	}
	issuers.Wait()
	issuedElapsed = time.Since(start)
	for _, ch := range toRevoke {
		close(ch)
	}
	revokers.Wait()
	stopCRLs()
	crlers.Wait()
	elapsed := time.Since(start)
	for _, f := range failed {
		t.Error(f)
	}
	if want := certsPerNode + certsPerNode/2*2 + 2*certsPerNode; int64(len(certs)) != want {
		t.Fatalf("%d distinct certificates, want %d", len(certs), want)
	}

	// CA-2: every serial once in the store, as listed by either node.
	listed := map[string]int{}
	for after := ""; ; {
		page, err := nodes[0].api.Certificates(ctx, adminapi.CertificateFilter{CA: "issuing", After: after, Limit: 500})
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		for _, r := range page {
			listed[r.Serial]++
		}
		after = page[len(page)-1].Serial
	}
	for s := range certs {
		if listed[s] != 1 {
			t.Errorf("serial %s is listed %d times, want once", s, listed[s])
		}
	}

	// CA-3 (RFC 5280 §5.2.3): CRL numbers strictly increase, on each node
	// and in the journal, whose order is the order the numbers were taken.
	for i, ns := range crlNumbers {
		for k := 1; k < len(ns); k++ {
			if ns[k] <= ns[k-1] {
				t.Errorf("node %s signed CRL %d after CRL %d", nodes[i].name, ns[k], ns[k-1])
			}
		}
	}
	journalNumbers := crlNumbersInJournal(t, a)
	for k := 1; k < len(journalNumbers); k++ {
		if journalNumbers[k] <= journalNumbers[k-1] {
			t.Errorf("the journal prepares CRL %d after CRL %d", journalNumbers[k], journalNumbers[k-1])
		}
	}
	if len(crlNumbers[0]) == 0 || len(crlNumbers[1]) == 0 {
		t.Errorf("CRLs signed during the load: %d on A, %d on B; want some on each", len(crlNumbers[0]), len(crlNumbers[1]))
	}

	// A CRL signed by B is served by A and by the public-only node within
	// a site refresh, and lists every revocation.
	crlStart := time.Now()
	final, err := b.Revocation.IssueCRL(ctx, sceau.System("test"), "issuing")
	if err != nil {
		t.Fatal(err)
	}
	var crlLag time.Duration
	for _, tn := range nodes {
		crl, lag := tn.waitCRL(t, final[0].Number, crlStart)
		crlLag = max(crlLag, lag)
		if err := crl.CheckSignatureFrom(issuing); err != nil {
			t.Errorf("the CRL %s serves: %v", tn.name, err)
		}
		on := map[string]bool{}
		for _, e := range crl.RevokedCertificateEntries {
			on[revocation.SerialHex(e.SerialNumber)] = true
		}
		for s := range revoked {
			if !on[s] {
				t.Errorf("CRL %d served by %s lacks %s, revoked before it", crl.Number, tn.name, s)
			}
		}
		if len(on) != len(revoked) {
			t.Errorf("CRL %d served by %s lists %d serials, %d were revoked", crl.Number, tn.name, len(on), len(revoked))
		}
	}
	if crlLag > 2*time.Second {
		t.Errorf("a CRL signed on B took %v to be served everywhere; the site refreshes every 200ms", crlLag)
	}

	// AUD-2: one chain, written by both nodes, with the checkpoints both
	// signed.
	res, err := audit.VerifyWith(ctx, a.DB, audit.VerifyOptions{})
	if err != nil || !res.OK() {
		t.Fatalf("the journal does not verify: %+v, %v", res, err)
	}
	if res.Checkpoints == 0 {
		t.Errorf("no checkpoint verified in %d events", res.Events)
	}

	// Every certificate chains to the root; the three nodes give the same
	// answer, byte for byte, and the right one.
	roots, inter := x509.NewCertPool(), x509.NewCertPool()
	roots.AddCert(root)
	inter.AddCert(issuing)
	for s, cert := range certs {
		if _, err := cert.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}); err != nil {
			t.Errorf("certificate %s does not chain to the root: %v", s, err)
		}
		want := ocsp.Good
		if revoked[s] {
			want = ocsp.Revoked
		}
		var first []byte
		for _, tn := range nodes {
			der, err := tn.ocspQuery(cert, issuing, nil, false)
			if err != nil {
				t.Fatalf("OCSP of %s on %s: %v", s, tn.name, err)
			}
			resp, err := ocsp.ParseResponseForCert(der, cert, issuing)
			if err != nil || resp.Status != want {
				t.Errorf("OCSP of %s on %s: status %v, %v; want %d", s, tn.name, resp, err, want)
				continue
			}
			if first == nil {
				first = der
			} else if !bytes.Equal(der, first) {
				t.Errorf("OCSP of %s: %s's answer differs from A's", s, tn.name)
			}
		}
	}

	checkPublicOnly(t, nodes, certs, issuing)
	for _, tn := range nodes[:2] {
		if body := tn.get(t, "/healthz", http.StatusOK); !strings.Contains(body, "mode: "+node.ModeSigning) {
			t.Errorf("/healthz of %s: %q, want its mode, signing", tn.name, body)
		}
	}
	if errs := logC.errors(); len(errs) > 0 {
		t.Errorf("the public-only node logged errors (a write refused by its read-only session would be one):\n%s", strings.Join(errs, "\n"))
	}
	rate := func(n int64, d time.Duration) string {
		return fmt.Sprintf("%d in %v (%.0f/s)", n, d.Round(time.Millisecond), float64(n)/d.Seconds())
	}
	t.Logf("one PostgreSQL, %d admin API clients in all, race detector %v: issuance on A alone %s, on A and B together %s; "+
		"then A and B issued %s while revoking %d of them (each the other's, OCSP checked on the other two nodes at once), all done in %v; "+
		"the test asked each node for a CRL every 50ms meanwhile (%d signed on A, %d on B; %d CRL numbers in the journal in all); "+
		"a CRL signed on B was served by A, B and the public-only node within %v; journal: %d events, %d checkpoints",
		2*clientsPerNode, raceEnabled, rate(certsPerNode, aloneElapsed), rate(certsPerNode/2*2, bothElapsed),
		rate(2*certsPerNode, issuedElapsed), len(revoked), elapsed.Round(time.Millisecond),
		len(crlNumbers[0]), len(crlNumbers[1]), len(journalNumbers), crlLag.Round(time.Millisecond), res.Events, res.Checkpoints)
}

// checkPublicOnly checks what the public-only node does not do: it has no
// admin API on any port (SYS-2), answers a nonce request with the stored
// response, and a request it would have to sign with tryLater.
func checkPublicOnly(t *testing.T, nodes []*testNode, certs map[string]*x509.Certificate, issuing *x509.Certificate) {
	t.Helper()
	a, c := nodes[0], nodes[2]
	if body := c.get(t, "/healthz", http.StatusOK); !strings.Contains(body, "mode: "+node.ModePublicOnly) {
		t.Errorf("/healthz of the public-only node: %q, want its mode", body)
	}
	if conn, err := net.DialTimeout("tcp", c.cfg.Admin.Listen, time.Second); err == nil {
		conn.Close()
		t.Errorf("the public-only node listens on its configured admin address %s", c.cfg.Admin.Listen)
	}
	c.get(t, "/api/v1/cas", http.StatusNotFound)
	c.get(t, "/metrics", http.StatusNotFound)
	resp, err := http.Post(c.base+"/api/v1/certificates", "application/json", strings.NewReader(`{"ca":"issuing"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST /api/v1/certificates on the public-only node: %d, want 405", resp.StatusCode)
	}
	var cert *x509.Certificate
	for _, x := range certs {
		cert = x
		break
	}
	// A nonce it cannot echo: the stored response, without it.
	der, err := c.ocspQuery(cert, issuing, &ocsp.RequestOptions{Hash: crypto.SHA1}, withNonce)
	if err != nil {
		t.Fatal(err)
	}
	if r, err := ocsp.ParseResponseForCert(der, cert, issuing); err != nil {
		t.Errorf("a nonce request to the public-only node: %v, want the stored response", err)
	} else if nonced(r) {
		t.Error("the public-only node echoed a nonce: it signed a response")
	}
	// A SHA-256 CertID has no stored response: tryLater there, a signed
	// answer on a signing node.
	for _, tn := range []*testNode{a, c} {
		der, err := tn.ocspQuery(cert, issuing, &ocsp.RequestOptions{Hash: crypto.SHA256}, false)
		if err != nil {
			t.Fatal(err)
		}
		_, err = ocsp.ParseResponseForCert(der, cert, issuing)
		var re ocsp.ResponseError
		if tn == c && (!errors.As(err, &re) || re.Status != ocsp.TryLater) {
			t.Errorf("a SHA-256 CertID on the public-only node: %v, want tryLater", err)
		}
		if tn == a && err != nil {
			t.Errorf("a SHA-256 CertID on a signing node: %v, want a signed answer", err)
		}
	}
}

// raceEnabled is set by race_test.go when the race detector is on.
var raceEnabled bool

// oidNonce is the OCSP nonce extension (RFC 8954).
var oidNonce = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 48, 1, 2}

// addNonce adds a 32-byte nonce to the request extensions of an OCSP
// request (RFC 6960 §4.1.1), which x/crypto/ocsp cannot make.
func addNonce(der []byte) ([]byte, error) {
	var req struct {
		TBS struct {
			Version    int `asn1:"explicit,tag:0,default:0,optional"`
			Requests   []asn1.RawValue
			Extensions []pkix.Extension `asn1:"explicit,tag:2,optional"`
		}
	}
	if _, err := asn1.Unmarshal(der, &req); err != nil {
		return nil, err
	}
	nonce := make([]byte, 32)
	rand.Read(nonce)
	v, err := asn1.Marshal(nonce)
	if err != nil {
		return nil, err
	}
	req.TBS.Extensions = append(req.TBS.Extensions, pkix.Extension{Id: oidNonce, Value: v})
	return asn1.Marshal(req)
}

// nonced says whether a response carries a nonce.
func nonced(r *ocsp.Response) bool {
	for _, e := range r.Extensions {
		if e.Id.Equal(oidNonce) {
			return true
		}
	}
	return false
}

type testNode struct {
	name string
	cfg  *config.Config
	n    *node.Node
	api  *adminapi.Client
	base string
}

// connect makes the node's clients: its public URL, and its admin API
// when it has one.
func (tn *testNode) connect(t *testing.T) {
	t.Helper()
	tn.base = "http://" + tn.cfg.Public.Listen
	if strings.Contains(tn.name, "public-only") {
		return
	}
	var err error
	if tn.api, err = adminapi.New(tn.cfg, adminapi.Credentials{}); err != nil {
		t.Fatal(err)
	}
}

func (tn *testNode) get(t *testing.T, path string, want int) string {
	t.Helper()
	resp, err := http.Get(tn.base + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		t.Errorf("GET %s on %s: %d %q, want %d", path, tn.name, resp.StatusCode, b, want)
	}
	return string(b)
}

// withNonce asks ocspQuery for a request with a nonce (RFC 8954).
const withNonce = true

func (tn *testNode) ocspQuery(cert, issuer *x509.Certificate, opts *ocsp.RequestOptions, nonce bool) ([]byte, error) {
	req, err := ocsp.CreateRequest(cert, issuer, opts)
	if err != nil {
		return nil, err
	}
	if nonce {
		if req, err = addNonce(req); err != nil {
			return nil, err
		}
	}
	resp, err := http.Post(tn.base+"/ocsp", "application/ocsp-request", bytes.NewReader(req))
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	return io.ReadAll(resp.Body)
}

func (tn *testNode) ocspStatus(cert, issuer *x509.Certificate) (int, error) {
	der, err := tn.ocspQuery(cert, issuer, nil, false)
	if err != nil {
		return -1, err
	}
	r, err := ocsp.ParseResponseForCert(der, cert, issuer)
	if err != nil {
		return -1, err
	}
	return r.Status, nil
}

// waitCRL polls the node's full CRL until it is number n or later, and
// returns it with how long after since it came.
func (tn *testNode) waitCRL(t *testing.T, n int64, since time.Time) (*x509.RevocationList, time.Duration) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get(tn.base + "/crl/issuing.crl")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			crl, err := x509.ParseRevocationList(b)
			if err != nil {
				t.Fatalf("the CRL %s serves: %v", tn.name, err)
			}
			if crl.Number.Int64() >= n {
				return crl, time.Since(since)
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s does not serve CRL %d after 10s (HTTP %d)", tn.name, n, resp.StatusCode)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// crlNumbersInJournal returns the numbers of the issuing CA's prepared
// CRLs in the journal's order.
func crlNumbersInJournal(t *testing.T, n *node.Node) []int64 {
	t.Helper()
	var out []int64
	f := audit.Filter{Action: "crl.prepared", Object: "ca:issuing", Limit: audit.MaxPage}
	for {
		p, err := audit.Search(t.Context(), n.DB, f)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range p.Events {
			var d struct {
				Number int64 `json:"number"`
			}
			if err := json.Unmarshal([]byte(r.Details), &d); err != nil {
				t.Fatal(err)
			}
			out = append(out, d.Number)
		}
		if !p.More {
			return out
		}
		f.After = p.Next
	}
}

// initOnPostgres makes an installation of the template configuration on
// the PostgreSQL database dsn names, under scratch, and returns a function
// that loads its configuration afresh (one per node).
func initOnPostgres(t *testing.T, dsn, scratch string) func() *config.Config {
	t.Helper()
	dsnFile := filepath.Join(scratch, "postgres.dsn")
	if err := os.WriteFile(dsnFile, []byte(dsn+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	pub, adm := freeAddr(t), freeAddr(t)
	text := string(node.RenderConfig(node.ConfigValues{Org: "Nodes Test", PublicListen: pub, AdminListen: adm, BaseURL: "http://" + pub}))
	for old, new := range map[string]string{
		"engine: sqlite":                     "engine: postgres",
		"  # dsn_file: secrets/postgres.dsn": "  dsn_file: " + dsnFile,
		"  refresh: 500ms":                   "  refresh: 200ms", // the site rereads the store
		"    every: 1000":                    "    every: 50",    // checkpoints signed by every node
	} {
		if strings.Count(text, old) != 1 {
			t.Fatalf("the configuration template holds %q %d times, want once", old, strings.Count(text, old))
		}
		text = strings.Replace(text, old, new, 1)
	}
	inst, err := node.Init(t.Context(), filepath.Join(scratch, "ca"), []byte(text), node.InitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return func() *config.Config {
		cfg, err := config.Load(inst.ConfigPath)
		if err != nil {
			t.Fatal(err)
		}
		return cfg
	}
}

// issueMany issues n certificates on each of nodes, by clients clients per
// node, records each, and returns how long it took.
func issueMany(ctx context.Context, nodes []*testNode, clients int, n int64, prefix string, record func(*x509.Certificate), fail func(string, ...any)) time.Duration {
	start := time.Now()
	var wg sync.WaitGroup
	for _, tn := range nodes {
		var next atomic.Int64
		for range clients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for k := next.Add(1); k <= n; k = next.Add(1) {
					cert, err := issueOne(ctx, tn.api, fmt.Sprintf("%s-%s-%d.nodes.example.org", prefix, strings.ToLower(tn.name[:1]), k))
					if err != nil {
						fail("issue on %s (%s): %v", tn.name, prefix, err)
						continue
					}
					record(cert)
				}
			}()
		}
	}
	wg.Wait()
	return time.Since(start)
}

// issueOne issues a server certificate for name through the admin API.
func issueOne(ctx context.Context, api *adminapi.Client, name string) (*x509.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	csr, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: name}, DNSNames: []string{name}}, key)
	if err != nil {
		return nil, err
	}
	resp, err := api.Issue(ctx, server.IssueRequest{CA: "issuing", Profile: "server",
		CSR: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: csr}))})
	if err != nil {
		return nil, err
	}
	blk, _ := pem.Decode([]byte(resp.Certificate))
	if blk == nil {
		return nil, errors.New("no PEM certificate in the answer")
	}
	return x509.ParseCertificate(blk.Bytes)
}

// startNode runs serve (node.Serve or node.ServePublic) on cfg until the
// test ends and returns the node once its listeners are bound.
func startNode(t *testing.T, cfg *config.Config, serve func(context.Context, *config.Config, *slog.Logger, func(*node.Node)) error, log *errorLog) *node.Node {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ready, done := make(chan *node.Node, 1), make(chan error, 1)
	go func() { done <- serve(ctx, cfg, slog.New(log), func(n *node.Node) { ready <- n }) }()
	select {
	case n := <-ready:
		t.Cleanup(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("serve %s: %v", cfg.Public.Listen, err)
			}
		})
		return n
	case err := <-done:
		cancel()
		t.Fatalf("serve %s: %v", cfg.Public.Listen, err)
	}
	return nil
}

// errorLog is a slog handler that keeps the records at level Error.
type errorLog struct {
	mu   sync.Mutex
	recs []string
}

func (l *errorLog) Enabled(_ context.Context, lv slog.Level) bool { return lv >= slog.LevelError }
func (l *errorLog) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString(r.Message)
	r.Attrs(func(a slog.Attr) bool {
		fmt.Fprintf(&b, " %s=%v", a.Key, a.Value)
		return true
	})
	l.mu.Lock()
	l.recs = append(l.recs, b.String())
	l.mu.Unlock()
	return nil
}
func (l *errorLog) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *errorLog) WithGroup(string) slog.Handler      { return l }

func (l *errorLog) errors() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.recs...)
}
