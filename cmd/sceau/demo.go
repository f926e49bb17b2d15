package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sceau/sceau/internal/ca"
	"github.com/sceau/sceau/internal/config"
	"github.com/sceau/sceau/internal/demo"
	"github.com/sceau/sceau/internal/node"
	"github.com/sceau/sceau/internal/sceau"
)

const demoMarker = "DEMO INSTALLATION, NOT FOR PRODUCTION"

func newDemoCmd(e *env) *cobra.Command {
	var (
		dir    string
		data   = node.ConfigValues{Demo: true, Org: "Sceau Demo", PublicListen: "127.0.0.1:8080", AdminListen: "127.0.0.1:8443", EnrollListen: "127.0.0.1:8444"}
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
	cmd.Flags().StringVar(&data.EnrollListen, "enroll", data.EnrollListen, "enrollment listener address (revocation form, one-time downloads)")
	cmd.Flags().BoolVar(&noWait, "exit", false, "stop once the demo is set up and checked (for scripts)")
	return cmd
}

func runDemo(ctx context.Context, e *env, dir string, data node.ConfigValues, noWait bool) error {
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
		identity, recipient, err := demo.ArchiveKey()
		if err != nil {
			return err
		}
		data.ArchiveRecipient = recipient
		fmt.Fprintf(e.stdout, "Creating the CA hierarchy in %s …\n", dir)
		inst, err := node.Init(ctx, dir, node.RenderConfig(data), node.InitOptions{CreateOptions: node.CreateOptions{PINs: node.DemoPIN},
			People: node.People{Demo: true}})
		if err != nil {
			return err
		}
		if err := demo.KeepArchiveIdentity(inst.Layout, identity); err != nil {
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
	var served *node.Node
	go func() { errc <- node.Serve(ctx, cfg, log, func(n *node.Node) { served = n; close(ready) }) }()
	select {
	case err := <-errc:
		return err
	case <-ready:
	}
	if err := demoSample(ctx, e, cfg, dir, served); err != nil {
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

// demoSample makes the sample certificates once and prints how to check
// them.
func demoSample(ctx context.Context, e *env, cfg *config.Config, dir string, served *node.Node) error {
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
	activated, err := demo.Activate(ctx, cfg, c)
	if err != nil {
		return err
	}
	samples, err := demo.MakeSamples(ctx, c, filepath.Join(dir, "sample"))
	if err != nil {
		return err
	}
	published, err := demo.PublishSamples(ctx, cfg, c, cfg.Publication.Name)
	if err != nil {
		return err
	}
	dossier, err := demo.MakeDossier(ctx, cfg, c)
	if err != nil {
		return err
	}
	estUser, estPassword, err := demo.ESTCredential(ctx, c, dossier.Dossier.ID, filepath.Join(dir, "sample"))
	if err != nil {
		return err
	}
	reportItem, report, err := demo.ArchiveSample(ctx, c, filepath.Join(dir, "sample"))
	if err != nil {
		return err
	}
	audit, err := served.RunSelfAudit(ctx, sceau.System("demo"))
	if err != nil {
		return err
	}
	base := cfg.Public.BaseURL
	w := e.stdout
	fmt.Fprintf(w, "\nSceau demo — %s\n\n", demoMarker)
	fmt.Fprintf(w, "Public site:        %s/\n", base)
	for _, id := range []string{"root", "issuing"} {
		fmt.Fprintf(w, "CA %-8s        %s/ca/%s.pem   %s/ca/%s.der   %s/ca/%s.txt (fingerprints)\n", id, base, id, base, id, base, id)
		fmt.Fprintf(w, "CRL %-8s       %s/crl/%s.crl\n", id, base, id)
	}
	fmt.Fprintf(w, "OCSP:               %s/ocsp\n", base)
	if published > 0 {
		fmt.Fprintf(w, "Documents (PUB-1):  %d sample versions published under dual control (appadmin requested, the security officers approved)\n", published)
	}
	fmt.Fprintf(w, "                    %s/fr/documents   %s/en/documents   %s/cps (the CPS URI in certificates)\n", base, base, base)
	fmt.Fprintf(w, "Signed manifest:    %s/manifest.json   %s/manifest.json.p7s\n", base, base)
	fmt.Fprintf(w, "Admin API (mTLS):   https://%s/api/v1/   metrics: https://%s/metrics\n", cfg.Admin.Listen, cfg.Admin.Listen)
	if cfg.Enroll.Enabled() {
		fmt.Fprintf(w, "Holders (CA-4):     %s/revoke (revocation form)   %s/pkcs12/<token> (one-time downloads); TLS from the admin CA: curl --cacert %s\n",
			cfg.Enroll.BaseURL, cfg.Enroll.BaseURL, rel(filepath.Join(node.LayoutOf(cfg).AdminDir(), "admin-ca.pem")))
	}
	fmt.Fprintf(w, "Registration (CA-4): dossier %d (device localhost, profile %s) entered by %s, validated by %s (four eyes)\n",
		dossier.Dossier.ID, dossier.Dossier.Profile, dossier.EnteredBy, dossier.ValidatedBy)
	fmt.Fprintf(w, "                    officers' console https://%s/console/ (the admin listener's mutual TLS, then a login)\n", cfg.Admin.Listen)
	fmt.Fprintf(w, "Sample certificate: %s (serial %s)\n", rel(samples.Path("localhost.pem")), samples.Serial)
	for _, a := range activated {
		fmt.Fprintf(w, "Key custody (KEY-2): CA %s was activated by %s with their DEMO shares in %s and DEMO PINs %s.\n",
			a.CA, strings.Join(a.Holders, ", "), rel(node.LayoutOf(cfg).SharesDir(a.CA)), strings.Join(a.PINs, ", "))
		fmt.Fprintf(w, "  Deactivate it:  go run ./cmd/sceau --config %s ca deactivate %s --yes\n", rel(filepath.Join(dir, "sceau.yaml")), a.CA)
		fmt.Fprintf(w, "  Activate again: go run ./cmd/sceau --config %s ca activate %s", rel(filepath.Join(dir, "sceau.yaml")), a.CA)
		for _, h := range a.Holders {
			fmt.Fprintf(w, " --share %s=%s", h, rel(filepath.Join(node.LayoutOf(cfg).SharesDir(a.CA), h+".share")))
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintln(w)
	s := func(name string) string { return rel(samples.Path(name)) }
	fmt.Fprintln(w, "Check the sample certificate against the chain and the CRLs (downloaded from the CDP):")
	fmt.Fprintf(w, "openssl verify -crl_check -crl_download -CAfile %s -untrusted %s %s\n", s("root-ca.pem"), s("issuing-ca.pem"), s("localhost.pem"))
	fmt.Fprintln(w, "Ask the OCSP responder:")
	fmt.Fprintf(w, "openssl ocsp -issuer %s -cert %s -url %s/ocsp -CAfile %s\n", s("issuing-ca.pem"), s("localhost.pem"), base, s("ca-chain.pem"))
	fmt.Fprintln(w, "Check the public repository: the manifest's signature and chain, and every file it lists (PUB-2):")
	fmt.Fprintf(w, "go run ./cmd/sceau publication verify %s/ --root %s\n", base, s("root-ca.pem"))
	conf := rel(filepath.Join(dir, "sceau.yaml"))
	fmt.Fprintf(w, "The archive (ARC-1..6): CRLs, CA certificates and documents are in it; a sample audit report is item %d.\n", reportItem)
	fmt.Fprintf(w, "  Confidential items (the dossier's evidence and CGU acceptance) are sealed to a DEMO age key: %s\n", rel(demo.ArchiveIdentityFile(node.LayoutOf(cfg))))
	fmt.Fprintln(w, "Get it back with every check (hash, inclusion in the signed head, chain, timestamp), then verify the whole archive:")
	fmt.Fprintf(w, "  go run ./cmd/sceau --config %s archive get %d -o /tmp/report.txt\n", conf, reportItem)
	fmt.Fprintf(w, "  go run ./cmd/sceau --config %s archive verify\n", conf)
	fmt.Fprintln(w, "Ask the time-stamping unit (ARC-5, RFC 3161) and check its token with openssl:")
	fmt.Fprintf(w, "  openssl ts -query -data %s -sha256 -cert -out /tmp/q.tsq\n", rel(report))
	fmt.Fprintf(w, "  curl -s -H 'Content-Type: application/timestamp-query' --data-binary @/tmp/q.tsq %s%s -o /tmp/r.tsr\n", base, cfg.Timestamping.ListenPath)
	fmt.Fprintf(w, "  openssl ts -verify -data %s -in /tmp/r.tsr -CAfile %s -untrusted %s\n", rel(report), s("root-ca.pem"), s("issuing-ca.pem"))
	fmt.Fprintf(w, "The self-audit (COMP-1), run by the demo and archived as item %d: %s\n", *audit.Archived, audit.Summary())
	fmt.Fprintln(w, "  (a demo fails some clauses by design: no m-of-n on the root, no NTP servers, no backup, no replica.) Again, logged in as the auditor:")
	fmt.Fprintf(w, "  go run ./cmd/sceau --config %s check --out /tmp/self-audit.html\n", conf)
	fmt.Fprintln(w, "Read the PKCS#12 (AES-256-CBC, PBKDF2-SHA-256; no -legacy needed):")
	fmt.Fprintf(w, "openssl pkcs12 -in %s -passin file:%s -info -nokeys -noout\n", s("marie.p12"), s("marie.p12.pass"))
	fmt.Fprintln(w, "Lint the eIDAS samples (EN 319 412 clause rules and zlint), then with zlint alone (docs/profiles.md):")
	for _, p := range []string{"qualified-person", "qualified-seal", "qualified-website"} {
		fmt.Fprintf(w, "  go run ./cmd/sceau --config %s profile lint --profile %s %s\n", rel(filepath.Join(dir, "sceau.yaml")), p, s(p+".pem"))
	}
	fmt.Fprintf(w, "  zlint -pretty %s\n", s("qualified-person.pem"))
	if cfg.Enroll.Enabled() {
		est := cfg.Enroll.BaseURL + "/.well-known/est"
		fmt.Fprintf(w, "Enroll over EST (RFC 7030, docs/est.md) with the dossier's DEMO credential %s (kept in %s):\n", estUser, s("est-credential"))
		fmt.Fprintf(w, "  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout /tmp/est.key -subj /CN=localhost -outform DER -out /tmp/est.csr\n")
		fmt.Fprintf(w, "  openssl base64 -in /tmp/est.csr -out /tmp/est.csr.b64\n")
		fmt.Fprintf(w, "  curl -sS --cacert %s --user '%s:%s' -H 'Content-Type: application/pkcs10' --data-binary @/tmp/est.csr.b64 -o /tmp/est.p7 %s/simpleenroll\n",
			rel(filepath.Join(node.LayoutOf(cfg).AdminDir(), "admin-ca.pem")), estUser, estPassword, est)
		fmt.Fprintf(w, "  openssl base64 -d -in /tmp/est.p7 | openssl pkcs7 -inform DER -print_certs -out /tmp/est.pem\n")
		fmt.Fprintf(w, "  openssl verify -CAfile %s -untrusted %s /tmp/est.pem\n", s("root-ca.pem"), s("issuing-ca.pem"))
		fmt.Fprintf(w, "ACME (RFC 8555, docs/acme.md): a directory per profile that issues DNS names, e.g. %s/acme/server/directory;\n", cfg.Enroll.BaseURL)
		fmt.Fprintf(w, "  an account needs an EAB key for a validated website dossier whose names resolve to the client (http-01 on port 80):\n")
		fmt.Fprintf(w, "  go run ./cmd/sceau --config %s acme eab create --dossier N\n", conf)
	}
	fmt.Fprintln(w, "Revoke the sample, then run the two checks again (revoked):")
	fmt.Fprintf(w, "  go run ./cmd/sceau --config %s cert revoke %s --reason keyCompromise --yes\n", rel(filepath.Join(dir, "sceau.yaml")), samples.Serial)
	return nil
}
