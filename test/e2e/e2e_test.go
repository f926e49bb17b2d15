// Package e2e runs the sceau binary end to end, as a child process on
// 127.0.0.1, and checks what it produces with tools we did not write:
// openssl, crypto/tls, golang.org/x/crypto/ocsp and zlint.
package e2e

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
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sceau/sceau/internal/sceautest"
	"github.com/sceau/sceau/internal/server"
)

// install is the installation every test shares: built once, initialised
// once, served by one child process for the whole run. Tests issue their
// own certificates, so they do not depend on each other.
var install struct {
	bin    string // the sceau binary
	tmp    string // scratch directory of the run
	dir    string // the installation's directory
	config string // its sceau.yaml
	base   string // http://public
	admin  string // admin host:port
	enroll string // enrollment listener host:port (HTTPS, CA-4)
	log    string // the serve process's output
}

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	tmp, err := os.MkdirTemp("", "sceau-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	defer os.RemoveAll(tmp)
	install.tmp = tmp

	root, err := repoRoot()
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	install.bin = filepath.Join(tmp, "sceau")
	build := exec.Command("go", "build", "-o", install.bin, "./cmd/sceau")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: go build ./cmd/sceau: %v\n%s", err, out)
		return 1
	}

	addrs, err := freeAddrs(3)
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	pub, adm := addrs[0], addrs[1]
	install.enroll = addrs[2]
	install.dir = filepath.Join(tmp, "ca")
	install.config = filepath.Join(install.dir, "sceau.yaml")
	install.base = "http://" + pub
	install.admin = adm
	if out, err := exec.Command(install.bin, "init", "--dir", install.dir, "--public", pub, "--admin", adm, "--enroll", install.enroll).CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: sceau init: %v\n%s", err, out)
		return 1
	}

	install.log = filepath.Join(tmp, "serve.log")
	logf, err := os.Create(install.log)
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	defer logf.Close()
	srv := exec.Command(install.bin, "serve", "--config", install.config)
	srv.Stdout, srv.Stderr = logf, logf
	if err := srv.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: start serve:", err)
		return 1
	}
	exited := make(chan error, 1)
	go func() { exited <- srv.Wait() }()
	defer func() {
		_ = srv.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(15 * time.Second):
			_ = srv.Process.Kill()
			<-exited
		}
	}()
	if err := waitHealthy(install.base, exited); err != nil {
		b, _ := os.ReadFile(install.log)
		fmt.Fprintf(os.Stderr, "e2e: %v\n%s", err, b)
		return 1
	}
	code := m.Run()
	if code != 0 {
		if b, err := os.ReadFile(install.log); err == nil {
			fmt.Fprintf(os.Stderr, "--- serve log ---\n%s", b)
		}
	}
	return code
}

// repoRoot is the directory of the module's go.mod.
func repoRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", fmt.Errorf("not inside a module")
	}
	return filepath.Dir(mod), nil
}

// twoFreeAddrs returns two distinct 127.0.0.1 addresses nobody listens on.
func twoFreeAddrs() (string, string, error) {
	a, err := freeAddrs(2)
	if err != nil {
		return "", "", err
	}
	return a[0], a[1], nil
}

// freeAddrs returns n distinct 127.0.0.1 addresses nobody listens on.
func freeAddrs(n int) ([]string, error) {
	var addrs []string
	var lns []net.Listener
	defer func() {
		for _, ln := range lns {
			ln.Close()
		}
	}()
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		lns = append(lns, ln)
		addrs = append(addrs, ln.Addr().String())
	}
	return addrs, nil
}

func waitHealthy(base string, exited <-chan error) error {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-exited:
			return fmt.Errorf("sceau serve exited before answering: %v", err)
		default:
		}
		resp, err := http.Get(base + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("%s/healthz never answered", base)
}

// runSceau runs the binary against the shared installation.
func runSceau(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, install.bin, append([]string{"--config", install.config}, args...)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code = 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatalf("sceau %s: %v", strings.Join(args, " "), err)
		}
		code = ee.ExitCode()
	}
	return out.String(), errb.String(), code
}

func mustSceau(t *testing.T, args ...string) string {
	t.Helper()
	out, errOut, code := runSceau(t, args...)
	if code != 0 {
		t.Fatalf("sceau %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, out, errOut)
	}
	return out
}

// needOpenSSL skips the test when openssl is not installed.
func needOpenSSL(t *testing.T) {
	t.Helper()
	sceautest.NeedOpenSSL(t)
}

// openssl runs openssl in dir and returns its combined output.
func openssl(t *testing.T, dir string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "openssl", args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func mustOpenSSL(t *testing.T, dir string, args ...string) string {
	t.Helper()
	out, err := openssl(t, dir, args...)
	if err != nil {
		t.Fatalf("openssl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

func httpGet(t *testing.T, url string) (*http.Response, []byte) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	return resp, b
}

func mustGet(t *testing.T, url string) []byte {
	t.Helper()
	resp, b := httpGet(t, url)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s\n%s", url, resp.Status, b)
	}
	return b
}

func writeFile(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// caFiles fetches the CA certificates from the public listener and writes
// root.pem, issuing.pem and chain.pem (issuing then root) into dir.
func caFiles(t *testing.T, dir string) (root, issuing *x509.Certificate) {
	t.Helper()
	rootPEM := mustGet(t, install.base+"/ca/root.pem")
	issPEM := mustGet(t, install.base+"/ca/issuing.pem")
	writeFile(t, filepath.Join(dir, "root.pem"), rootPEM)
	writeFile(t, filepath.Join(dir, "issuing.pem"), issPEM)
	writeFile(t, filepath.Join(dir, "chain.pem"), append(append([]byte{}, issPEM...), rootPEM...))
	return parsePEMCert(t, rootPEM), parsePEMCert(t, issPEM)
}

func parsePEMCert(t *testing.T, b []byte) *x509.Certificate {
	t.Helper()
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != "CERTIFICATE" {
		t.Fatalf("no PEM certificate in %q", b)
	}
	c, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// issueServerCert makes a key and a CSR for cn (as the subscriber would),
// has the CLI issue it, and writes it to dir/cert.pem.
func issueServerCert(t *testing.T, dir, cn string) (*x509.Certificate, string) {
	t.Helper()
	return issueServerCertFor(t, dir, pkix.Name{CommonName: cn, Organization: []string{"Example"}, Locality: []string{"Paris"}, Country: []string{"FR"}}, cn)
}

// issueServerCertFor is issueServerCert with the request's subject and DNS name.
func issueServerCertFor(t *testing.T, dir string, subject pkix.Name, dnsName string) (*x509.Certificate, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{
		Subject: subject, DNSNames: []string{dnsName}}, key)
	if err != nil {
		t.Fatal(err)
	}
	csrPath := filepath.Join(dir, "req.pem")
	writeFile(t, csrPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}))
	certPath := filepath.Join(dir, "cert.pem")
	out := mustSceau(t, "cert", "issue", "--ca", "issuing", "--profile", "server", "--csr", csrPath, "--out", certPath, "--json")
	var resp server.IssueResponse
	if err := json.Unmarshal([]byte(out), &resp); err != nil {
		t.Fatalf("cert issue --json: %v\n%s", err, out)
	}
	b, err := os.ReadFile(certPath)
	if err != nil {
		t.Fatal(err)
	}
	cert := parsePEMCert(t, b)
	if cert.SerialNumber.Text(16) != resp.Serial {
		t.Fatalf("serial %s in the answer, %x in the certificate", resp.Serial, cert.SerialNumber)
	}
	return cert, resp.Serial
}

// fetchCRL downloads and parses a DER CRL.
func fetchCRL(t *testing.T, url string) (*x509.RevocationList, []byte) {
	t.Helper()
	der := mustGet(t, url)
	crl, err := x509.ParseRevocationList(der)
	if err != nil {
		t.Fatalf("CRL at %s: %v", url, err)
	}
	return crl, der
}

// waitCRL polls url until its CRL number is above after and it lists serial.
func waitCRL(t *testing.T, url string, after int64, serial string) (*x509.RevocationList, []byte) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		crl, der := fetchCRL(t, url)
		if crl.Number.Int64() > after {
			for _, e := range crl.RevokedCertificateEntries {
				if e.SerialNumber.Text(16) == serial {
					return crl, der
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the CRL at %s was not reissued with %s after number %d (now %d)", url, serial, after, crl.Number)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
