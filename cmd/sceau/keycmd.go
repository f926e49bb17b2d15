package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/sceau/sceau/internal/access"
	"github.com/sceau/sceau/internal/adminapi"
	"github.com/sceau/sceau/internal/quorum"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/server"
)

// Backups, imports and destruction of CA keys (KEY-4, KEY-6), each under
// dual control (ROLE-3). Backup files are written to backups/ and the
// share files of their wrapping keys to shares/backup-<ca>-<n>/, both in
// the data directory. There is no command that exports a private key in
// clear (KEY-3): a backup is the key wrapped under a key split m-of-n.

// keyCustodyCmds are the key backup, import and destruction commands of `sceau ca`.
func keyCustodyCmds(e *env) []*cobra.Command {
	return []*cobra.Command{newCABackupCmd(e), newCABackupsCmd(e), newCAImportCmd(e), newCADestroyKeyCmd(e)}
}

func printPending(e *env, rq *access.Request, next string) error {
	if e.jsonOut {
		return printJSON(e.stdout, rq)
	}
	fmt.Fprintf(e.stdout, "Request %s: %s on %s. It needs %d approvals by other people before %s.\nApprovers run: sceau approval approve %s --yes\n",
		rq.ID, rq.Action, rq.Resource, rq.Required, rq.ExpiresAt.Local().Format(time.DateTime), rq.ID)
	if next != "" {
		fmt.Fprintf(e.stdout, "Then %s runs: %s\n", rq.Requester, next)
	}
	return nil
}

func newCABackupCmd(e *env) *cobra.Command {
	var (
		holders   []string
		threshold int
		approval  string
		pinsDir   string
		yes       *yesFlag
	)
	cmd := &cobra.Command{
		Use:   "backup CA (--holders A,B,C --threshold M --yes | --approval ID)",
		Short: "Back up a CA key, wrapped under a key split m-of-n, with two approvals (KEY-4)",
		Long: `backup makes a backup copy of a CA key outside its device, in two steps.

1. A System Operator or Administrator requests it, naming the key share
   holders of the new wrapping key and how many of them an import needs:
     sceau ca backup issuing --holders alice,bob,carol --threshold 2 --yes
   Two other people (Security Officers or Key Share Holders) approve it:
     sceau approval approve ID --yes

2. Within a day, the requester carries it out with the holders at the
   terminal; each chooses the PIN of their share (--pins DIR reads
   DIR/<holder>.pin instead):
     sceau ca backup issuing --approval ID

The server draws a random 256-bit wrapping key, has the CA's store wrap the
key under it (CKM_AES_KEY_WRAP_PAD inside a PKCS#11 token; AES-256-GCM for
the software keystore), writes the backup to backups/backup-CA-N.backup,
splits the wrapping key among the holders, seals each share under its
holder's PIN in shares/backup-CA-N/<holder>.share, and wipes the wrapping
key. The copy is registered (where, when, by whom, approved by whom) and
journaled; 'sceau ca backups CA' lists them. A key generated in a token
without keystore.pkcs11.allow_backup cannot be backed up. No command
exports a private key in clear (KEY-3).`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			caID := args[0]
			if approval == "" {
				if len(holders) < 2 || threshold < 2 {
					return sceau.Errorf(sceau.Invalid, "ca backup", "name the holders (--holders, at least 2) and the threshold (--threshold, at least 2), or carry out an approved request with --approval")
				}
				if yes.dryRun(e, "request a backup of the key of CA %s, its wrapping key split %d of %d among %s, for two approvals",
					caID, threshold, len(holders), strings.Join(holders, ", ")) {
					return nil
				}
				rq, err := apiCall(cmd.Context(), e, func(c *adminapi.Client, ctx context.Context) (*access.Request, error) {
					return c.RequestBackup(ctx, caID, quorum.BackupPlan{Holders: holders, Threshold: threshold})
				})
				if err != nil {
					return err
				}
				return printPending(e, rq, "sceau ca backup "+caID+" --approval "+rq.ID)
			}
			_, c, err := loadClient(e)
			if err != nil {
				return err
			}
			rq, err := c.Approval(cmd.Context(), approval)
			if err != nil {
				return err
			}
			var plan quorum.BackupPlan
			if err := json.Unmarshal(rq.Payload, &plan); err != nil || rq.Action != access.KeyBackup {
				return sceau.Errorf(sceau.Invalid, "ca backup", "request %s is not a key backup", approval)
			}
			source := promptPINs(e.stdout)
			if pinsDir != "" {
				source = pinsFromDir(pinsDir)
			}
			body := server.BackupPINs{PINs: map[string]string{}}
			for _, h := range plan.Holders {
				pin, err := source(caID, h)
				if err != nil {
					return err
				}
				body.PINs[h] = string(pin)
				clear(pin)
			}
			rec, err := c.CarryOutBackup(cmd.Context(), caID, approval, body)
			clear(body.PINs)
			if err != nil {
				return err
			}
			if e.jsonOut {
				return printJSON(e.stdout, rec)
			}
			fmt.Fprintf(e.stdout, "Backup %s of CA %s written to %s (SHA-256 %s), wrapped with %s.\nShare files for %s are in shares/%s/: hand each to its holder; any %d of them import it.\n",
				rec.ID, caID, rec.Location, rec.SHA256, rec.Mechanism, strings.Join(rec.Holders, ", "), rec.ID, rec.Threshold)
			return nil
		},
	}
	cmd.Flags().StringSliceVar(&holders, "holders", nil, "the key share holders of the wrapping key (accounts, comma separated)")
	cmd.Flags().IntVar(&threshold, "threshold", 0, "how many holders an import needs (m)")
	cmd.Flags().StringVar(&approval, "approval", "", "carry out this approved backup request")
	cmd.Flags().StringVar(&pinsDir, "pins", "", "read each holder's new PIN from DIR/<holder>.pin instead of the terminal")
	yes = addYes(cmd, "make the request")
	return cmd
}

func newCABackupsCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "backups CA",
		Short: "List the registered backup copies of a CA key (KEY-4)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			list, printed, err := fetch(cmd.Context(), e, func(c *adminapi.Client, ctx context.Context) ([]quorum.BackupRecord, error) {
				return c.Backups(ctx, args[0])
			})
			if err != nil || printed {
				return err
			}
			tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tSTATUS\tCREATED\tBY\tAPPROVERS\tSHARES\tLOCATION")
			for _, b := range list {
				status := b.Status
				if b.DestroyedAt != nil {
					status += " " + b.DestroyedAt.Local().Format(time.DateOnly) + " by " + b.DestroyedBy
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d of %s\t%s\n", b.ID, status, b.CreatedAt.Local().Format(time.DateTime), b.CreatedBy,
					strings.Join(b.Approvers, ","), b.Threshold, strings.Join(b.Holders, ","), b.Location)
			}
			return tw.Flush()
		},
	}
}

func newCAImportCmd(e *env) *cobra.Command {
	var (
		backup   string
		approval string
		shares   []string
		pinFiles []string
		yes      *yesFlag
	)
	cmd := &cobra.Command{
		Use:   "import CA (--backup ID --yes | --approval ID --share HOLDER=FILE ...)",
		Short: "Import a registered backup into the CA's key store, with two approvals and m shares (KEY-4)",
		Long: `import restores a registered backup copy into the CA's key store (for a token:
the token of the CA's configuration, e.g. a replacement device), in two steps.

1. A System Administrator requests it:
     sceau ca import issuing --backup backup-issuing-1 --yes
   Two other people (Security Officers or Key Share Holders) approve it.

2. Within a day, the requester carries it out with m holders of the backup's
   wrapping key, each naming their share file and typing their PIN:
     sceau ca import issuing --approval ID --share alice=alice.share --share bob=bob.share

The server reads the backup from its registered location and checks it
against its registered SHA-256, opens each share as for an activation
(wrong PINs are counted; revoked or locked shares are refused), rebuilds
the wrapping key in memory, checks the backup's authentication, has the
store unwrap the key, checks that it signs for the CA's certificate, and
wipes the wrapping key. The journal shows the shares presented (as an
activation of key backup-CA-N) and key.imported.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			caID := args[0]
			if approval == "" {
				if backup == "" {
					return sceau.Errorf(sceau.Invalid, "ca import", "name the backup (--backup ID) to request an import, or carry out an approved one with --approval")
				}
				if yes.dryRun(e, "request the import of backup %s into the key store of CA %s, for two approvals", backup, caID) {
					return nil
				}
				rq, err := apiCall(cmd.Context(), e, func(c *adminapi.Client, ctx context.Context) (*access.Request, error) {
					return c.RequestImport(ctx, caID, quorum.ImportPlan{Backup: backup})
				})
				if err != nil {
					return err
				}
				return printPending(e, rq, "sceau ca import "+caID+" --approval "+rq.ID+" --share HOLDER=FILE ...")
			}
			if len(shares) == 0 {
				return sceau.Errorf(sceau.Invalid, "ca import", "name the shares of m holders: --share HOLDER=FILE")
			}
			pinFile := map[string]string{}
			for _, p := range pinFiles {
				h, f, ok := strings.Cut(p, "=")
				if !ok {
					return sceau.Errorf(sceau.Invalid, "ca import", "--pin-file wants HOLDER=FILE, got %q", p)
				}
				pinFile[h] = f
			}
			_, c, err := loadClient(e)
			if err != nil {
				return err
			}
			var body server.ImportShares
			defer func() {
				for i := range body.Shares {
					body.Shares[i].PIN = ""
				}
			}()
			for _, s := range shares {
				holder, file, ok := strings.Cut(s, "=")
				if !ok {
					return sceau.Errorf(sceau.Invalid, "ca import", "--share wants HOLDER=FILE, got %q", s)
				}
				raw, err := os.ReadFile(file)
				if err != nil {
					return sceau.E(sceau.Invalid, "ca import", "cannot read the share file of "+holder, err)
				}
				var pin []byte
				if f, ok := pinFile[holder]; ok {
					b, err := os.ReadFile(f)
					if err != nil {
						return sceau.E(sceau.Invalid, "ca import", "cannot read the PIN file of "+holder, err)
					}
					pin = trimNewline(b)
				} else if pin, err = readSecret(fmt.Sprintf("%s, PIN of your share of the backup's wrapping key: ", holder), e.stdout); err != nil {
					return err
				}
				body.Shares = append(body.Shares, server.PresentShare{Holder: holder, ShareFile: raw, PIN: string(pin)})
				clear(pin)
			}
			rec, err := c.CarryOutImport(cmd.Context(), caID, approval, body)
			if err != nil {
				return err
			}
			if e.jsonOut {
				return printJSON(e.stdout, rec)
			}
			fmt.Fprintf(e.stdout, "Backup %s imported into the key store of CA %s.\n", rec.ID, caID)
			return nil
		},
	}
	cmd.Flags().StringVar(&backup, "backup", "", "the registered backup to import (sceau ca backups CA)")
	cmd.Flags().StringVar(&approval, "approval", "", "carry out this approved import request")
	cmd.Flags().StringArrayVar(&shares, "share", nil, "HOLDER=FILE: a holder and their share file of the wrapping key (repeatable)")
	cmd.Flags().StringArrayVar(&pinFiles, "pin-file", nil, "HOLDER=FILE: read that holder's PIN from FILE instead of the terminal")
	yes = addYes(cmd, "make the request")
	return cmd
}

func newCADestroyKeyCmd(e *env) *cobra.Command {
	var yes *yesFlag
	cmd := &cobra.Command{
		Use:   "destroy-key CA --yes",
		Short: "Request the destruction of a CA key and of every backup of it, with two approvals (KEY-6)",
		Long: `destroy-key asks, as a Security Officer, for the destruction of a CA key. It is
carried out when two other people (Security Officers or Key Share Holders)
have approved it ('sceau approval approve ID --yes'): every registered
backup copy is marked destroyed and its file removed where it still is at
its registered location, the share carriers of the key's activation secret
and of every backup's wrapping key are revoked, and the key is destroyed in
its store (C_DestroyObject in a token; the sealed file in the software
keystore). Each step is an audit event. A key in a token must be activated
for its destruction. The CA signs nothing afterwards.

Copies outside Sceau's reach (backup files moved to a safe, share files
handed out) must be destroyed physically; record each with
'sceau audit record media-destruction'.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			caID := args[0]
			if yes.dryRun(e, "request the destruction of the key of CA %s and of every backup of it (irreversible once approved)", caID) {
				return nil
			}
			rq, err := apiCall(cmd.Context(), e, func(c *adminapi.Client, ctx context.Context) (*access.Request, error) {
				return c.RequestKeyDestruction(ctx, caID)
			})
			if err != nil {
				return err
			}
			return printPending(e, rq, "")
		},
	}
	yes = addYes(cmd, "make the request")
	return cmd
}
