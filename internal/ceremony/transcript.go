package ceremony

import (
	"encoding/json"
	"fmt"
	"strings"
)

// TranscriptFormat names the version of the transcript's JSON form.
const TranscriptFormat = "sceau-ceremony-transcript-v1"

// Status of a ceremony.
const (
	StatusCompleted = "completed"
	StatusAborted   = "aborted"
)

// Results of a step.
const (
	ResultDone       = "done"
	ResultRefused    = "refused"
	ResultFailed     = "failed"
	ResultNotReached = "not reached"
)

// Transcript is the record of one ceremony (KEY-8): the script, the
// participants and their roles, the witness, every step with its time,
// participant and result, and the fingerprints of what was created. Its
// JSON form is what is signed; Text renders it for people. It holds no
// secret. Times are RFC 3339 in UTC.
type Transcript struct {
	Format  string `json:"format"`
	ID      string `json:"id"`
	Status  string `json:"status"`
	Name    string `json:"name"`
	Purpose string `json:"purpose"`
	// Location and Planned come from the script; StartedAt and EndedAt
	// are when the ceremony really ran.
	Location  string `json:"location"`
	Planned   string `json:"planned_date"`
	StartedAt string `json:"started_at"`
	EndedAt   string `json:"ended_at"`

	Script        Document     `json:"script"`
	Configuration Document     `json:"configuration"`
	Installation  Installed    `json:"installation"`
	Confirmations Confirmation `json:"confirmations"`
	// PINs says how the key share holders gave the PINs of their shares.
	PINs string `json:"pins"`

	Participants []Participant `json:"participants"`
	Steps        []StepRecord  `json:"steps"`
	CAs          []CARecord    `json:"cas"`
	CRLs         []CRLRecord   `json:"crls"`
	// Backups are the backup copies of new CA keys made at the ceremony
	// (KEY-4).
	Backups []BackupRecord `json:"backups,omitempty"`
	// Outputs are the exported files, relative to the outputs directory.
	Outputs []FileRecord `json:"outputs"`

	// Abort says where and why an aborted ceremony stopped, and what
	// remains of it.
	Abort *AbortRecord `json:"abort,omitempty"`
	// Signer is the transcript key that signs this transcript; nil when
	// the transcript cannot be signed, and Unsigned says why.
	Signer   *SignerRecord `json:"signer,omitempty"`
	Unsigned string        `json:"unsigned,omitempty"`
}

// Document is a file the ceremony applied, recorded whole.
type Document struct {
	Path   string `json:"path"`
	SHA256 string `json:"sha256"`
	Text   string `json:"text"`
}

// Installed says which installation the ceremony applied to.
type Installed struct {
	Dir string `json:"dir"`
	New bool   `json:"new"`
}

// Confirmation says how the participants confirmed the steps.
type Confirmation struct {
	Mode   string `json:"mode"` // ConfirmedAtTerminal or ConfirmedByFile
	File   string `json:"file,omitempty"`
	SHA256 string `json:"sha256,omitempty"`
}

// StepRecord is one step as it went.
type StepRecord struct {
	N           int      `json:"n"`
	Kind        StepKind `json:"kind"`
	Title       string   `json:"title"`
	Participant string   `json:"participant"`
	Role        Role     `json:"role"`
	// Details are what the participant was shown before confirming.
	Details []string `json:"details,omitempty"`
	// Answer is "yes" or "no", empty if the step was not reached or no
	// answer came; AnsweredAt is when; Note is the participant's reason.
	Answer     string `json:"answer,omitempty"`
	AnsweredAt string `json:"answered_at,omitempty"`
	Note       string `json:"note,omitempty"`
	// Result is done, refused, failed or not reached; Outcome says what
	// the step produced; Error why it failed.
	Result  string   `json:"result"`
	Outcome []string `json:"outcome,omitempty"`
	Error   string   `json:"error,omitempty"`
	DoneAt  string   `json:"done_at,omitempty"`
}

// CARecord is a CA created at the ceremony, by its fingerprints.
type CARecord struct {
	ID      string `json:"id"`
	Parent  string `json:"parent,omitempty"`
	Subject string `json:"subject"`
	Issuer  string `json:"issuer"`
	Serial  string `json:"serial"`
	KeyType string `json:"key_type"`
	// KeyStore says where the private key was generated and stays.
	KeyStore string `json:"key_store"`
	// KeySHA256 is the SHA-256 of the DER SubjectPublicKeyInfo.
	KeySHA256 string `json:"key_sha256"`
	// CertSHA256 and CertSHA1 are the certificate's fingerprints.
	CertSHA256 string `json:"certificate_sha256"`
	CertSHA1   string `json:"certificate_sha1"`
	NotBefore  string `json:"not_before"`
	NotAfter   string `json:"not_after"`
	// OCSPSHA256 is the fingerprint of the CA's delegated OCSP responder
	// certificate.
	OCSPSHA256 string       `json:"ocsp_responder_sha256"`
	Split      *SplitRecord `json:"split,omitempty"`
}

// SplitRecord is the m-of-n split of a CA key's activation secret (KEY-2).
type SplitRecord struct {
	Threshold int    `json:"threshold"`
	Total     int    `json:"total"`
	SetID     string `json:"set_id"`
	// Shares say which holder has which share file; never the share.
	Shares []ShareRecord `json:"shares"`
}

// ShareRecord is where one holder's share went: a share file sealed under
// the holder's PIN (File, SHA256), or the holder's smart card (Card), where
// the card's PIN protects it.
type ShareRecord struct {
	Holder string `json:"holder"`
	X      int    `json:"x"`
	File   string `json:"file,omitempty"`
	SHA256 string `json:"sha256,omitempty"`
	Card   string `json:"card,omitempty"`
}

// BackupRecord is a backup of a new CA key made at the ceremony (KEY-4):
// where it is, its SHA-256, the mechanism that wrapped it, who holds the
// shares of its wrapping key and who approved it (ROLE-3). Never a PIN, a
// share or key material.
type BackupRecord struct {
	ID        string   `json:"id"`
	CA        string   `json:"ca"`
	Mechanism string   `json:"mechanism"`
	File      string   `json:"file"`
	SHA256    string   `json:"sha256"`
	Threshold int      `json:"threshold"`
	Holders   []string `json:"holders"`
	// Approval is the backup's approval in the registry, "ceremony:<ID>/<CA>";
	// Approvers the participants who confirmed it.
	Approval  string   `json:"approval"`
	Approvers []string `json:"approvers"`
	// Shares say which holder has which share file of the wrapping key.
	Shares []ShareRecord `json:"shares"`
}

// CRLRecord is a first CRL of a CA created.
type CRLRecord struct {
	CA         string `json:"ca"`
	Shard      int    `json:"shard"` // 0: the full CRL
	Number     int64  `json:"number"`
	ThisUpdate string `json:"this_update"`
	NextUpdate string `json:"next_update"`
	SHA256     string `json:"sha256"`
}

// FileRecord is an exported file.
type FileRecord struct {
	File   string `json:"file"`
	SHA256 string `json:"sha256"`
}

// AbortRecord says why a ceremony stopped and what remains.
type AbortRecord struct {
	Step        int    `json:"step"`
	Participant string `json:"participant"`
	Reason      string `json:"reason"`
	// Remains lists, for the archive and the operators, what exists of
	// what the ceremony created, and what was removed.
	Remains []string `json:"remains"`
}

// SignerRecord names the transcript key.
type SignerRecord struct {
	Label       string `json:"label"`
	Algorithm   string `json:"algorithm"`
	Fingerprint string `json:"fingerprint"` // hex SHA-256 of the public key (SPKI)
}

// Marshal returns the JSON form that is signed and archived.
func (t *Transcript) Marshal() ([]byte, error) {
	b, err := json.MarshalIndent(t, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// ParseTranscript reads the JSON form.
func ParseTranscript(b []byte) (*Transcript, error) {
	var t Transcript
	if err := json.Unmarshal(b, &t); err != nil {
		return nil, err
	}
	if t.Format != TranscriptFormat {
		return nil, fmt.Errorf("format %q is not %s", t.Format, TranscriptFormat)
	}
	return &t, nil
}

// Text renders the transcript for people: the readable copy that is
// printed, initialled and archived beside the JSON. It is a function of
// the JSON alone, so verification checks that transcript.txt matches the
// signed transcript.json.
func (t *Transcript) Text() string {
	var b strings.Builder
	line := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	field := func(name, value string) { line("%-16s %s", name, value) }
	title := "KEY CEREMONY TRANSCRIPT"
	if t.Status == StatusAborted {
		title += " — ABORTED"
	}
	line("%s", title)
	line("%s", strings.Repeat("=", len([]rune(title))))
	line("")
	field("Ceremony", t.Name)
	field("Transcript ID", t.ID)
	field("Status", t.Status)
	field("Purpose", t.Purpose)
	field("Location", t.Location)
	field("Planned date", t.Planned)
	field("Started", t.StartedAt)
	field("Ended", t.EndedAt)
	field("Script", t.Script.Path)
	field("", "SHA-256 "+t.Script.SHA256)
	field("Configuration", t.Configuration.Path)
	field("", "SHA-256 "+t.Configuration.SHA256)
	inst := t.Installation.Dir
	if t.Installation.New {
		inst += " (created by this ceremony)"
	}
	field("Installation", inst)
	switch t.Confirmations.Mode {
	case ConfirmedByFile:
		field("Confirmations", "PRE-RECORDED in "+t.Confirmations.File+" (SHA-256 "+t.Confirmations.SHA256+"),")
		field("", "not typed by the participants during the ceremony")
	default:
		field("Confirmations", "typed at the terminal by each participant")
	}
	field("PINs", t.PINs)
	line("")

	line("PARTICIPANTS")
	for _, p := range t.Participants {
		who := p.FullName
		if p.Organization != "" {
			who += ", " + p.Organization
		}
		line("  %-16s %-17s %s", p.Name, p.Role, who)
	}
	line("")

	line("STEPS")
	for _, s := range t.Steps {
		line("  %2d. %s", s.N, s.Title)
		line("      by %s (%s)", s.Participant, s.Role)
		for _, d := range s.Details {
			line("      | %s", d)
		}
		if s.Answer != "" {
			ans := "answered " + s.Answer + " at " + s.AnsweredAt
			if s.Note != "" {
				ans += ": " + s.Note
			}
			line("      %s", ans)
		}
		res := "result: " + s.Result
		if s.DoneAt != "" {
			res += " at " + s.DoneAt
		}
		line("      %s", res)
		for _, o := range s.Outcome {
			line("      > %s", o)
		}
		if s.Error != "" {
			line("      error: %s", s.Error)
		}
	}
	line("")

	if len(t.CAs) > 0 {
		line("CERTIFICATION AUTHORITIES CREATED")
		for _, c := range t.CAs {
			line("  CA %s", c.ID)
			field("    Subject", c.Subject)
			field("    Issuer", c.Issuer)
			field("    Serial", c.Serial)
			field("    Validity", c.NotBefore+" to "+c.NotAfter)
			field("    Key", c.KeyType+", "+c.KeyStore)
			field("    Key SHA-256", Grouped(c.KeySHA256))
			field("    Cert SHA-256", Grouped(c.CertSHA256))
			field("    Cert SHA-1", Grouped(c.CertSHA1))
			field("    OCSP SHA-256", Grouped(c.OCSPSHA256))
			if sp := c.Split; sp != nil {
				field("    Activation", fmt.Sprintf("%d of %d key share holders, split %s", sp.Threshold, sp.Total, sp.SetID))
				for _, s := range sp.Shares {
					if s.Card != "" {
						line("      share %d  %-12s on %s", s.X, s.Holder, s.Card)
						continue
					}
					line("      share %d  %-12s %s", s.X, s.Holder, s.File)
					line("               SHA-256 %s", s.SHA256)
				}
			}
		}
		line("")
	}
	if len(t.Backups) > 0 {
		line("BACKUPS OF CA KEYS")
		for _, bk := range t.Backups {
			line("  Backup %s of CA %s", bk.ID, bk.CA)
			field("    Mechanism", bk.Mechanism)
			field("    File", bk.File)
			field("    SHA-256", Grouped(bk.SHA256))
			field("    Wrapping key", fmt.Sprintf("split %d of %d: %s", bk.Threshold, len(bk.Holders), strings.Join(bk.Holders, ", ")))
			field("    Approved by", strings.Join(bk.Approvers, ", ")+" ("+bk.Approval+")")
			for _, s := range bk.Shares {
				line("      share %d  %-12s %s", s.X, s.Holder, s.File)
				line("               SHA-256 %s", s.SHA256)
			}
		}
		line("")
	}
	if len(t.CRLs) > 0 {
		line("FIRST CRLS")
		for _, c := range t.CRLs {
			line("  %s shard %d number %d, %s to %s", c.CA, c.Shard, c.Number, c.ThisUpdate, c.NextUpdate)
			line("    SHA-256 %s", c.SHA256)
		}
		line("")
	}
	if len(t.Outputs) > 0 {
		line("EXPORTED FILES")
		for _, f := range t.Outputs {
			line("  %-28s SHA-256 %s", f.File, f.SHA256)
		}
		line("")
	}
	if a := t.Abort; a != nil {
		line("ABORTED at step %d (%s): %s", a.Step, a.Participant, a.Reason)
		line("What remains:")
		for _, r := range a.Remains {
			line("  - %s", r)
		}
		line("")
	}
	line("TRANSCRIPT SIGNATURE")
	if s := t.Signer; s != nil {
		field("  Key", s.Label+" ("+s.Algorithm+")")
		field("  Fingerprint", Grouped(s.Fingerprint))
		line("  transcript.sig signs the SHA-256 of transcript.json; check it with")
		line("  'sceau ceremony verify DIR --key-fingerprint <the fingerprint the witness wrote down>'.")
	} else {
		line("  NOT SIGNED: %s", t.Unsigned)
	}
	line("")
	line("Signatures of the participants:")
	line("")
	for _, p := range t.Participants {
		line("  %-16s %-17s ______________________________", p.Name, p.Role)
	}
	return b.String()
}

// Grouped writes a hex fingerprint in groups of four, upper case, for
// reading aloud and writing down; ParseFingerprint reads it back.
func Grouped(hexfp string) string {
	s := strings.ToUpper(hexfp)
	var parts []string
	for len(s) > 4 {
		parts = append(parts, s[:4])
		s = s[4:]
	}
	parts = append(parts, s)
	return strings.Join(parts, " ")
}
