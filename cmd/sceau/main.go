// Command sceau runs a Sceau certification authority: see `sceau --help`.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/sceau/sceau/internal/sceau"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// env carries what every command shares.
type env struct {
	configPath string
	jsonOut    bool
	stdout     io.Writer
	stderr     io.Writer
}

// run builds the command tree and runs it; it returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	e := &env{stdout: stdout, stderr: stderr}
	root := newRootCmd(e)
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	if err := root.ExecuteContext(ctx); err != nil {
		fmt.Fprintf(stderr, "sceau: %s\n", errorText(err))
		if sceau.KindOf(err) == sceau.Invalid {
			return 2
		}
		return 1
	}
	return 0
}

// errorText is what the operator sees: the full chain for our own errors,
// which never hold secrets.
func errorText(err error) string { return err.Error() }

func newRootCmd(e *env) *cobra.Command {
	root := &cobra.Command{
		Use:   "sceau",
		Short: "Sceau: a certification authority for trust service providers",
		Long: `Sceau runs a hierarchy of certification authorities under a certificate policy:
an offline-style root and issuing CAs, issuance from PKCS#10 requests or with
generated keys delivered as PKCS#12, revocation, CRLs and an OCSP responder;
CA keys in a PKCS#11 token or an encrypted keystore, activated by m of n key
share holders, backed up only wrapped; trusted roles with separation of duties
and dual control; a hash-chained, signed audit journal; and separate public
and administration listeners.

Start with 'sceau demo' to see a whole installation on 127.0.0.1, or
'sceau init --dir DIR' to create one, then 'sceau serve --config DIR/sceau.yaml'.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentFlags().StringVarP(&e.configPath, "config", "c", defaultConfigPath(),
		"configuration file (env SCEAU_CONFIG)")
	root.AddCommand(newInitCmd(e), newServeCmd(e), newDemoCmd(e), newCACmd(e), newCertCmd(e), newBenchCmd(e))
	root.AddCommand(newCeremonyCmd(e), newProfileCmd(e), newPublicationCmd(e), newArchiveCmd(e), newCheckCmd(e), newIncidentCmd(e))
	root.AddCommand(newDossierCmd(e), newRevocationRequestCmd(e)) // CA-4
	root.AddCommand(newACMECmd(e))                                // CA-4: EAB keys (docs/acme.md)
	root.AddCommand(newESTCmd(e))                                 // CA-4: EST credentials (docs/est.md)
	root.AddCommand(newBackupCmd(e))                              // CONT-1
	root.AddCommand(newAuditCmd(e))
	root.AddCommand(newDBCmd(e))
	root.AddCommand(newLoginCmd(e), newLogoutCmd(e), newWhoamiCmd(e), newAccountCmd(e), newRoleCmd(e), newApprovalCmd(e), newPeopleCmd(e))
	return root
}

func defaultConfigPath() string {
	if p := os.Getenv("SCEAU_CONFIG"); p != "" {
		return p
	}
	return "sceau.yaml"
}
