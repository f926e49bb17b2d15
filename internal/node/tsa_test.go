package node_test

import (
	"bytes"
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sceau/sceau/internal/audit"
	"github.com/sceau/sceau/internal/clockguard"
	"github.com/sceau/sceau/internal/config"
	"github.com/sceau/sceau/internal/node"
	"github.com/sceau/sceau/internal/sceautest"
	"github.com/sceau/sceau/internal/tsa"
)

// ARC-5, SYS-4: an installation made from the template serves time-stamps
// at POST /tsa on its public listener. The unit's key is certified by the
// issuing CA on first use (one tsa.signer_certified event, not one per
// token); openssl ts checks a token asked with openssl ts -query, and the
// archive's Stamp path gives tokens that verify against the root. When
// the clock drifts, the listener answers a rejection with
// timeNotAvailable and Stamp fails with the guard's error.
func TestARC5_NodeServesTimeStampsOnThePublicListener(t *testing.T) {
	sceautest.NeedOpenSSL(t)
	ctx := t.Context()
	ntp := sceautest.StartNTP(t, 0)
	path, err := clockInstallation(t, ntp)
	if err != nil {
		t.Fatal(err)
	}
	cfg, n := serveClock(t, path)
	dir := t.TempDir()
	var root, issuing *x509.Certificate
	for _, c := range n.Authority.CAs() {
		switch c.Spec.ID {
		case "root":
			root = c.Cert
		case "issuing":
			issuing = c.Cert
		}
	}
	for name, c := range map[string]*x509.Certificate{"root.pem": root, "chain.pem": issuing} {
		if err := os.WriteFile(filepath.Join(dir, name), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw}), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "item.bin"), []byte("an archived item\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	openssl := func(args ...string) (string, error) {
		cmd := exec.Command("openssl", args...)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	if out, err := openssl("ts", "-query", "-data", "item.bin", "-sha256", "-cert", "-out", "req.tsq"); err != nil {
		t.Fatalf("openssl ts -query: %v\n%s", err, out)
	}
	ask := func() (int, []byte) {
		t.Helper()
		query, err := os.ReadFile(filepath.Join(dir, "req.tsq"))
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.Post(cfg.Public.BaseURL+"/tsa", tsa.QueryType, bytes.NewReader(query))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if ct := resp.Header.Get("Content-Type"); ct != tsa.ReplyType {
			t.Fatalf("HTTP %d, %s: %q", resp.StatusCode, ct, body)
		}
		return resp.StatusCode, body
	}
	code, reply := ask()
	if code != http.StatusOK {
		t.Fatalf("POST /tsa: HTTP %d", code)
	}
	if err := os.WriteFile(filepath.Join(dir, "resp.tsr"), reply, 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := openssl("ts", "-verify", "-data", "item.bin", "-in", "resp.tsr", "-CAfile", "root.pem", "-untrusted", "chain.pem"); err != nil ||
		!strings.Contains(out, "Verification: OK") {
		t.Fatalf("openssl ts -verify of the node's token: %v\n%s", err, out)
	}
	if out, _ := openssl("ts", "-reply", "-in", "resp.tsr", "-text"); !strings.Contains(out, "Policy OID: "+cfg.Timestamping.Policy) {
		t.Errorf("the token's policy is not timestamping.policy:\n%s", out)
	}

	// The archive's path: the same unit, the same certificate.
	stamper, err := n.TimeStamper()
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte("tree head 1"))
	token, err := stamper.Stamp(ctx, sum[:], crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(root)
	info, err := tsa.Verify(token, sum[:], crypto.SHA256, tsa.VerifyOptions{Roots: roots})
	if err != nil {
		t.Fatal(err)
	}
	if time.Since(info.GenTime) > time.Minute || info.Policy.String() != cfg.Timestamping.Policy || info.Accuracy != time.Second {
		t.Errorf("token: %+v", info)
	}
	if err := os.WriteFile(filepath.Join(dir, "token.der"), token, 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := openssl("ts", "-verify", "-digest", hex.EncodeToString(sum[:]), "-token_in", "-in", "token.der", "-CAfile", "root.pem",
		"-untrusted", "chain.pem"); err != nil {
		t.Errorf("openssl ts -verify of Stamp's token: %v\n%s", err, out)
	}
	page, err := audit.Search(ctx, n.DB, audit.Filter{Action: audit.ActionTSASignerCert, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Events) != 1 || page.Events[0].Actor != "system:tsa" || !strings.Contains(page.Events[0].Details, `"profile":"timestamping"`) {
		t.Fatalf("tsa.signer_certified events: %+v", page.Events)
	}
	if _, err := os.Stat(filepath.Join(cfg.DataDir, "tsa-signer.json")); err != nil {
		t.Errorf("the unit's record: %v", err)
	}

	// SYS-4: 5 s off the NTP server, no token.
	ntp.SetOffset(5 * time.Second)
	if st := n.ClockGuard.Measure(ctx); st.State != clockguard.Drifted {
		t.Fatalf("5 s off: %+v", st)
	}
	code, reply = ask()
	r, err := tsa.ParseResponse(reply)
	if err != nil {
		t.Fatal(err)
	}
	if code != http.StatusServiceUnavailable || r.Token != nil || len(r.FailInfo) != 1 || r.FailInfo[0] != tsa.TimeNotAvailable {
		t.Errorf("POST /tsa while drifted: HTTP %d, %+v", code, r)
	}
	if _, err := stamper.Stamp(ctx, sum[:], crypto.SHA256); !errors.Is(err, clockguard.ErrClockDrift) {
		t.Errorf("Stamp while drifted: %v, want clockguard.ErrClockDrift", err)
	}
	ntp.SetOffset(0)
	n.ClockGuard.Measure(ctx)
	if code, _ := ask(); code != http.StatusOK {
		t.Errorf("POST /tsa back in sync: HTTP %d", code)
	}
}

// ARC-5: without a timestamping section nothing stamps, and the public
// listener has no /tsa; with an external TSA the node gives a client of it.
func TestARC5_TimeStamperFollowsTheConfiguration(t *testing.T) {
	ctx := t.Context()
	text := strings.Replace(string(node.RenderConfig(node.ConfigValues{Org: "TSA Test", PublicListen: "127.0.0.1:1", AdminListen: "127.0.0.1:2",
		BaseURL: "http://127.0.0.1:1"})), "  signer_ca: issuing\n  profile: timestamping\n", "  profile: timestamping\n", 1)
	inst, err := node.Init(ctx, filepath.Join(t.TempDir(), "inst"), []byte(text), node.InitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(inst.ConfigPath)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Timestamping.SignerCA != "" {
		t.Fatal("the edit of the template did not remove signer_ca")
	}
	n, err := node.Open(ctx, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if s, err := n.TimeStamper(); s != nil || err == nil || !strings.Contains(err.Error(), "nothing stamps the archive") {
		t.Errorf("no unit, no external TSA: %v, %v", s, err)
	}

	var root *x509.Certificate
	for _, c := range n.Authority.CAs() {
		if c.Spec.ID == "root" {
			root = c.Cert
		}
	}
	roots := filepath.Join(cfg.DataDir, "tsa-roots.pem")
	err = os.WriteFile(roots, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: root.Raw}), 0o600)
	n.Close()
	if err != nil {
		t.Fatal(err)
	}
	cfg2 := *cfg
	cfg2.Timestamping.ExternalURL, cfg2.Timestamping.ExternalCAFile = "https://tsa.example.org/", "tsa-roots.pem"
	n2, err := node.Open(ctx, &cfg2, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer n2.Close()
	s, err := n2.TimeStamper()
	if c, ok := s.(*tsa.Client); err != nil || !ok || c.URL != "https://tsa.example.org/" || c.Roots == nil {
		t.Errorf("external TSA: %T %v", s, err)
	}
}
