package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sceau/sceau/internal/ca"
	"github.com/sceau/sceau/internal/config"
	"github.com/sceau/sceau/internal/node"
	"github.com/sceau/sceau/internal/quorum"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/server"
)

const demoMarker = "DEMO INSTALLATION, NOT FOR PRODUCTION"

func newDemoCmd(e *env) *cobra.Command {
	var (
		dir    string
		data   = templateData{Demo: true, Org: "Sceau Demo", PublicListen: "127.0.0.1:8080", AdminListen: "127.0.0.1:8443"}
		noWait bool
	)
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run a whole demo installation on 127.0.0.1 (root CA, issuing CA, sample certificate, CRL, OCSP)",
		Long: `demo creates ./sceau-demo (or --dir) with a root CA and an issuing CA, starts the
public and admin listeners on 127.0.0.1, issues a sample server certificate
for localhost (its key made by the demo acting as the subscriber, through the
admin API) and a sample PKCS#12, and prints the URLs and the openssl commands
that check them, runnable as printed from this directory while the demo runs.

Running it again reuses the demo directory; a directory that is not a Sceau
demo is refused. Ctrl-C stops it. Everything here is a demo: the keystore
secret sits in a file next to the keys.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runDemo(cmd.Context(), e, dir, data, noWait)
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "sceau-demo", "demo directory")
	cmd.Flags().StringVar(&data.PublicListen, "public", data.PublicListen, "public listener address")
	cmd.Flags().StringVar(&data.AdminListen, "admin", data.AdminListen, "admin listener address")
	cmd.Flags().BoolVar(&noWait, "exit", false, "stop once the demo is set up and checked (for scripts)")
	return cmd
}

func runDemo(ctx context.Context, e *env, dir string, data templateData, noWait bool) error {
	const op = "demo"
	cfgPath := filepath.Join(dir, "sceau.yaml")
	if _, err := os.Stat(dir); err == nil {
		b, err := os.ReadFile(cfgPath)
		if err != nil || !strings.Contains(string(b), demoMarker) {
			return sceau.Errorf(sceau.Conflict, op, "%s exists and is not a Sceau demo directory: remove it or pick another --dir", dir)
		}
		fmt.Fprintf(e.stdout, "Reusing the demo installation in %s (delete it for a fresh one; its addresses are in its sceau.yaml).\n", dir)
	} else {
		data.BaseURL = "http://" + data.PublicListen
		fmt.Fprintf(e.stdout, "Creating the CA hierarchy in %s …\n", dir)
		inst, err := node.Init(ctx, dir, renderConfig(data), node.InitOptions{CreateOptions: node.CreateOptions{PINs: node.DemoPIN},
			People: node.People{Demo: true}})
		if err != nil {
			return err
		}
		for _, c := range inst.CAs {
			s1, s2 := ca.Fingerprints(c.Cert.Raw)
			fmt.Fprintf(e.stdout, "  CA %-10s %s\n             SHA-256 %s\n             SHA-1   %s\n", c.Spec.ID, c.Cert.Subject, s2, s1)
		}
	}
	cfg, err := config.Load(cfgPath)
	if err != nil {
		return err
	}
	log := newLogger(e, false)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ready := make(chan struct{})
	errc := make(chan error, 1)
	go func() { errc <- node.Serve(ctx, cfg, log, func(*node.Node) { close(ready) }) }()
	select {
	case err := <-errc:
		return err
	case <-ready:
	}
	if err := demoSample(ctx, e, cfg, dir); err != nil {
		cancel()
		<-errc
		return err
	}
	printDemoPeople(e.stdout, cfg, dir)
	if noWait {
		cancel()
		return <-errc
	}
	fmt.Fprintln(e.stdout, "\nThe demo runs until Ctrl-C.")
	return <-errc
}

// demoSample issues the sample certificates once and prints how to check them.
func demoSample(ctx context.Context, e *env, cfg *config.Config, dir string) error {
	sample := filepath.Join(dir, "sample")
	cwd, _ := os.Getwd()
	rel := func(p string) string {
		if r, err := filepath.Rel(cwd, p); err == nil {
			return r
		}
		return p
	}
	c, err := newAPIClient(cfg)
	if err != nil {
		return err
	}
	activated, err := demoActivate(ctx, e, cfg, c)
	if err != nil {
		return err
	}
	certPath := filepath.Join(sample, "localhost.pem")
	serialPath := filepath.Join(sample, "localhost.serial")
	if _, err := os.Stat(certPath); err != nil {
		if err := os.MkdirAll(sample, 0o700); err != nil {
			return err
		}
		var cas []server.CAInfo
		if err := c.do(ctx, http.MethodGet, "/api/v1/cas", nil, &cas); err != nil {
			return err
		}
		var chain strings.Builder
		for i := len(cas) - 1; i >= 0; i-- {
			var info server.CAInfo
			if err := c.do(ctx, http.MethodGet, "/api/v1/cas/"+cas[i].ID, nil, &info); err != nil {
				return err
			}
			if err := os.WriteFile(filepath.Join(sample, info.ID+"-ca.pem"), []byte(info.PEM), 0o644); err != nil {
				return err
			}
			chain.WriteString(info.PEM)
		}
		if err := os.WriteFile(filepath.Join(sample, "ca-chain.pem"), []byte(chain.String()), 0o644); err != nil {
			return err
		}
		// The demo plays the subscriber: its key is made here, never by the CA.
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return err
		}
		csr, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{
			Subject: pkix.Name{CommonName: "localhost", Organization: []string{"Sceau Demo"}}, DNSNames: []string{"localhost"}}, key)
		if err != nil {
			return err
		}
		var resp server.IssueResponse
		if err := c.do(ctx, http.MethodPost, "/api/v1/certificates", server.IssueRequest{CA: "issuing", Profile: "server",
			CSR: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: csr}))}, &resp); err != nil {
			return err
		}
		pkcs8, _ := x509.MarshalPKCS8PrivateKey(key)
		if err := os.WriteFile(filepath.Join(sample, "localhost-key.pem"), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8}), 0o600); err != nil {
			return err
		}
		if err := os.WriteFile(certPath, []byte(resp.Certificate), 0o644); err != nil {
			return err
		}
		if err := os.WriteFile(serialPath, []byte(resp.Serial+"\n"), 0o644); err != nil {
			return err
		}
		var p12 server.PKCS12Response
		if err := c.do(ctx, http.MethodPost, "/api/v1/certificates/pkcs12", server.PKCS12Request{CA: "issuing", Profile: "person",
			KeyType: "ecdsa-p256", Subject: server.Subject{CommonName: "Marie Demo", Country: "FR"}, Emails: []string{"marie@example.org"}}, &p12); err != nil {
			return err
		}
		pfx, _ := base64.StdEncoding.DecodeString(p12.PKCS12)
		if err := os.WriteFile(filepath.Join(sample, "marie.p12"), pfx, 0o600); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(sample, "marie.p12.pass"), []byte(p12.Password+"\n"), 0o600); err != nil {
			return err
		}
	}
	serial, _ := os.ReadFile(serialPath)
	base := cfg.Public.BaseURL
	w := e.stdout
	fmt.Fprintf(w, "\nSceau demo — %s\n\n", demoMarker)
	fmt.Fprintf(w, "Public site:        %s/\n", base)
	for _, id := range []string{"root", "issuing"} {
		fmt.Fprintf(w, "CA %-8s        %s/ca/%s.pem   %s/ca/%s.der   %s/ca/%s.txt (fingerprints)\n", id, base, id, base, id, base, id)
		fmt.Fprintf(w, "CRL %-8s       %s/crl/%s.crl\n", id, base, id)
	}
	fmt.Fprintf(w, "OCSP:               %s/ocsp\n", base)
	fmt.Fprintf(w, "Admin API (mTLS):   https://%s/api/v1/   metrics: https://%s/metrics\n", cfg.Admin.Listen, cfg.Admin.Listen)
	fmt.Fprintf(w, "Sample certificate: %s (serial %s)\n", rel(certPath), strings.TrimSpace(string(serial)))
	for _, a := range activated {
		fmt.Fprintf(w, "Key custody (KEY-2): CA %s was activated by %s with their DEMO shares in %s and DEMO PINs %s.\n",
			a.ca, strings.Join(a.holders, ", "), rel(node.LayoutOf(cfg).SharesDir(a.ca)), strings.Join(a.pins, ", "))
		fmt.Fprintf(w, "  Deactivate it:  go run ./cmd/sceau --config %s ca deactivate %s --yes\n", rel(filepath.Join(dir, "sceau.yaml")), a.ca)
		fmt.Fprintf(w, "  Activate again: go run ./cmd/sceau --config %s ca activate %s", rel(filepath.Join(dir, "sceau.yaml")), a.ca)
		for _, h := range a.holders {
			fmt.Fprintf(w, " --share %s=%s", h, rel(filepath.Join(node.LayoutOf(cfg).SharesDir(a.ca), h+".share")))
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintln(w)
	s := func(name string) string { return rel(filepath.Join(sample, name)) }
	fmt.Fprintln(w, "Check the sample certificate against the chain and the CRLs (downloaded from the CDP):")
	fmt.Fprintf(w, "openssl verify -crl_check -crl_download -CAfile %s -untrusted %s %s\n", s("root-ca.pem"), s("issuing-ca.pem"), s("localhost.pem"))
	fmt.Fprintln(w, "Ask the OCSP responder:")
	fmt.Fprintf(w, "openssl ocsp -issuer %s -cert %s -url %s/ocsp -CAfile %s\n", s("issuing-ca.pem"), s("localhost.pem"), base, s("ca-chain.pem"))
	fmt.Fprintln(w, "Read the PKCS#12 (AES-256-CBC, PBKDF2-SHA-256; no -legacy needed):")
	fmt.Fprintf(w, "openssl pkcs12 -in %s -passin file:%s -info -nokeys -noout\n", s("marie.p12"), s("marie.p12.pass"))
	fmt.Fprintln(w, "Revoke the sample, then run the two checks again (revoked):")
	fmt.Fprintf(w, "  go run ./cmd/sceau --config %s cert revoke %s --reason keyCompromise --yes\n", rel(filepath.Join(dir, "sceau.yaml")), strings.TrimSpace(string(serial)))
	return nil
}

type demoActivation struct {
	ca            string
	holders, pins []string
}

// demoActivate activates every CA with an m-of-n policy with the first m
// demo holders, through the admin API as real holders would.
func demoActivate(ctx context.Context, e *env, cfg *config.Config, c *apiClient) ([]demoActivation, error) {
	var out []demoActivation
	for _, ca := range cfg.CAs {
		if ca.Activation == nil {
			continue
		}
		var st server.ActivationStatus
		if err := c.do(ctx, http.MethodGet, "/api/v1/cas/"+ca.ID+"/activation", nil, &st); err != nil {
			return nil, err
		}
		a := demoActivation{ca: ca.ID}
		holders := ca.Activation.Holders[:ca.Activation.Threshold]
		for _, h := range holders {
			pin, _ := node.DemoPIN(ca.ID, h)
			a.holders, a.pins = append(a.holders, h), append(a.pins, string(pin))
		}
		out = append(out, a)
		if st.Activated {
			continue
		}
		var p quorum.Progress
		if err := c.do(ctx, http.MethodPost, "/api/v1/cas/"+ca.ID+"/activations", struct{}{}, &p); err != nil {
			return nil, err
		}
		for _, h := range holders {
			share, err := os.ReadFile(filepath.Join(node.LayoutOf(cfg).SharesDir(ca.ID), h+".share"))
			if err != nil {
				return nil, err
			}
			pin, _ := node.DemoPIN(ca.ID, h)
			if err := c.do(ctx, http.MethodPost, "/api/v1/cas/"+ca.ID+"/activations/"+p.ID+"/shares",
				server.PresentShare{Holder: h, ShareFile: share, PIN: string(pin)}, &p); err != nil {
				return nil, err
			}
		}
		if !p.Activated {
			return nil, fmt.Errorf("demo: CA %s was not activated by %d shares", ca.ID, len(holders))
		}
	}
	return out, nil
}
