package main

import (
	"context"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/sceau/sceau/internal/adminapi"
	"github.com/sceau/sceau/internal/server"
)

func newCACmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "ca",
		Short: "The CAs: inspect, CRLs, key activation, backups, destruction, creation, termination",
		Long: `Every command but create talks to the administration API of a running
'sceau serve', as the person logged in with 'sceau login' (or with the
operator certificate in the admin directory of --config). The sensitive ones
(backup, import, destroy-key, request-create, revoke-all, terminate) make a
request that two other people approve with 'sceau approval approve ID --yes'
(ROLE-3). create works on the installation's files directly, on the CA
machine, and only for a CA whose creation was approved.`,
	}
	cmd.PersistentFlags().BoolVar(&e.jsonOut, "json", false, "print JSON")

	list := &cobra.Command{
		Use:   "list",
		Short: "List the CAs of the hierarchy",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cas, printed, err := fetch(cmd.Context(), e, (*adminapi.Client).CAs)
			if err != nil || printed {
				return err
			}
			tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tPARENT\tKEY\tNOT AFTER\tSUBJECT")
			for _, ca := range cas {
				parent := ca.Parent
				if parent == "" {
					parent = "-"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", ca.ID, parent, ca.KeyType, ca.NotAfter.Format(time.DateOnly), ca.Subject)
			}
			return tw.Flush()
		},
	}
	show := &cobra.Command{
		Use:   "show CA",
		Short: "Show a CA: subject, validity, fingerprints, profiles and its certificate (PEM)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ca, printed, err := fetch(cmd.Context(), e, func(c *adminapi.Client, ctx context.Context) (*server.CAInfo, error) {
				return c.CA(ctx, args[0])
			})
			if err != nil || printed {
				return err
			}
			fmt.Fprintf(e.stdout, "CA:        %s\nParent:    %s\nSubject:   %s\nKey:       %s\nValid:     %s to %s\nSHA-256:   %s\nSHA-1:     %s\nProfiles:  %v\n\n%s",
				ca.ID, ca.Parent, ca.Subject, ca.KeyType, ca.NotBefore.Format(time.RFC3339), ca.NotAfter.Format(time.RFC3339),
				ca.SHA256, ca.SHA1, ca.Profiles, ca.PEM)
			return nil
		},
	}
	crl := &cobra.Command{
		Use:   "crl CA",
		Short: "Issue a new CRL for the CA now (it is also reissued on schedule and after revocations)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			crls, err := apiCall(cmd.Context(), e, func(c *adminapi.Client, ctx context.Context) ([]server.CRLInfo, error) {
				return c.IssueCRL(ctx, args[0])
			})
			if err != nil {
				return err
			}
			if e.jsonOut {
				return printJSON(e.stdout, crls)
			}
			for _, x := range crls {
				fmt.Fprintf(e.stdout, "CRL %s shard %d number %d: %d entries, next update %s\n", x.CA, x.Shard, x.Number, x.Entries,
					x.NextUpdate.Format(time.RFC3339))
			}
			return nil
		},
	}
	cmd.AddCommand(list, show, crl, newCACreateCmd(e), newCAActivateCmd(e), newCADeactivateCmd(e))
	cmd.AddCommand(keyCustodyCmds(e)...) // keycmd.go: backup, backups, import, destroy-key (KEY-4, KEY-6)
	cmd.AddCommand(caApprovalCmds(e)...) // caapproval.go: terminate, revoke-all (ROLE-3)
	return cmd
}
