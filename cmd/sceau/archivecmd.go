package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"filippo.io/age"
	"github.com/spf13/cobra"

	"github.com/sceau/sceau/internal/adminapi"
	"github.com/sceau/sceau/internal/archive"
	"github.com/sceau/sceau/internal/config"
	"github.com/sceau/sceau/internal/node"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/server"
)

func newArchiveCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{Use: "archive", Short: "The ten-year archive: add, retrieve with proofs, verify, replicate (ARC-1..ARC-6)",
		Long: `The archive keeps for ten years (or longer per kind) what the policy requires:
CRLs (archived when issued), CA certificates and published documents (swept in
by 'sceau serve'), and what you add: audit reports, ceremony transcripts,
subscriber agreements, identity evidence. Each item is a leaf of a Merkle tree
whose heads the archive key signs; retrieval checks the hash, the inclusion in
the latest signed head and the head's signature and chain. See docs/archive.md.`}
	cmd.AddCommand(newArchiveAddCmd(e), newArchiveGetCmd(e), newArchiveListCmd(e), newArchiveStatusCmd(e),
		newArchiveVerifyCmd(e), newArchiveHeadCmd(e), newArchivePurgeCmd(e))
	cmd.PersistentFlags().BoolVar(&e.jsonOut, "json", false, "print JSON")
	return cmd
}

func newArchiveAddCmd(e *env) *cobra.Command {
	var (
		nw      archive.New
		class   string
		eventAt string
	)
	cmd := &cobra.Command{
		Use:   "add FILE",
		Short: "Archive a file as one item",
		Long: `add archives FILE as one item (ARC-1), kept ten years from --event-at (default
now), or longer where archive.retention says so. A confidential item (identity
evidence, personnel records) is sealed with age to archive.recipients.

Example:
  sceau archive add --kind audit-report --source "audit:2026-11" --class internal rapport-audit-2026.pdf`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			content, err := os.ReadFile(args[0])
			if err != nil {
				return sceau.E(sceau.Invalid, "archive add", "cannot read "+args[0], err)
			}
			nw.Content, nw.Class = content, archive.Class(class)
			if eventAt != "" {
				if nw.EventAt, err = parseWhen(eventAt); err != nil {
					return err
				}
			}
			it, err := apiCall(cmd.Context(), e, func(c *adminapi.Client, ctx context.Context) (*archive.Item, error) {
				return c.ArchiveAdd(ctx, nw)
			})
			if err != nil {
				return err
			}
			if e.jsonOut {
				return printJSON(e.stdout, it)
			}
			fmt.Fprintf(e.stdout, "Archived as item %d: %s %s, %d bytes, SHA-256 %s, kept until %s\n", it.Leaf, it.Kind, it.Source, it.Size,
				it.SHA256, it.RetainUntil.Format(time.DateOnly))
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&nw.Kind, "kind", "", "audit-report, ceremony-transcript, subscriber-agreement, identity-evidence, document, …")
	f.StringVar(&nw.Source, "source", "", "what it is, for finding it again (e.g. audit:2026-11)")
	f.StringVar(&class, "class", "internal", "public, internal or confidential")
	f.StringVar(&eventAt, "event-at", "", "when the event it records took place (2026-11-30 or RFC 3339); default now")
	f.StringVar(&nw.MediaType, "type", "", "its media type (default application/octet-stream)")
	_ = cmd.MarkFlagRequired("kind")
	_ = cmd.MarkFlagRequired("source")
	return cmd
}

func parseWhen(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	return time.Time{}, sceau.Errorf(sceau.Invalid, "archive", "%q is not a date (2026-11-30) or an RFC 3339 time", s)
}

func newArchiveGetCmd(e *env) *cobra.Command {
	var out, identity, from string
	cmd := &cobra.Command{
		Use:   "get ITEM",
		Short: "Retrieve an item, verifying hash, inclusion, head signature and timestamp",
		Long: `get retrieves item ITEM (its number, as list shows it) and verifies it (ARC-6):
the stored bytes against their digest, the description against its leaf, its
inclusion in the latest signed tree head, the head's signature and chain, and
its timestamp. A failed check is named ("archive: verify inclusion: …") and
nothing is written.

A confidential item comes sealed; --identity FILE (an age identity of one of
archive.recipients) opens it here, on your machine, and checks it in clear.
--from TARGET reads the copy a replica holds instead of the database's.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			leaf, err := strconv.ParseInt(args[0], 10, 64)
			if err != nil || leaf < 0 {
				return sceau.Errorf(sceau.Invalid, "archive get", "%q is not an item number", args[0])
			}
			var ids []age.Identity
			if identity != "" {
				f, err := os.Open(identity)
				if err != nil {
					return sceau.E(sceau.Invalid, "archive get", "cannot read --identity "+identity, err)
				}
				ids, err = archive.ParseIdentities(f)
				f.Close()
				if err != nil {
					return err
				}
			}
			r, err := apiCall(cmd.Context(), e, func(c *adminapi.Client, ctx context.Context) (*archive.Retrieved, error) {
				return c.ArchiveGet(ctx, leaf, from, ids)
			})
			if err != nil {
				return err
			}
			if out != "" {
				if err := os.WriteFile(out, r.Content, 0o600); err != nil {
					return sceau.E(sceau.Unavailable, "archive get", "cannot write "+out, err)
				}
			}
			if e.jsonOut {
				return printJSON(e.stdout, r)
			}
			w := e.stdout
			if out == "" {
				w = e.stderr
			}
			printRetrieved(w, r, out)
			if out == "" {
				_, err = e.stdout.Write(r.Content)
			}
			return err
		},
	}
	cmd.Flags().StringVarP(&out, "out", "o", "", "write the content to this file (default: standard output, the report to standard error)")
	cmd.Flags().StringVar(&identity, "identity", "", "an age identity file that opens confidential items")
	cmd.Flags().StringVar(&from, "from", "", "read the copy of this replica (archive.replicas)")
	return cmd
}

func printRetrieved(w io.Writer, r *archive.Retrieved, out string) {
	it := r.Item
	fmt.Fprintf(w, "Item %d: %s %s (%s, %s), %d bytes, event %s, kept until %s\n", it.Leaf, it.Kind, it.Source, it.Class, it.MediaType, it.Size,
		it.EventAt.Format(time.DateTime), it.RetainUntil.Format(time.DateOnly))
	fmt.Fprintf(w, "  from %s; verified: %s\n", r.From, strings.Join(r.Checks, ", "))
	if r.Head != nil {
		fmt.Fprintf(w, "  in signed head %d (%d items, %s)\n", r.Head.Number, r.Head.Size, r.Head.At.Format(time.DateTime))
	}
	if !r.StampAt.IsZero() {
		fmt.Fprintf(w, "  timestamped %s\n", r.StampAt.Format(time.RFC3339))
	}
	for _, warn := range r.Warnings {
		fmt.Fprintf(w, "  note: %s\n", warn)
	}
	if out != "" {
		fmt.Fprintf(w, "  written to %s\n", out)
	}
}

func newArchiveListCmd(e *env) *cobra.Command {
	var (
		kind  string
		from  int64
		limit int
	)
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List archived items in order",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			items, printed, err := fetch(cmd.Context(), e, func(c *adminapi.Client, ctx context.Context) ([]archive.Item, error) {
				return c.ArchiveList(ctx, kind, from, limit)
			})
			if err != nil || printed {
				return err
			}
			tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ITEM\tKIND\tSOURCE\tCLASS\tSIZE\tEVENT\tKEPT UNTIL")
			for _, it := range items {
				fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%d\t%s\t%s\n", it.Leaf, it.Kind, it.Source, it.Class, it.Size,
					it.EventAt.Format(time.DateTime), it.RetainUntil.Format(time.DateOnly))
			}
			return tw.Flush()
		},
	}
	cmd.Flags().StringVar(&kind, "kind", "", "only items of this kind")
	cmd.Flags().Int64Var(&from, "from", 0, "the first item number")
	cmd.Flags().IntVar(&limit, "limit", 100, "at most this many (10,000 at most)")
	return cmd
}

func newArchiveStatusCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "status",
		Short: "Show the archive's size, last signed head, tokens owed and each replica's lag",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			st, printed, err := fetch(cmd.Context(), e, func(c *adminapi.Client, ctx context.Context) (*archive.Status, error) {
				return c.ArchiveStatus(ctx)
			})
			if err != nil || printed {
				return err
			}
			w := e.stdout
			fmt.Fprintf(w, "Archive: %d items (%d in the tree), %d bytes\n", st.Items, st.Size, st.Bytes)
			for k, n := range st.ByKind {
				fmt.Fprintf(w, "  %-22s %d\n", k, n)
			}
			if h := st.Head; h != nil {
				fmt.Fprintf(w, "Last signed head: %d, %d items, %s (%s ago)\n", h.Number, h.Size, h.At.Format(time.DateTime), time.Since(h.At).Round(time.Second))
			} else {
				fmt.Fprintln(w, "Last signed head: none yet (archive.signer_ca, and its CA activated)")
			}
			if st.Unstamped > 0 {
				fmt.Fprintf(w, "Items without a timestamp yet: %d\n", st.Unstamped)
			}
			if len(st.Targets) == 0 {
				fmt.Fprintln(w, "Replicas: none configured (archive.replicas; ARC-4 wants one at a second site)")
			}
			for _, t := range st.Targets {
				state := "caught up"
				if t.Pending > 0 {
					state = fmt.Sprintf("%d pending, lag %s", t.Pending, t.Lag.Round(time.Second))
				}
				fmt.Fprintf(w, "Replica %s: %s\n", t.Name, state)
				if t.LastError != "" {
					fmt.Fprintf(w, "  last error: %s\n", t.LastError)
				}
			}
			return nil
		},
	}
}

func newArchiveVerifyCmd(e *env) *cobra.Command {
	var from, identity string
	cmd := &cobra.Command{
		Use:   "verify",
		Short: "Verify every item, the tree, every head and the replicas' heads",
		Long: `verify checks the whole archive (ARC-3, ARC-6), reading the installation's
database read-only (it may run beside 'sceau serve'): every item's bytes
against its digest and its description against its leaf, every item removed
against a purge record, the tree recomputed from the leaves against each
signed head, each head's signature and chain, the timestamps, and that no
replica holds a head the database lacks (an index put back to an older state).
--from TARGET checks a replica's copies instead of the database's bytes;
--identity FILE also opens and checks confidential items in clear.
It exits 1 when a check fails.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := config.Load(e.configPath)
			if err != nil {
				return err
			}
			opts := archive.VerifyOptions{From: from, Progress: progress(e, "archive verify", "items")}
			if identity != "" {
				f, err := os.Open(identity)
				if err != nil {
					return sceau.E(sceau.Invalid, "archive verify", "cannot read --identity "+identity, err)
				}
				opts.Identities, err = archive.ParseIdentities(f)
				f.Close()
				if err != nil {
					return err
				}
			}
			rep, err := node.VerifyArchive(cmd.Context(), cfg, opts)
			if err != nil {
				return err
			}
			if e.jsonOut {
				if err := printJSON(e.stdout, rep); err != nil {
					return err
				}
			} else {
				printArchiveReport(e.stdout, rep)
			}
			if !rep.OK() {
				return sceau.Errorf(sceau.Conflict, "archive verify", "%d checks failed", len(rep.Failures))
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&from, "from", "", "check the copies of this replica (archive.replicas)")
	cmd.Flags().StringVar(&identity, "identity", "", "an age identity file: also open and check confidential items")
	return cmd
}

func printArchiveReport(w io.Writer, r *archive.Report) {
	fmt.Fprintf(w, "Archive: %d items (%d bytes), %d purged after their date, %d signed heads; %d tokens checked, %d owed\n",
		r.Items, r.Bytes, r.Purged, r.Heads, r.Stamped, r.Unstamped)
	for _, f := range r.Failures {
		if f.Leaf >= 0 {
			fmt.Fprintf(w, "  FAILED %s, item %d: %s\n", f.Check, f.Leaf, f.Message)
		} else {
			fmt.Fprintf(w, "  FAILED %s: %s\n", f.Check, f.Message)
		}
	}
	if r.OK() {
		fmt.Fprintln(w, "OK: every item, the tree and every head verify.")
	}
}

func newArchiveHeadCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "head",
		Short: "Sign a tree head over every item now (serve does it every archive.head_interval)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			h, printed, err := fetch(cmd.Context(), e, func(c *adminapi.Client, ctx context.Context) (*archive.Head, error) {
				return c.ArchiveHead(ctx)
			})
			if err != nil || printed {
				return err
			}
			fmt.Fprintf(e.stdout, "Signed head %d over %d items, root %x, %s\n", h.Number, h.Size, h.Root, h.At.Format(time.RFC3339))
			return nil
		},
	}
}

func newArchivePurgeCmd(e *env) *cobra.Command {
	var dryRun bool
	var limit int
	cmd := &cobra.Command{
		Use:   "purge",
		Short: "Remove items past their retention date (Security Officer; journaled)",
		Long: `purge removes items whose retention date has passed (ARC-2), up to --limit,
recording each in the purge register first (the database refuses any other
deletion, and any deletion before the date by its own clock). Their leaves stay
in the tree, so heads and proofs still verify. Use --dry-run first.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			r, printed, err := fetch(cmd.Context(), e, func(c *adminapi.Client, ctx context.Context) (*server.PurgeResult, error) {
				return c.ArchivePurge(ctx, dryRun, limit)
			})
			if err != nil || printed {
				return err
			}
			verb := "Purged"
			if dryRun {
				verb = "Would purge"
			}
			fmt.Fprintf(e.stdout, "%s %d items past their retention date: %v\n", verb, len(r.Leaves), r.Leaves)
			return nil
		},
	}
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "list what would be purged, remove nothing")
	cmd.Flags().IntVar(&limit, "limit", 10000, "at most this many items")
	return cmd
}
