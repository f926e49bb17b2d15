package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/sceau/sceau/internal/adminapi"
	"github.com/sceau/sceau/internal/registration"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/server"
)

// The registration authority's commands (CA-4, docs/registration.md):
// flags and printing only; the workflow is internal/registration's.

func newDossierCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{Use: "dossier", Short: "Registration dossiers: evidence, CGU acceptance, four-eyes validation, issuance (CA-4)",
		Long: `A dossier is the request file of one certificate. A Registration & Revocation
Officer enters it (create, evidence add, accept-cgu) and submits it; another
officer checks it and validates or rejects it (four eyes: the officer who
entered a dossier never decides on it); then it is issued under its profile,
from its validated fields only, and delivered.

  sceau dossier requirements --ca issuing --profile qualified-person --kind natural
  sceau dossier create marie-curie.json
  sceau dossier evidence add 12 --type id_card --number 123456789012 --country FR \
      --expires 2031-05-01 --method face_to_face --scan cni-recto-verso.pdf
  sceau dossier accept-cgu 12 --document cgu/sceau/1/fr --sha256 <digest> --how handwritten --proof cgu-signee.pdf
  sceau dossier submit 12
  sceau dossier validate 12 --yes          # another officer
  sceau dossier issue 12 --csr marie.csr --out marie.pem --yes
  sceau dossier deliver 12 --how "by e-mail"

See docs/registration.md.`}
	cmd.AddCommand(newDossierCreateCmd(e), newDossierShowCmd(e), newDossierListCmd(e), newDossierRequirementsCmd(e),
		newDossierEvidenceCmd(e), newDossierCGUCmd(e), newDossierStepCmd(e, "submit", "Submit a complete draft for validation"),
		newDossierStepCmd(e, "validate", "Validate a submitted dossier (another officer than the one who entered it)"),
		newDossierRejectCmd(e), newDossierIssueCmd(e), newDossierDeliverCmd(e))
	cmd.PersistentFlags().BoolVar(&e.jsonOut, "json", false, "print JSON")
	return cmd
}

func dossierID(s string) (int64, error) {
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id < 1 {
		return 0, sceau.Errorf(sceau.Invalid, "dossier", "%q is not a dossier number", s)
	}
	return id, nil
}

func printDossier(e *env, d *registration.Dossier) error {
	if e.jsonOut {
		return printJSON(e.stdout, d)
	}
	fmt.Fprintf(e.stdout, "Dossier %d: %s, %s/%s, %s\n", d.ID, d.Kind, d.CA, d.Profile, d.State)
	fmt.Fprintf(e.stdout, "  subject:  %s\n", d.Subject.Name())
	fmt.Fprintf(e.stdout, "  contact:  %s <%s> %s\n", d.Contact.Name, d.Contact.Email, d.Contact.Phone)
	fmt.Fprintf(e.stdout, "  entered:  %s by %s\n", d.CreatedAt.Format(time.RFC3339), d.CreatedBy)
	if d.DecidedAt != nil {
		fmt.Fprintf(e.stdout, "  decided:  %s by %s %s\n", d.DecidedAt.Format(time.RFC3339), d.DecidedBy, d.Reason)
	}
	for _, ev := range d.Evidence {
		fmt.Fprintf(e.stdout, "  evidence: %s %s (%s), expires %s, %s, scan archived as item %d\n", ev.DocType, ev.Number, ev.IssuingCountry,
			ev.Expires, ev.Method, ev.ScanLeaf)
	}
	if d.CGU != nil {
		fmt.Fprintf(e.stdout, "  CGU:      %s (%s) accepted %s, %s, proof archived as item %d\n", d.CGU.Document, d.CGU.SHA256[:12],
			d.CGU.AcceptedAt.Format(time.RFC3339), d.CGU.How, d.CGU.ProofLeaf)
	}
	if d.Serial != "" {
		fmt.Fprintf(e.stdout, "  serial:   %s (%s)\n", d.Serial, d.Delivery)
	}
	return nil
}

func newDossierCreateCmd(e *env) *cobra.Command {
	return &cobra.Command{Use: "create FILE.json", Short: "Open a draft dossier from a JSON file (kind, ca, profile, subject, contact, mandate)",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			b, err := os.ReadFile(args[0])
			if err != nil {
				return sceau.E(sceau.Invalid, "dossier create", "cannot read "+args[0], err)
			}
			var nd registration.NewDossier
			dec := json.NewDecoder(strings.NewReader(string(b)))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&nd); err != nil {
				return sceau.E(sceau.Invalid, "dossier create", args[0]+" is not a dossier: "+err.Error(), nil)
			}
			d, err := apiCall(cmd.Context(), e, func(c *adminapi.Client, ctx context.Context) (*registration.Dossier, error) {
				return c.CreateDossier(ctx, nd)
			})
			if err != nil {
				return err
			}
			return printDossier(e, d)
		}}
}

func newDossierShowCmd(e *env) *cobra.Command {
	return &cobra.Command{Use: "show ID", Short: "Show a dossier with its evidence and CGU acceptance", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := dossierID(args[0])
			if err != nil {
				return err
			}
			d, err := apiCall(cmd.Context(), e, func(c *adminapi.Client, ctx context.Context) (*registration.Dossier, error) {
				return c.Dossier(ctx, id)
			})
			if err != nil {
				return err
			}
			return printDossier(e, d)
		}}
}

func newDossierListCmd(e *env) *cobra.Command {
	var (
		state string
		after int64
		limit int
	)
	cmd := &cobra.Command{Use: "list", Short: "List dossiers (e.g. --state submitted: those waiting for validation)", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			list, err := apiCall(cmd.Context(), e, func(c *adminapi.Client, ctx context.Context) ([]registration.Dossier, error) {
				return c.Dossiers(ctx, state, after, limit)
			})
			if err != nil {
				return err
			}
			if e.jsonOut {
				return printJSON(e.stdout, list)
			}
			tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tSTATE\tKIND\tPROFILE\tSUBJECT\tENTERED BY\tUPDATED")
			for _, d := range list {
				fmt.Fprintf(tw, "%d\t%s\t%s\t%s/%s\t%s\t%s\t%s\n", d.ID, d.State, d.Kind, d.CA, d.Profile, d.Subject.CommonName, d.CreatedBy,
					d.UpdatedAt.Format(time.RFC3339))
			}
			return tw.Flush()
		}}
	cmd.Flags().StringVar(&state, "state", "", "draft, submitted, validated, rejected, issued or delivered")
	cmd.Flags().Int64Var(&after, "after", 0, "list the dossiers after this number")
	cmd.Flags().IntVar(&limit, "limit", 100, "at most this many")
	return cmd
}

func newDossierRequirementsCmd(e *env) *cobra.Command {
	var caID, profile, kind string
	cmd := &cobra.Command{Use: "requirements", Short: "What a profile asks of a dossier: fields, evidence, verification methods", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := apiCall(cmd.Context(), e, func(c *adminapi.Client, ctx context.Context) (*registration.Requirements, error) {
				return c.Requirements(ctx, caID, profile, kind)
			})
			if err != nil {
				return err
			}
			if e.jsonOut {
				return printJSON(e.stdout, r)
			}
			fmt.Fprintf(e.stdout, "Profile %s (dossiers: %v)\n  fields:   %s\n", r.Profile, r.Kinds, strings.Join(r.Fields, ", "))
			for _, need := range r.Evidence {
				fmt.Fprintf(e.stdout, "  evidence: %s\n", strings.Join(need, " or "))
			}
			fmt.Fprintf(e.stdout, "  verified: %v\n  mandate:  %v\n", r.Methods, r.Mandate)
			return nil
		}}
	cmd.Flags().StringVar(&caID, "ca", "", "the CA")
	cmd.Flags().StringVar(&profile, "profile", "", "the certificate profile")
	cmd.Flags().StringVar(&kind, "kind", "natural", "natural, legal, natural_of_legal or device")
	return cmd
}

// mediaTypeOf names a scan's type from its extension; the server checks
// it against the content.
func mediaTypeOf(path string) string {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".pdf":
		return "application/pdf"
	case ".jpg", ".jpeg":
		return "image/jpeg"
	case ".png":
		return "image/png"
	case ".json":
		return "application/json"
	case ".p7s":
		return "application/pkcs7-signature"
	case ".txt":
		return "text/plain"
	}
	return "application/octet-stream"
}

func newDossierEvidenceCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{Use: "evidence", Short: "Identity evidence of a dossier"}
	var (
		ne   registration.NewEvidence
		scan string
	)
	add := &cobra.Command{Use: "add ID", Short: "Add identity evidence and its scan (sealed in the archive, ARC-3)", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := dossierID(args[0])
			if err != nil {
				return err
			}
			if ne.Scan, err = os.ReadFile(scan); err != nil {
				return sceau.E(sceau.Invalid, "dossier evidence add", "cannot read the scan "+scan, err)
			}
			ne.ScanType = mediaTypeOf(scan)
			ev, err := apiCall(cmd.Context(), e, func(c *adminapi.Client, ctx context.Context) (*registration.Evidence, error) {
				return c.AddEvidence(ctx, id, ne)
			})
			if err != nil {
				return err
			}
			if e.jsonOut {
				return printJSON(e.stdout, ev)
			}
			fmt.Fprintf(e.stdout, "Evidence %d added to dossier %d; the scan is archived as item %d (SHA-256 %s)\n", ev.ID, id, ev.ScanLeaf, ev.ScanSHA256)
			return nil
		}}
	f := add.Flags()
	f.StringVar(&ne.DocType, "type", "", "passport, id_card, residence_permit, registry_extract, mandate, domain_control")
	f.StringVar(&ne.Number, "number", "", "the document's number")
	f.StringVar(&ne.IssuingCountry, "country", "", "the issuing country (ISO 3166-1 alpha-2)")
	f.StringVar(&ne.Expires, "expires", "", "its expiry date, YYYY-MM-DD")
	f.StringVar((*string)(&ne.Method), "method", "", "face_to_face, remote_video, qualified_signature or existing_certificate")
	f.StringVar(&scan, "scan", "", "the scan: a PDF, JPEG or PNG file")
	cmd.AddCommand(add)
	return cmd
}

func newDossierCGUCmd(e *env) *cobra.Command {
	var (
		na    registration.NewAcceptance
		proof string
		when  string
	)
	cmd := &cobra.Command{Use: "accept-cgu ID", Short: "Record the applicant's acceptance of a CGU version, with its proof (ARC-1)", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := dossierID(args[0])
			if err != nil {
				return err
			}
			if na.Proof, err = os.ReadFile(proof); err != nil {
				return sceau.E(sceau.Invalid, "dossier accept-cgu", "cannot read the proof "+proof, err)
			}
			na.ProofType = mediaTypeOf(proof)
			if when != "" {
				if na.AcceptedAt, err = time.Parse(time.RFC3339, when); err != nil {
					return sceau.Errorf(sceau.Invalid, "dossier accept-cgu", "--accepted-at %q is not an RFC 3339 time", when)
				}
			}
			c, err := apiCall(cmd.Context(), e, func(c *adminapi.Client, ctx context.Context) (*registration.CGU, error) {
				return c.AcceptCGU(ctx, id, na)
			})
			if err != nil {
				return err
			}
			if e.jsonOut {
				return printJSON(e.stdout, c)
			}
			fmt.Fprintf(e.stdout, "Dossier %d: CGU %s accepted (%s); proof archived as item %d\n", id, c.Document, c.How, c.ProofLeaf)
			return nil
		}}
	f := cmd.Flags()
	f.StringVar(&na.Document, "document", "", "the published version, cgu/<ident>/<version>/<lang>")
	f.StringVar(&na.SHA256, "sha256", "", "the SHA-256 of the text the applicant accepted")
	f.StringVar(&na.How, "how", "", "signed, handwritten or click")
	f.StringVar(&proof, "proof", "", "the proof: signed file, scan of the signed page, or the click record")
	f.StringVar(&when, "accepted-at", "", "when the applicant accepted (RFC 3339; default now)")
	return cmd
}

func newDossierStepCmd(e *env, step, short string) *cobra.Command {
	cmd := &cobra.Command{Use: step + " ID", Short: short, Args: cobra.ExactArgs(1)}
	var yes *yesFlag
	if step == "validate" {
		yes = addYes(cmd, "validate the dossier")
	}
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		id, err := dossierID(args[0])
		if err != nil {
			return err
		}
		if yes != nil && yes.dryRun(e, "validate dossier %d: its certificate may then be issued from its fields", id) {
			return nil
		}
		d, err := apiCall(cmd.Context(), e, func(c *adminapi.Client, ctx context.Context) (*registration.Dossier, error) {
			return c.DossierStep(ctx, id, step, nil)
		})
		if err != nil {
			return err
		}
		return printDossier(e, d)
	}
	return cmd
}

func newDossierRejectCmd(e *env) *cobra.Command {
	var reason string
	cmd := &cobra.Command{Use: "reject ID", Short: "Reject a submitted dossier, with the reason", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := dossierID(args[0])
			if err != nil {
				return err
			}
			d, err := apiCall(cmd.Context(), e, func(c *adminapi.Client, ctx context.Context) (*registration.Dossier, error) {
				return c.RejectDossier(ctx, id, reason)
			})
			if err != nil {
				return err
			}
			return printDossier(e, d)
		}}
	cmd.Flags().StringVar(&reason, "reason", "", "why (required)")
	return cmd
}

func newDossierIssueCmd(e *env) *cobra.Command {
	var (
		req           server.DossierIssueRequest
		csr, out, p12 string
		secretOut     string
	)
	cmd := &cobra.Command{Use: "issue ID", Short: "Issue a validated dossier's certificate from its fields (CSR or PKCS#12)", Args: cobra.ExactArgs(1),
		Long: `issue asks for the certificate of a validated dossier. It takes no subject:
the certificate carries only what the validated dossier holds, under the
dossier's profile. With --csr the holder keeps the key (the CSR gives only the
key); with --key-type Sceau makes the key in a PKCS#12 written to --p12-out, or
with --link kept behind a one-time download link whose password goes to the
holder by another channel. The holder's revocation secret is printed once.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := dossierID(args[0])
			if err != nil {
				return err
			}
			if csr != "" {
				b, err := os.ReadFile(csr)
				if err != nil {
					return sceau.E(sceau.Invalid, "dossier issue", "cannot read "+csr, err)
				}
				req.CSR = string(b)
			}
			resp, err := apiCall(cmd.Context(), e, func(c *adminapi.Client, ctx context.Context) (*server.DossierIssueResponse, error) {
				return c.IssueDossier(ctx, id, req)
			})
			if err != nil {
				return err
			}
			if out != "" {
				if err := writeNewFile(out, []byte(resp.Certificate+resp.Chain), 0o644); err != nil {
					return err
				}
			}
			if p12 != "" && resp.PKCS12 != "" {
				pfx, err := base64.StdEncoding.DecodeString(resp.PKCS12)
				if err != nil {
					return sceau.E(sceau.Internal, "dossier issue", "the PKCS#12 is not base64", err)
				}
				if err := writeNewFile(p12, pfx, 0o600); err != nil {
					return err
				}
			}
			if secretOut != "" {
				if err := writeNewFile(secretOut, []byte(resp.RevocationSecret+"\n"), 0o600); err != nil {
					return err
				}
			}
			if e.jsonOut {
				return printJSON(e.stdout, resp)
			}
			fmt.Fprintf(e.stdout, "Dossier %d issued: serial %s\n", id, resp.Serial)
			if resp.DownloadURL != "" {
				fmt.Fprintf(e.stdout, "One-time download link (send by e-mail; the password by another channel): %s\n", resp.DownloadURL)
			} else if resp.Link != "" {
				fmt.Fprintf(e.stdout, "One-time download token (send by e-mail; no enrollment listener is configured to serve it): %s\n", resp.Link)
			}
			if resp.Password != "" {
				fmt.Fprintf(e.stdout, "PKCS#12 password (send by another channel, shown once): %s\n", resp.Password)
			}
			if secretOut == "" {
				fmt.Fprintf(e.stdout, "Revocation secret for the holder (shown once): %s\n", resp.RevocationSecret)
			}
			if out == "" && resp.PKCS12 == "" && resp.Link == "" {
				fmt.Fprint(e.stdout, resp.Certificate)
			}
			return nil
		}}
	f := cmd.Flags()
	f.StringVar(&req.Profile, "profile", "", "the profile (must be the dossier's)")
	f.StringVar(&csr, "csr", "", "the holder's PKCS#10 request (PEM)")
	f.StringVar(&req.KeyType, "key-type", "", "make the key in a PKCS#12: ecdsa-p256, rsa-3072, …")
	f.BoolVar(&req.Link, "link", false, "keep the PKCS#12 behind a one-time download link")
	f.StringVar(&req.Validity, "validity", "", "a lifetime up to the profile's maximum (e.g. 8760h)")
	f.StringVar(&out, "out", "", "write the certificate and its chain (PEM) to this new file")
	f.StringVar(&p12, "p12-out", "", "write the PKCS#12 to this new file")
	f.StringVar(&secretOut, "holder-secret-file", "", "write the holder's revocation secret to this new file instead of printing it")
	return cmd
}

func newDossierDeliverCmd(e *env) *cobra.Command {
	var how string
	cmd := &cobra.Command{Use: "deliver ID", Short: "Record that the certificate reached its holder", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := dossierID(args[0])
			if err != nil {
				return err
			}
			d, err := apiCall(cmd.Context(), e, func(c *adminapi.Client, ctx context.Context) (*registration.Dossier, error) {
				return c.DossierStep(ctx, id, "deliver", server.Delivery{How: how})
			})
			if err != nil {
				return err
			}
			return printDossier(e, d)
		}}
	cmd.Flags().StringVar(&how, "how", "", "how it was handed over")
	return cmd
}
