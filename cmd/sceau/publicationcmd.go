package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/sceau/sceau/internal/access"
	"github.com/sceau/sceau/internal/adminapi"
	"github.com/sceau/sceau/internal/config"
	"github.com/sceau/sceau/internal/node"
	"github.com/sceau/sceau/internal/publication"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/server"
)

func newPublicationCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{Use: "publication", Short: "The public repository: documents, signed manifest, mirrors (PUB-1..PUB-4)"}
	cmd.AddCommand(newPublicationAddCmd(e), newPublicationWithdrawCmd(e), newPublicationListCmd(e),
		newPublicationVerifyCmd(e), newPublicationExportCmd(e))
	return cmd
}

func newPublicationAddCmd(e *env) *cobra.Command {
	var m publication.Meta
	var kind, effective, mediaType string
	cmd := &cobra.Command{
		Use:   "add FILE",
		Short: "Request the publication of a document version (dual control)",
		Long: `add stores FILE (PDF, HTML or UTF-8 text) and requests its publication as one
version of a document, under dual control (PUB-4): an Application
Administrator requests, a Security Officer or another Application
Administrator approves with 'sceau approval approve ID', and the version is on
the site at once, at /documents/KIND/ID/VERSION/LANG.EXT, never to change.

Example:
  sceau publication add --kind cp --id 1.2.250.1.999.1.1 --version 1.0 --lang fr \
    --title "Politique de certification" --effective 2027-01-01 pc-1.0.pdf`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			content, err := os.ReadFile(args[0])
			if err != nil {
				return sceau.E(sceau.Invalid, "publication add", "cannot read "+args[0], err)
			}
			if m.EffectiveAt, err = time.Parse(time.DateOnly, effective); err != nil {
				return sceau.Errorf(sceau.Invalid, "publication add", "--effective %q is not a date like 2027-01-01", effective)
			}
			m.Kind, m.MediaType = publication.Kind(kind), mediaType
			if m.MediaType == "" {
				var ok bool
				if m.MediaType, ok = publication.MediaTypeOf(args[0]); !ok {
					return sceau.Errorf(sceau.Invalid, "publication add", "cannot tell the type of %s: give --type", args[0])
				}
			}
			if err := m.Check(); err != nil {
				return err
			}
			if err := publication.CheckContent(m.MediaType, content, 0); err != nil {
				return err
			}
			r, err := apiCall(cmd.Context(), e, func(c *adminapi.Client, ctx context.Context) (*access.Request, error) {
				return c.RequestPublication(ctx, m, content)
			})
			if err != nil {
				return err
			}
			printRequest(e.stdout, r)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&kind, "kind", "", "cp, cps, cgu, form, notice or other")
	f.StringVar(&m.Ident, "id", "", "the document's identifier: for a CP its OID")
	f.StringVar(&m.Version, "version", "", "the version, such as 1.0")
	f.StringVar(&m.Lang, "lang", "", "fr or en")
	f.StringVar(&m.Title, "title", "", "the title shown on the site (plain text)")
	f.StringVar(&effective, "effective", "", "the date it takes effect, such as 2027-01-01")
	f.StringVar(&mediaType, "type", "", "application/pdf, text/html or text/plain (default: from the file's extension)")
	for _, n := range []string{"kind", "id", "version", "lang", "title", "effective"} {
		_ = cmd.MarkFlagRequired(n)
	}
	return cmd
}

func newPublicationWithdrawCmd(e *env) *cobra.Command {
	var reason string
	cmd := &cobra.Command{
		Use:   "withdraw KIND/ID/VERSION/LANG",
		Short: "Request the withdrawal of a published version (dual control); it stays listed and downloadable",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, err := publication.WithdrawChange(args[0], reason); err != nil {
				return err
			}
			r, err := apiCall(cmd.Context(), e, func(c *adminapi.Client, ctx context.Context) (*access.Request, error) {
				return c.RequestWithdrawal(ctx, args[0], reason)
			})
			if err != nil {
				return err
			}
			printRequest(e.stdout, r)
			return nil
		},
	}
	cmd.Flags().StringVar(&reason, "reason", "", "why it is withdrawn (shown on the site)")
	return cmd
}

func newPublicationListCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List every document version ever published",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			l, printed, err := fetch(cmd.Context(), e, func(c *adminapi.Client, ctx context.Context) (*server.DocumentList, error) {
				return c.Documents(ctx)
			})
			if err != nil || printed {
				return err
			}
			tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "DOCUMENT\tTITLE\tEFFECTIVE\tPUBLISHED\tSTATE\tSHA-256")
			for _, d := range l.Documents {
				state := "published"
				if d.Withdrawn() {
					state = "withdrawn " + d.WithdrawnAt.Format(time.DateOnly) + ": " + d.Reason
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", d.ID, d.Title, d.EffectiveAt.Format(time.DateOnly),
					d.PublishedAt.Local().Format(time.DateTime), state, d.SHA256)
			}
			return tw.Flush()
		},
	}
}

func newPublicationVerifyCmd(e *env) *cobra.Command {
	var rootFile string
	cmd := &cobra.Command{
		Use:   "verify URL|DIR",
		Short: "Check a published copy against its signed manifest (PUB-2)",
		Long: `verify reads the manifest of the site at URL, or of a copy written by
'publication export' in DIR, checks its detached CMS signature and that the
signer chains to the root (--root, a PEM file), then hashes every file it
lists. It names every file that is missing, changed or (in a directory)
extra, and exits 1 if there is any.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			roots, err := publication.ReadRoots(rootFile)
			if err != nil {
				return err
			}
			r, err := publication.Verify(cmd.Context(), publication.FetcherFor(args[0]), roots)
			if err != nil {
				return err
			}
			fmt.Fprint(e.stdout, r.Summary())
			if !r.OK() {
				return sceau.Errorf(sceau.Invalid, "publication verify", "the copy does not match its manifest")
			}
			fmt.Fprintln(e.stdout, "OK: every file matches the signed manifest.")
			return nil
		},
	}
	cmd.Flags().StringVar(&rootFile, "root", "", "PEM file of the root CA certificate(s) to trust")
	_ = cmd.MarkFlagRequired("root")
	return cmd
}

func newPublicationExportCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "export DIR",
		Short: "Write the whole site with its signed manifest as static files, for a mirror",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := config.Load(e.configPath)
			if err != nil {
				return err
			}
			count, err := node.ExportSite(cmd.Context(), cfg, args[0])
			if err != nil {
				return err
			}
			abs, _ := filepath.Abs(args[0])
			fmt.Fprintf(e.stdout, "%d files written to %s; check them with: sceau publication verify %s --root root.pem\n", count, abs, args[0])
			return nil
		},
	}
}
