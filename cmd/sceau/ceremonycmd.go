package main

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/sceau/sceau/internal/ceremony"
	"github.com/sceau/sceau/internal/config"
	"github.com/sceau/sceau/internal/node"
	"github.com/sceau/sceau/internal/safefile"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/store"
)

func newCeremonyCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "ceremony",
		Short: "Key ceremonies: create CAs before witnesses and sign the transcript (KEY-8)",
		Long: `A key ceremony creates CA keys and certificates, and splits their activation
secrets among key share holders, before a security officer and a witness
(such as a bailiff), following one reviewable script file. Every step is
confirmed by the participant it names; the transcript (JSON and readable
text: every step with its time, participant and result, the key and
certificate fingerprints, the share files) is signed with the
installation's transcript key and archived in its database.

  sceau ceremony plan FILE      check the script and show its steps
  sceau ceremony run FILE       hold the ceremony
  sceau ceremony verify DIR     check a transcript against a trusted key
  sceau ceremony list           list the archived transcripts
  sceau ceremony export ID DIR  write an archived transcript out again

See docs/ceremony.md for the whole procedure.`,
	}
	cmd.AddCommand(newCeremonyPlanCmd(e), newCeremonyRunCmd(e), newCeremonyVerifyCmd(e), newCeremonyListCmd(e), newCeremonyExportCmd(e))
	return cmd
}

func newCeremonyPlanCmd(e *env) *cobra.Command {
	var template bool
	cmd := &cobra.Command{
		Use:   "plan FILE",
		Short: "Check a ceremony script against the configuration and show its steps",
		Long: `plan checks the script FILE against the configuration it names (or --config)
and the installation, exactly as 'ceremony run' does first, and lists the
steps with the participant who confirms each. It changes nothing.

With --confirmations-template it prints instead a confirmation file that
answers yes to every step, for 'ceremony run --confirm-file' in tests and
automation; a transcript made with it says that its confirmations were
pre-recorded.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := node.PrepareCeremony(cmd.Context(), args[0], e.configPath, cmd.Flag("config").Changed)
			if err != nil {
				return err
			}
			defer p.Close()
			if err := ceremony.Check(p.Script, p.Declaration); err != nil {
				return err
			}
			plan := ceremony.Plan(p.Script, p.Declaration)
			if template {
				fmt.Fprint(e.stdout, ceremony.ConfirmationTemplate(plan))
				return nil
			}
			fmt.Fprintf(e.stdout, "Ceremony %q: the script fits %s.\n\n", p.Script.Name, p.Declaration.ConfigPath)
			tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "STEP\tCONFIRMED BY\tROLE\tWHAT")
			for _, st := range plan {
				fmt.Fprintf(tw, "%d\t%s\t%s\t%s\n", st.N, st.Participant.Name, st.Participant.Role, st.Title)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().BoolVar(&template, "confirmations-template", false, "print a confirmation file answering yes to every step")
	return cmd
}

func newCeremonyRunCmd(e *env) *cobra.Command {
	var confirmFile, pinDir, tokenPinDir, shareDir string
	cmd := &cobra.Command{
		Use:   "run FILE",
		Short: "Hold the key ceremony the script FILE describes",
		Long: `run holds a key ceremony (KEY-8, KEY-2). FILE is a YAML script (see
docs/ceremony.md): name, purpose, location, date, the configuration it
applies to, the participants and their roles (at least one security officer
and a witness; every key share holder of the CAs created), the CAs to
create, and the outputs directory.

First the script is checked against the configuration and the installation;
if anything does not fit, nothing is created. Then each step is shown and
its participant confirms it by typing yes (or no, which aborts):

  check the script and the configuration        security officer
  check the identity of every participant       witness
  create CA <id> (one step per CA)               security officer
  take share k of CA <id> (one step per holder)  key share holder
  approve the backup of CA <id> (if declared)    each approver
  take share k of the backup's wrapping key      its key share holder
  generate keys, split secrets, sign certificates operator
    and back up the keys declared in backups:
  write down the fingerprints of CA <id>         witness
  issue the first CRLs; export certificates      operator
  receive the share file (one per holder)        key share holder
  receive the backup's share file (per holder)   its key share holder
  write down the transcript key's fingerprint    witness
  close: sign and archive the transcript         security officer

During generation each key share holder types the PIN of their share (twice)
unless --pins gives them. A CA listed under backups: has its new key backed
up as 'sceau ca backup' does (KEY-4) — wrapped by its store, the wrapping
key split among the backup's holders — approved by the participants the
script names (two at least, not the security officer: ROLE-3); the copy is
registered with the approval "ceremony:<transcript ID>/<CA>". The outputs directory receives <ca>.pem, <ca>.crl,
transcript.json, transcript.txt and transcript.sig; it must not exist or be
empty. The transcript is signed with the transcript key of the installation's
service keystore (created on first use) and archived in its database.

A refusal or a failure aborts the ceremony: its transcript is still written,
marked aborted, says what remains, and is signed whenever the installation
exists. The exit status is then non-zero.

--confirm-file and --pins are for tests and automation: the transcript
records that confirmations were pre-recorded, or that PINs came from files.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := node.PrepareCeremony(cmd.Context(), args[0], e.configPath, cmd.Flag("config").Changed)
			if err != nil {
				return err
			}
			defer p.Close()
			stdinTerminal := term.IsTerminal(int(os.Stdin.Fd()))
			p.Out = e.stdout
			r := &ceremony.Runner{Script: p.Script, ScriptPath: p.ScriptPath, ScriptText: p.ScriptText, Declaration: p.Declaration,
				Installation: p, Out: e.stdout}
			if confirmFile != "" {
				b, err := os.ReadFile(confirmFile)
				if err != nil {
					return sceau.E(sceau.Invalid, "ceremony", "cannot read --confirm-file", err)
				}
				rec, err := ceremony.ParseConfirmations(b)
				if err != nil {
					return err
				}
				abs, _ := filepath.Abs(confirmFile)
				s := sha256.Sum256(b)
				r.Confirmer = rec
				r.Confirmations = ceremony.Confirmation{Mode: ceremony.ConfirmedByFile, File: abs, SHA256: hex.EncodeToString(s[:])}
			} else {
				if !stdinTerminal {
					p.Declaration.Problems = append(p.Declaration.Problems, "confirmations are typed by the participants at a terminal: standard input is not one (--confirm-file gives pre-recorded ones)")
				}
				r.Confirmer = &ceremony.Console{In: os.Stdin, Out: e.stdout}
				r.Confirmations = ceremony.Confirmation{Mode: ceremony.ConfirmedAtTerminal}
			}
			// KEY-2: holders who brought a smart card receive their shares
			// on it; KEY-8: what the ceremony creates is in the name of the
			// security officer who conducts it (both in node.Ceremony).
			cards := p.Cards()
			p.Shares = shareDir
			holders := p.Holders()
			switch {
			case holders == 0:
				r.PINMode = "none: no CA created has key share holders"
			case pinDir != "":
				abs, _ := filepath.Abs(pinDir)
				r.PINs, r.PINMode = ceremony.PINSource(pinsFromDir(pinDir)), "READ FROM FILES in "+abs+" (--pins: tests and automation only)"
				r.Present = ceremony.PresentSource(pinsFromDir(pinDir))
				r.BackupPINs = ceremony.PINSource(pinsFromDir(pinDir))
			default:
				// KEY-4: a backup's shares always go to share files, so
				// its holders choose a PIN even if they brought a card.
				r.BackupPINs = ceremony.PINSource(promptPINs(e.stdout))
				if !stdinTerminal {
					p.Declaration.Problems = append(p.Declaration.Problems, "key share holders type their PINs at a terminal: standard input is not one (--pins DIR reads them from files)")
				}
				r.PINs, r.PINMode = ceremony.PINSource(withCardPINs(promptPINs(e.stdout), cards, e.stdout)), "typed by each key share holder, unseen"
				r.Present = func(caID, holder string) ([]byte, error) {
					what := "share"
					if c, ok := cards[holder]; ok {
						what = c.String()
					}
					return readSecret(fmt.Sprintf("%s, PIN of your %s for CA %q: ", holder, what, caID), e.stdout)
				}
			}
			p.TokenPIN = ceremonyTokenPINs(e, tokenPinDir)
			_, err = r.Run(cmd.Context())
			return err
		},
	}
	cmd.Flags().StringVar(&confirmFile, "confirm-file", "", "pre-recorded confirmations (STEP PARTICIPANT yes|no per line; see 'ceremony plan --confirmations-template'), recorded as such")
	cmd.Flags().StringVar(&pinDir, "pins", "", "read the holders' PINs from DIR/<holder>.pin or DIR/<ca>/<holder>.pin (tests, automation), recorded as such")
	cmd.Flags().StringVar(&shareDir, "shares", "", "where the holders of the CAs to activate put their share files: DIR/<ca>/<holder>.share or DIR/<holder>.share (default: the installation's shares/)")
	cmd.Flags().StringVar(&tokenPinDir, "token-pins", "", "read the current user PIN of each new CA's PKCS#11 token from DIR/<token>.pin instead of asking the security officer")
	return cmd
}

func newCeremonyVerifyCmd(e *env) *cobra.Command {
	var keyFP, sigPath string
	cmd := &cobra.Command{
		Use:   "verify DIR|FILE [--key-fingerprint HEX | --config sceau.yaml]",
		Short: "Check a ceremony transcript's signature against a trusted key",
		Long: `verify checks transcript.json in DIR (or the transcript FILE) against its
signature (transcript.sig beside it, or --signature) and a trusted key: the
fingerprint of the transcript key that the witness wrote down at the
ceremony (--key-fingerprint, hex, spaces and colons allowed), or else the
transcript keys recorded in the installation of --config. It reports
precisely what is wrong: a transcript edited after signing, a signature of
another transcript, a signature that does not verify, a key that is not
trusted. It then checks that transcript.txt is the rendering of the signed
transcript and that each exported certificate and CRL has the SHA-256 the
transcript records. With the installation at hand, it also says whether the
transcript is archived in its database. The exit status is non-zero on any
failure.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			const op = "ceremony: verify"
			jsonPath := args[0]
			if fi, err := os.Stat(jsonPath); err == nil && fi.IsDir() {
				jsonPath = filepath.Join(jsonPath, "transcript.json")
			}
			if sigPath == "" {
				sigPath = strings.TrimSuffix(jsonPath, ".json") + ".sig"
			}
			useConfig := keyFP == "" || cmd.Flag("config").Changed
			var (
				trusted []string
				db      *store.DB
			)
			if keyFP != "" {
				fp, err := ceremony.ParseFingerprint(keyFP)
				if err != nil {
					return err
				}
				trusted = append(trusted, fp)
			}
			if useConfig {
				cfg, err := config.Load(e.configPath)
				if err != nil {
					return sceau.E(sceau.Invalid, op, "without --key-fingerprint, the trusted keys come from the installation of --config", err)
				}
				if db, err = node.OpenExistingStore(cmd.Context(), cfg); err != nil {
					return err
				}
				defer db.Close()
				if keyFP == "" {
					recorded, err := ceremony.RecordedKeys(cmd.Context(), db)
					if err != nil {
						return err
					}
					for _, k := range recorded {
						trusted = append(trusted, k.Fingerprint)
					}
				}
			}
			v, notes, err := ceremony.VerifyFiles(jsonPath, sigPath, trusted)
			if err != nil {
				return err
			}
			t := v.Transcript
			fmt.Fprintf(e.stdout, "OK: transcript %s of %q, %s, is signed by the trusted key\n    %s\n", t.ID, t.Name, strings.ToUpper(t.Status),
				ceremony.Grouped(v.KeyFingerprint))
			fmt.Fprintf(e.stdout, "SHA-256 of transcript.json: %s\n", v.SHA256)
			if t.Abort != nil {
				fmt.Fprintf(e.stdout, "The ceremony was ABORTED at step %d: %s\n", t.Abort.Step, t.Abort.Reason)
			}
			if t.Confirmations.Mode == ceremony.ConfirmedByFile {
				fmt.Fprintf(e.stdout, "Its confirmations were PRE-RECORDED (%s), not typed by the participants.\n", t.Confirmations.File)
			}
			for _, n := range notes {
				fmt.Fprintf(e.stdout, "  %s\n", n)
			}
			if db != nil {
				a, err := ceremony.ArchivedTranscript(cmd.Context(), db, t.ID)
				switch {
				case sceau.KindOf(err) == sceau.NotFound:
					return sceau.Errorf(sceau.NotFound, op, "transcript %s is not archived in the database of %s", t.ID, e.configPath)
				case err != nil:
					return err
				case a.SHA256 != v.SHA256:
					return sceau.Errorf(sceau.Invalid, op, "the database archives transcript %s with SHA-256 %s, not %s", t.ID, a.SHA256, v.SHA256)
				}
				fmt.Fprintf(e.stdout, "Archived in the database of %s on %s, identical.\n", e.configPath, a.CreatedAt)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&keyFP, "key-fingerprint", "", "SHA-256 fingerprint of the trusted transcript key, as the witness wrote it down")
	cmd.Flags().StringVar(&sigPath, "signature", "", "signature file (default: transcript.sig beside the transcript)")
	return cmd
}

func newCeremonyListCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List the ceremony transcripts archived in the installation of --config",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := config.Load(e.configPath)
			if err != nil {
				return err
			}
			db, err := node.OpenExistingStore(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			defer db.Close()
			all, err := ceremony.ArchivedTranscripts(cmd.Context(), db)
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tSTATUS\tARCHIVED\tKEY\tNAME")
			for _, a := range all {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s…\t%s\n", a.ID, a.Status, a.CreatedAt, a.SignerKey[:min(16, len(a.SignerKey))], a.Name)
			}
			return tw.Flush()
		},
	}
}

func newCeremonyExportCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "export ID DIR",
		Short: "Write an archived transcript out again (transcript.json, .txt, .sig) into DIR",
		Long: `export writes the transcript ID (or the one with that SHA-256) archived in the
installation of --config into DIR, which must not exist or be empty, exactly
as it was signed: 'sceau ceremony verify DIR' then checks it (ARC-6).`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			const op = "ceremony: export"
			cfg, err := config.Load(e.configPath)
			if err != nil {
				return err
			}
			db, err := node.OpenExistingStore(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			defer db.Close()
			a, err := ceremony.ArchivedTranscript(cmd.Context(), db, args[0])
			if err != nil {
				return err
			}
			t, err := ceremony.ParseTranscript(a.Transcript)
			if err != nil {
				return sceau.E(sceau.Internal, op, "the archived transcript cannot be read", err)
			}
			sig, err := a.SignatureOf()
			if err != nil {
				return sceau.E(sceau.Internal, op, "", err)
			}
			sb, _ := sig.Marshal()
			dir := args[1]
			if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
				return sceau.Errorf(sceau.Conflict, op, "%s is not empty: export never overwrites", dir)
			}
			if err := os.MkdirAll(dir, 0o750); err != nil {
				return sceau.E(sceau.Unavailable, op, "cannot create "+dir, err)
			}
			for name, b := range map[string][]byte{"transcript.json": a.Transcript, "transcript.txt": []byte(t.Text()), "transcript.sig": sb} {
				// Written whole or not at all, never over an existing file.
				if err := safefile.WriteNew(filepath.Join(dir, name), b, 0o644); err != nil {
					if errors.Is(err, safefile.ErrExists) {
						return sceau.E(sceau.Conflict, op, "", err)
					}
					return sceau.E(sceau.Unavailable, op, "cannot write "+name, err)
				}
			}
			fmt.Fprintf(e.stdout, "transcript %s (%s) written to %s\n", a.ID, a.Status, dir)
			return nil
		},
	}
}

// tokenPINs gives the current user PIN of a new CA's token: from DIR, or
// typed by the security officer.
func ceremonyTokenPINs(e *env, dir string) node.TokenPINSource {
	if dir != "" {
		return tokenPINsFromDir(dir)
	}
	return func(token string) ([]byte, error) {
		return readSecret(fmt.Sprintf("Security officer, type the current user PIN of token %q (it is replaced by the split secret): ", token), e.stdout)
	}
}
