package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/sceau/sceau/internal/access"
	"github.com/sceau/sceau/internal/adminapi"
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
			call:  (*adminapi.Client).RequestCATermination,
			would: "request the termination of CA %s (no issuance afterwards, once approved)",
		}),
		caRequestCmd(e, caRequest{
			use:   "compromise CA --reason TEXT --yes",
			short: "Request the compromise procedure of a CA key, with approvals by two other Security Officers (INC-2)",
			long: `compromise asks, as a Security Officer, for the compromise procedure of a CA
whose key is lost, stolen or suspected compromised. Once two other Security
Officers approve it ('sceau approval approve ID --yes'), in one transaction:
the CA is terminated (it issues nothing more), every unexpired certificate it
issued and its own certificate at its parent are revoked (cACompromise), a
major incident is opened in the register (notifications to the Security
Officers and partners, the 24-hour obligations of INC-4), and a notice is
published in French and English on the site's notices page. The parent's CRL
is reissued at once; the CA's final CRL and the destruction of its key follow,
as for a termination. See docs/incident.md.`,
			call:  (*adminapi.Client).RequestCACompromise,
			would: "request the compromise procedure of CA %s (terminated, everything it issued revoked, once approved)",
		}),
		caRequestCmd(e, caRequest{
			use:   "request-create CA --reason TEXT --yes",
			short: "Request the creation of a CA declared in the configuration, with two approvals (ROLE-3)",
			long: `request-create asks, as an Application Administrator, for the creation of a
CA declared in the configuration and not created yet. Once two other Security
Officers or Application Administrators approve it ('sceau approval approve ID
--yes'), 'sceau ca create --yes' on the signing node creates it; without an
executed request it refuses.`,
			call:  (*adminapi.Client).RequestCACreation,
			would: "request the creation of CA %s",
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
			call:  (*adminapi.Client).RequestMassRevocation,
			would: "request the revocation of every unexpired certificate of CA %s",
		}),
	}
}

type caRequest struct {
	use, short, long string
	call             func(c *adminapi.Client, ctx context.Context, caID, reason string) (*access.Request, error)
	would            string // the dry run's message, with the CA ID
}

func caRequestCmd(e *env, r caRequest) *cobra.Command {
	var (
		reason string
		yes    *yesFlag
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
			if yes.dryRun(e, r.would, caID) {
				return nil
			}
			rq, err := apiCall(cmd.Context(), e, func(c *adminapi.Client, ctx context.Context) (*access.Request, error) {
				return r.call(c, ctx, caID, reason)
			})
			if err != nil {
				return err
			}
			return printPending(e, rq, "")
		},
	}
	cmd.Flags().StringVar(&reason, "reason", "", "why (recorded in the journal)")
	yes = addYes(cmd, "make the request")
	return cmd
}
