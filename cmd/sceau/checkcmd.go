package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/sceau/sceau/internal/adminapi"
	"github.com/sceau/sceau/internal/archive"
	"github.com/sceau/sceau/internal/compliance"
	"github.com/sceau/sceau/internal/publication"
	"github.com/sceau/sceau/internal/sceau"
)

func newCheckCmd(e *env) *cobra.Command {
	var (
		out, serve string
		every      time.Duration
	)
	cmd := &cobra.Command{
		Use:   "check",
		Short: "Run the compliance self-audit on the running installation (COMP-1, COMP-2)",
		Long: `check asks the running installation to audit itself against the requirements
catalogue and prints the verdict of each clause, citing the requirement IDs:
role grants and separation of duties, where the CA keys are and how they are
activated, CA lifetimes, CRL freshness, the public site against its signed
manifest, the journal's chain and checkpoints, the archive's heads, timestamps
and replicas, the age of the last backup and restore test, the clock, and a lint
of each profile's latest certificate. Clauses only a person can confirm
(physical security, vetting, witnesses) are listed "to confirm" with the
evidence recorded for them ('sceau check confirm').

Every report, JSON and HTML, is archived by the server (COMP-2) with a
follow-up date for each failed clause (compliance.follow_up). --out FILE writes
the HTML report; --serve ADDR keeps it as a page for auditors, refreshed every
--every. check exits 1 when a clause fails. Needs the Auditor or the Security
Officer (sceau login). See docs/compliance.md.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			run := func(ctx context.Context) (*compliance.Report, error) {
				return apiCall(ctx, e, func(c *adminapi.Client, ctx context.Context) (*compliance.Report, error) { return c.SelfAudit(ctx) })
			}
			if serve != "" {
				s := &compliance.Server{Run: run, Every: every, CSS: publication.Stylesheet()}
				return s.ListenAndServe(cmd.Context(), serve, func(a net.Addr) {
					fmt.Fprintf(e.stderr, "Serving the self-audit at http://%s/ (refreshed every %s); Ctrl-C stops.\n", a, every)
				})
			}
			r, err := run(cmd.Context())
			if err != nil {
				return err
			}
			if out != "" {
				var b bytes.Buffer
				if err := compliance.WriteHTML(&b, r, publication.Stylesheet()); err != nil {
					return err
				}
				if err := os.WriteFile(out, b.Bytes(), 0o644); err != nil {
					return sceau.E(sceau.Unavailable, "check", "cannot write "+out, err)
				}
			}
			if e.jsonOut {
				if err := printJSON(e.stdout, r); err != nil {
					return err
				}
			} else {
				printReportText(e, r)
			}
			if r.Verdict == compliance.Fail {
				return sceau.Errorf(sceau.Conflict, "check", "%d clauses failed: %s", r.Failed, strings.Join(r.FailedClauses(), ", "))
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&out, "out", "", "also write the HTML report to this file")
	f.StringVar(&serve, "serve", "", "serve the report at this address (e.g. 127.0.0.1:8088) until interrupted")
	f.DurationVar(&every, "every", time.Hour, "with --serve, how often the self-audit runs again")
	cmd.PersistentFlags().BoolVar(&e.jsonOut, "json", false, "print JSON")
	cmd.AddCommand(newCheckConfirmCmd(e))
	return cmd
}

func printReportText(e *env, r *compliance.Report) {
	w := e.stdout
	for _, c := range r.Clauses {
		mark := map[compliance.Verdict]string{compliance.Pass: "pass", compliance.Fail: "FAIL", compliance.ToConfirm: "to confirm"}[c.Verdict]
		fmt.Fprintf(w, "%-10s %-22s %s [%s]\n", mark, c.ID, c.Title, strings.Join(c.Cites, ", "))
		for _, f := range c.Findings {
			if f.Failed || c.Verdict == compliance.Pass && len(c.Findings) <= 3 {
				fmt.Fprintf(w, "           - %s\n", f.Message)
			}
		}
		if c.FollowUp != nil {
			fmt.Fprintf(w, "           put right by %s\n", c.FollowUp.Format(time.DateOnly))
		}
		if c.Verdict == compliance.ToConfirm {
			if len(c.Evidence) == 0 {
				fmt.Fprintf(w, "           no evidence yet: %s\n", c.Wanted)
			}
			for _, ev := range c.Evidence {
				fmt.Fprintf(w, "           evidence: archive item %d of %s\n", ev.Item, ev.RecordedAt.Format(time.DateOnly))
			}
		}
	}
	archived := ""
	if r.Archived != nil {
		archived = fmt.Sprintf("; archived as item %d", *r.Archived)
	}
	fmt.Fprintf(w, "%s%s\n", r.Summary(), archived)
}

func newCheckConfirmCmd(e *env) *cobra.Command {
	var ids []string
	for _, m := range compliance.ManualClauses() {
		ids = append(ids, m.ID)
	}
	return &cobra.Command{
		Use:   "confirm CLAUSE FILE",
		Short: "Archive FILE as the evidence of a clause only a person can confirm",
		Long: `confirm archives FILE (an inspection report, a vetting attestation, a witness's
report) as the evidence of CLAUSE, which every later report lists under it with
its archive item and date (COMP-1). The clauses: ` + strings.Join(ids, ", ") + `.`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !compliance.IsManual(args[0]) {
				return sceau.Errorf(sceau.Invalid, "check confirm", "%q is not a clause to confirm (%s)", args[0], strings.Join(ids, ", "))
			}
			b, err := os.ReadFile(args[1])
			if err != nil {
				return sceau.E(sceau.Invalid, "check confirm", "cannot read "+args[1], err)
			}
			mt, ok := publication.MediaTypeOf(filepath.Base(args[1]))
			if !ok {
				mt = "application/octet-stream"
			}
			it, err := apiCall(cmd.Context(), e, func(c *adminapi.Client, ctx context.Context) (*archive.Item, error) {
				return c.ArchiveAdd(ctx, archive.New{Kind: archive.KindEvidence, Source: "compliance:" + args[0], MediaType: mt,
					Class: archive.Internal, Content: b})
			})
			if err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "Archived as item %d, the evidence of %s (SHA-256 %s)\n", it.Leaf, args[0], it.SHA256)
			return nil
		},
	}
}
