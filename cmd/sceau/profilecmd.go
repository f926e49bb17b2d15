package main

import (
	"encoding/pem"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/sceau/sceau/internal/ca"
	"github.com/sceau/sceau/internal/config"
	"github.com/sceau/sceau/internal/node"
	"github.com/sceau/sceau/internal/sceau"
)

func newProfileCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{Use: "profile", Short: "Certificate profiles: lint certificates, CRLs and OCSP responses (CA-2)"}
	cmd.AddCommand(newProfileLintCmd(e))
	return cmd
}

func newProfileLintCmd(e *env) *cobra.Command {
	var caID, profile, csrFile string
	cmd := &cobra.Command{
		Use:   "lint FILE...",
		Short: "Lint certificates, CRLs or OCSP responses with the issuance gate",
		Long: `lint runs the issuance gate over files, PEM or DER, each a certificate, a CRL
or an OCSP response, and prints each finding with its lint or clause:

  a certificate   with the lint sets of --ca/--profile (from the configuration)
                  and, for an eIDAS profile, its EN 319 412 clause rules; without
                  --profile, with zlint's whole registry;
  a CRL           with zlint's RFC 5280 lints;
  an OCSP reply   with the RFC 6960 / RFC 5019 rules Sceau's responses follow.

With --csr it lints a dry-run issuance instead: the certificate the CSR would
get from --ca/--profile, built with the same checks and template as a real
issuance, with a placeholder signature; no serial is reserved, no certificate
event journaled, and the CA key is not used.

It exits 1 if any file has an error. docs/profiles.md explains the sets, and
the zlint, certtool and openssl commands that check the same files
independently.

Examples:
  sceau profile lint cert.pem
  sceau profile lint --ca issuing --profile server cert.pem
  sceau profile lint issuing.crl response.der
  sceau profile lint --ca issuing --profile qualified-seal --csr seal.csr`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if csrFile != "" {
				return lintDryRun(cmd, e, caID, profile, csrFile, args)
			}
			if len(args) == 0 {
				return sceau.Errorf(sceau.Invalid, "profile lint", "name the files to lint, or give --csr")
			}
			var p *ca.Profile
			if profile != "" {
				cfg, err := config.Load(e.configPath)
				if err != nil {
					return err
				}
				if p, err = findProfile(cfg, caID, profile); err != nil {
					return err
				}
			}
			failed := 0
			for _, f := range args {
				b, err := os.ReadFile(f)
				if err != nil {
					return sceau.E(sceau.Invalid, "profile lint", "cannot read "+f, err)
				}
				r, err := ca.LintDocument(b, p)
				if err != nil {
					return fmt.Errorf("%s: %w", f, err)
				}
				if err := printReport(e, f, r); err != nil {
					return err
				}
				if len(r.Errors) > 0 {
					failed++
				}
			}
			if failed > 0 {
				return sceau.Errorf(sceau.Conflict, "profile lint", "%d of %d files have errors", failed, len(args))
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&caID, "ca", "issuing", "the CA whose profile --profile names")
	cmd.Flags().StringVar(&profile, "profile", "", "lint with this profile's sets and rules (default: zlint's whole registry)")
	cmd.Flags().StringVar(&csrFile, "csr", "", "lint a dry-run issuance of this CSR (PEM or DER) for --ca/--profile")
	return cmd
}

// lintDryRun lints the certificate csrFile would get (CA-2).
func lintDryRun(cmd *cobra.Command, e *env, caID, profile, csrFile string, args []string) error {
	const op = "profile lint"
	if profile == "" || len(args) > 0 {
		return sceau.Errorf(sceau.Invalid, op, "--csr takes --profile (and --ca) and no files")
	}
	csr, err := os.ReadFile(csrFile)
	if err != nil {
		return sceau.E(sceau.Invalid, op, "cannot read "+csrFile, err)
	}
	if blk, _ := pem.Decode(csr); blk != nil {
		if blk.Type != "CERTIFICATE REQUEST" && blk.Type != "NEW CERTIFICATE REQUEST" {
			return sceau.Errorf(sceau.Invalid, op, "%s holds a PEM %q, not a CERTIFICATE REQUEST", csrFile, blk.Type)
		}
		csr = blk.Bytes
	}
	cfg, err := config.Load(e.configPath)
	if err != nil {
		return err
	}
	der, p, err := node.DryRun(cmd.Context(), cfg, ca.Request{CA: caID, Profile: profile, CSR: csr})
	if err != nil {
		return err
	}
	r, err := ca.LintDocument(der, p)
	if err != nil {
		return err
	}
	if err := printReport(e, csrFile+" (dry run, "+caID+"/"+profile+")", r); err != nil {
		return err
	}
	if len(r.Errors) > 0 {
		return sceau.Errorf(sceau.Conflict, op, "the certificate %s would get has %d errors: issuance would refuse it", csrFile, len(r.Errors))
	}
	return nil
}

func printReport(e *env, name string, r *ca.Report) error {
	if e.jsonOut {
		return printJSON(e.stdout, map[string]any{"file": name, "report": r})
	}
	fmt.Fprintf(e.stdout, "%s: %s %s: %d errors, %d warnings\n", name, r.Kind, r.Subject, len(r.Errors), len(r.Warnings))
	for _, x := range r.Errors {
		fmt.Fprintf(e.stdout, "  error    %s\n", x)
	}
	for _, x := range r.Warnings {
		fmt.Fprintf(e.stdout, "  warning  %s\n", x)
	}
	return nil
}

func findProfile(cfg *config.Config, caID, name string) (*ca.Profile, error) {
	specs, err := node.Specs(cfg)
	if err != nil {
		return nil, err
	}
	for _, s := range specs {
		if s.ID != caID {
			continue
		}
		for i := range s.Profiles {
			if s.Profiles[i].Name == name {
				return &s.Profiles[i], nil
			}
		}
		return nil, sceau.Errorf(sceau.NotFound, "profile lint", "CA %q has no profile %q", caID, name)
	}
	return nil, sceau.Errorf(sceau.NotFound, "profile lint", "no CA %q in the configuration", caID)
}
