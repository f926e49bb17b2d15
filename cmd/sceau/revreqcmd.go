package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/sceau/sceau/internal/adminapi"
	"github.com/sceau/sceau/internal/registration"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/server"
)

func newRevocationRequestCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{Use: "revocation-request", Short: "Revocation requests: received, checked by a Revocation Officer, within the deadline (CA-4)",
		Long: `A revocation request comes from the holder (authenticated by the revocation
secret handed out at issuance), from the holder's organisation, or from an
officer. A Revocation Officer checks it and revokes, with the reason, or refuses
it with a note. Each request has its due time (the policy's deadline) and its
done time; nothing about a request is ever deleted. See docs/registration.md.`}
	cmd.AddCommand(newRevReqCreateCmd(e), newRevReqHolderCmd(e), newRevReqListCmd(e), newRevReqProcessCmd(e))
	cmd.PersistentFlags().BoolVar(&e.jsonOut, "json", false, "print JSON")
	return cmd
}

func printRevocationRequest(e *env, r *registration.RevocationRequest) error {
	if e.jsonOut {
		return printJSON(e.stdout, r)
	}
	fmt.Fprintf(e.stdout, "Request %d: certificate %s (dossier %d), %s from %s %s, %s; due %s\n", r.ID, r.Serial, r.Dossier, r.Reason, r.Source,
		r.Requester, r.State, r.DueAt.Format(time.RFC3339))
	if r.DoneAt != nil {
		fmt.Fprintf(e.stdout, "  done %s by %s: %s\n", r.DoneAt.Format(time.RFC3339), r.CheckedBy, r.Decision)
	}
	return nil
}

func newRevReqCreateCmd(e *env) *cobra.Command {
	var nr registration.NewRequest
	cmd := &cobra.Command{Use: "create", Short: "Record a request from an officer or from the holder's organisation", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := apiCall(cmd.Context(), e, func(c *adminapi.Client, ctx context.Context) (*registration.RevocationRequest, error) {
				return c.RequestRevocation(ctx, nr)
			})
			if err != nil {
				return err
			}
			return printRevocationRequest(e, r)
		}}
	f := cmd.Flags()
	f.StringVar(&nr.Serial, "serial", "", "the certificate's serial (hex)")
	f.StringVar(&nr.Reason, "reason", "unspecified", "RFC 5280 reason: keyCompromise, affiliationChanged, superseded, cessationOfOperation, …")
	f.StringVar(&nr.Source, "source", "officer", "officer or organisation")
	f.StringVar(&nr.Requester, "requester", "", "who asked, for an organisation")
	f.StringVar(&nr.Note, "note", "", "what was said")
	return cmd
}

func newRevReqHolderCmd(e *env) *cobra.Command {
	var (
		req        server.HolderRevocationRequest
		secretFile string
	)
	cmd := &cobra.Command{Use: "holder", Short: "Relay the holder's request, authenticated by their revocation secret", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			b, err := os.ReadFile(secretFile)
			if err != nil {
				return sceau.E(sceau.Invalid, "revocation-request holder", "cannot read the secret file", err)
			}
			req.Secret = strings.TrimSpace(string(b))
			r, err := apiCall(cmd.Context(), e, func(c *adminapi.Client, ctx context.Context) (*registration.RevocationRequest, error) {
				return c.HolderRevocation(ctx, req)
			})
			if err != nil {
				return err
			}
			return printRevocationRequest(e, r)
		}}
	f := cmd.Flags()
	f.StringVar(&req.Serial, "serial", "", "the certificate's serial (hex)")
	f.StringVar(&secretFile, "secret-file", "", "a file holding the holder's revocation secret")
	f.StringVar(&req.Reason, "reason", "unspecified", "RFC 5280 reason")
	f.StringVar(&req.Note, "note", "", "what the holder says")
	return cmd
}

func newRevReqListCmd(e *env) *cobra.Command {
	var state string
	cmd := &cobra.Command{Use: "list", Short: "List requests by due time (--state received: those waiting)", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			list, err := apiCall(cmd.Context(), e, func(c *adminapi.Client, ctx context.Context) ([]registration.RevocationRequest, error) {
				return c.RevocationRequests(ctx, state)
			})
			if err != nil {
				return err
			}
			if e.jsonOut {
				return printJSON(e.stdout, list)
			}
			tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tSTATE\tSERIAL\tDOSSIER\tSOURCE\tREASON\tDUE\tDONE\tLATE")
			for _, r := range list {
				done := "-"
				if r.DoneAt != nil {
					done = r.DoneAt.Format(time.RFC3339)
				}
				late := ""
				if r.Overdue {
					late = "LATE"
				}
				fmt.Fprintf(tw, "%d\t%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\n", r.ID, r.State, r.Serial, r.Dossier, r.Source, r.Reason,
					r.DueAt.Format(time.RFC3339), done, late)
			}
			return tw.Flush()
		}}
	cmd.Flags().StringVar(&state, "state", "", "received, revoked or refused")
	return cmd
}

func newRevReqProcessCmd(e *env) *cobra.Command {
	var req server.ProcessRequest
	var revoke, refuse bool
	cmd := &cobra.Command{Use: "process ID", Short: "Revoke (with the reason) or refuse (with a note) a request", Args: cobra.ExactArgs(1)}
	yes := addYes(cmd, "carry out the decision")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		id, err := dossierID(args[0])
		if err != nil {
			return err
		}
		switch {
		case revoke == refuse:
			return sceau.Errorf(sceau.Invalid, "revocation-request process", "give --revoke or --refuse")
		case revoke:
			req.Decision = "revoke"
		default:
			req.Decision = "refuse"
		}
		if yes.dryRun(e, "%s request %d", req.Decision, id) {
			return nil
		}
		r, err := apiCall(cmd.Context(), e, func(c *adminapi.Client, ctx context.Context) (*registration.RevocationRequest, error) {
			return c.ProcessRevocationRequest(ctx, id, req)
		})
		if err != nil {
			return err
		}
		return printRevocationRequest(e, r)
	}
	f := cmd.Flags()
	f.BoolVar(&revoke, "revoke", false, "revoke the certificate")
	f.BoolVar(&refuse, "refuse", false, "refuse the request")
	f.StringVar(&req.Reason, "reason", "", "the RFC 5280 reason, if not the request's")
	f.StringVar(&req.Note, "note", "", "the note (required to refuse)")
	return cmd
}
