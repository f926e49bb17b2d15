package main

import (
	"fmt"
	"net/http"

	"github.com/spf13/cobra"

	"github.com/sceau/sceau/internal/access"
	"github.com/sceau/sceau/internal/server"
)

// caApprovalCmds are the CA-wide actions under dual control (ROLE-3): the
// command makes the request; it is carried out (or, for a creation,
// authorised) when other people approve it.
func caApprovalCmds(e *env) []*cobra.Command {
	return []*cobra.Command{
		caRequestCmd(e, caRequest{
			use:   "terminate CA --reason TEXT --yes",
			short: "Request the termination of a CA, with approvals by two other people (ROLE-3)",
			long: `terminate asks, as a Security Officer or Application Administrator, for a CA
to be terminated. Once two other Security Officers or Application
Administrators approve it ('sceau approval approve ID --yes'), the CA is marked
terminated and every issuance from it is refused; its CRLs and OCSP go on.
The rest of the termination procedure (revoking what it issued, the last CRL,
destroying the key) is separate: 'sceau ca revoke-all', 'sceau ca crl',
'sceau ca destroy-key'.`,
			path:  "terminate",
			would: "would request the termination of CA %s (no issuance afterwards, once approved); add --yes\n",
		}),
		caRequestCmd(e, caRequest{
			use:   "request-create CA --reason TEXT --yes",
			short: "Request the creation of a CA declared in the configuration, with two approvals (ROLE-3)",
			long: `request-create asks, as an Application Administrator, for the creation of a
CA declared in the configuration and not created yet. Once two other Security
Officers or Application Administrators approve it ('sceau approval approve ID
--yes'), 'sceau ca create --yes' on the signing node creates it; without an
executed request it refuses.`,
			path:  "creation",
			would: "would request the creation of CA %s; add --yes\n",
		}),
		caRequestCmd(e, caRequest{
			use:   "revoke-all CA --reason REASON --yes",
			short: "Request the revocation of every unexpired certificate of a CA, with two approvals (ROLE-3)",
			long: `revoke-all asks, as a Security Officer or Registration & Revocation Officer,
for every unexpired certificate of a CA to be revoked. REASON is an RFC 5280
reason name (for example keyCompromise, cACompromise, cessationOfOperation,
superseded). Once two other people holding those roles approve it
('sceau approval approve ID --yes'), the certificates are revoked in batches,
each with its audit event, and the CRL is reissued at the scheduler's next run
(or at once with 'sceau ca crl CA').`,
			path:  "revocations",
			would: "would request the revocation of every unexpired certificate of CA %s; add --yes\n",
		}),
	}
}

type caRequest struct {
	use, short, long string
	path             string // under /api/v1/cas/{id}/
	would            string // the dry run's message, with the CA ID
}

func caRequestCmd(e *env, r caRequest) *cobra.Command {
	var (
		reason string
		yes    bool
	)
	cmd := &cobra.Command{
		Use:   r.use,
		Short: r.short,
		Long:  r.long,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			caID := args[0]
			if reason == "" {
				return fmt.Errorf("--reason is required: it is recorded in the journal")
			}
			if !yes {
				fmt.Fprintf(e.stdout, r.would, caID)
				return nil
			}
			_, c, err := loadClient(e)
			if err != nil {
				return err
			}
			var rq access.Request
			if err := c.do(cmd.Context(), http.MethodPost, "/api/v1/cas/"+pathEscape(caID)+"/"+r.path,
				server.CARequest{Reason: reason}, &rq); err != nil {
				return err
			}
			return printPending(e, &rq, "")
		},
	}
	cmd.Flags().StringVar(&reason, "reason", "", "why (recorded in the journal)")
	cmd.Flags().BoolVar(&yes, "yes", false, "make the request")
	return cmd
}
