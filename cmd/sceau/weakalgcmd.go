package main

import (
	"context"
	"encoding/csv"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/sceau/sceau/internal/access"
	"github.com/sceau/sceau/internal/adminapi"
	"github.com/sceau/sceau/internal/config"
	"github.com/sceau/sceau/internal/node"
	"github.com/sceau/sceau/internal/revocation"
	"github.com/sceau/sceau/internal/sceau"
)

func newWeakAlgorithmCmd(e *env) *cobra.Command {
	var (
		sel                  revocation.Selector
		issuedBefore, reason string
		out                  string
		local, yes           bool
	)
	cmd := &cobra.Command{
		Use:   "weak-algorithm --key-type rsa --key-bits-below 3072 … [--yes]",
		Short: "Find the certificates an algorithm judged insufficient affects, then revoke them under dual control (INC-3)",
		Long: `weak-algorithm selects the live certificates (issued, not revoked, not
expired) that use an algorithm or a parameter judged insufficient: by key type
(rsa, ecdsa, ed25519), key size (--key-bits-below), curve, the CA's signature
algorithm (crypto/x509's names: SHA1-RSA, SHA256-RSA, ECDSA-SHA256, …),
profile, CA and issue date. Every criterion given must hold, and at least one
besides --ca is needed.

Without --yes it is a dry run: it lists what matches, through the admin API
(the first thousand), or with --local from the installation's database,
read-only and with a progress bar, every match (--out FILE writes them as
CSV). With --yes it requests their revocation for --reason (RFC 5280, default
superseded), which two other Security Officers or Registration & Revocation
Officers approve ('sceau approval approve ID --yes'); the selector is applied
again when the last approval carries it out, in one transaction, each
certificate with its event. See docs/incident.md.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if issuedBefore != "" {
				t, err := parseWhen(issuedBefore)
				if err != nil {
					return err
				}
				sel.IssuedBefore = t
			}
			if err := sel.Check(); err != nil {
				return err
			}
			if yes {
				rq, err := apiCall(cmd.Context(), e, func(c *adminapi.Client, ctx context.Context) (*access.Request, error) {
					return c.RequestSelectedRevocation(ctx, sel, reason)
				})
				if err != nil {
					return err
				}
				if e.jsonOut {
					return printJSON(e.stdout, rq)
				}
				fmt.Fprintf(e.stdout, "Request %s: revoke (%s) the live certificates matching %s. It needs %d approvals by other people.\nApprovers run: sceau approval approve %s --yes\n",
					rq.ID, reason, sel, rq.Required, rq.ID)
				return nil
			}
			var (
				got *revocation.Selection
				err error
			)
			if local {
				got, err = selectLocally(cmd.Context(), e, sel, out)
			} else {
				got, err = apiCall(cmd.Context(), e, func(c *adminapi.Client, ctx context.Context) (*revocation.Selection, error) {
					return c.PreviewSelection(ctx, sel)
				})
			}
			if err != nil {
				return err
			}
			if e.jsonOut {
				return printJSON(e.stdout, got)
			}
			printSelection(e, got)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&sel.CA, "ca", "", "only this CA's certificates")
	f.StringVar(&sel.KeyType, "key-type", "", "rsa, ecdsa or ed25519")
	f.IntVar(&sel.KeyBitsBelow, "key-bits-below", 0, "keys of fewer bits (RSA modulus, EC field size)")
	f.StringVar(&sel.Curve, "curve", "", "P-224, P-256, P-384 or P-521")
	f.StringVar(&sel.SignatureAlgorithm, "signature-algorithm", "", "the CA's signature: SHA1-RSA, SHA256-RSA, ECDSA-SHA256, …")
	f.StringVar(&sel.Profile, "profile", "", "only this profile's certificates")
	f.StringVar(&issuedBefore, "issued-before", "", "only certificates issued before this date (2026-11-30 or RFC 3339)")
	f.StringVar(&reason, "reason", "superseded", "the RFC 5280 reason of the revocation")
	f.BoolVar(&local, "local", false, "dry run on the installation's database, read-only, with progress and every match")
	f.StringVar(&out, "out", "", "with --local, write every match to this CSV file")
	f.BoolVar(&yes, "yes", false, "request the revocation (under dual control) instead of a dry run")
	return cmd
}

func selectLocally(ctx context.Context, e *env, sel revocation.Selector, out string) (*revocation.Selection, error) {
	cfg, err := config.Load(e.configPath)
	if err != nil {
		return nil, err
	}
	o := revocation.SelectOptions{Progress: progress(e, "weak-algorithm", "certificates")}
	var w *csv.Writer
	if out != "" {
		f, err := os.Create(out)
		if err != nil {
			return nil, sceau.E(sceau.Unavailable, "weak-algorithm", "cannot write "+out, err)
		}
		defer f.Close()
		w = csv.NewWriter(f)
		defer w.Flush()
		w.Write([]string{"serial", "ca", "profile", "subject", "key", "signature_algorithm", "not_after"})
		o.Each = func(m revocation.Match) error {
			return w.Write([]string{m.Serial, m.CA, m.Profile, m.Subject, m.Key, m.SignatureAlgorithm, m.NotAfter.UTC().Format(time.RFC3339)})
		}
	}
	return node.SelectCertificates(ctx, cfg, sel, o)
}

func printSelection(e *env, s *revocation.Selection) {
	w := e.stdout
	fmt.Fprintf(w, "%d of %d live certificates match %s.\n", s.Matched, s.Scanned, s.Selector)
	var cas []string
	for ca, n := range s.ByCA {
		cas = append(cas, ca+": "+strconv.Itoa(n))
	}
	if len(cas) > 0 {
		fmt.Fprintf(w, "By CA: %s\n", strings.Join(cas, ", "))
	}
	for _, m := range s.Sample[:min(len(s.Sample), 20)] {
		fmt.Fprintf(w, "  %s  %-8s %-12s %-14s %s\n", m.Serial, m.CA, m.Key, m.SignatureAlgorithm, m.Subject)
	}
	if int64(len(s.Sample)) < s.Matched || len(s.Sample) > 20 {
		fmt.Fprintf(w, "  … (--json for the first %d, --local --out FILE for all)\n", len(s.Sample))
	}
	if s.Matched > 0 {
		fmt.Fprintln(w, "Nothing was changed. Add --yes to request their revocation under dual control.")
	}
}
