package ceremony

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/sceau/sceau/internal/quorum"
	"github.com/sceau/sceau/internal/sceau"
)

// Role is what a participant does at a ceremony.
type Role string

// The roles of a ceremony. The security officer conducts it (policy
// §5.2.1), key share holders receive the shares of the CA keys' activation
// secrets (KEY-2, §6.1.2), a witness such as a bailiff (commissaire de
// justice) attests it (KEY-8, §6.3.1), an operator runs the machine.
const (
	SecurityOfficer Role = "security-officer"
	KeyShareHolder  Role = "key-share-holder"
	Witness         Role = "witness"
	Operator        Role = "operator"
)

var roles = []Role{SecurityOfficer, KeyShareHolder, Witness, Operator}

// Script is a ceremony file: what is created, by whom, where. It is
// reviewed before the ceremony and recorded whole in the transcript.
// Relative paths in it are relative to the script's directory.
type Script struct {
	// Name identifies the ceremony in the archive. Required.
	Name string `yaml:"name"`
	// Purpose says why the ceremony is held. Required.
	Purpose string `yaml:"purpose"`
	// Location is where it is held: site and room. Required.
	Location string `yaml:"location"`
	// Date is the planned date, YYYY-MM-DD. Required.
	Date string `yaml:"date"`
	// Configuration is the sceau.yaml the ceremony applies to. Default:
	// the --config of the command.
	Configuration string `yaml:"configuration,omitempty"`
	// NewInstallation, when set, is the directory of a new installation
	// that the ceremony creates from Configuration (as `sceau init --dir
	// DIR --from FILE` would); it must not exist or be empty. Default: none,
	// the installation of Configuration exists already.
	NewInstallation string `yaml:"new_installation,omitempty"`
	// Participants are everyone taking part, each with one role.
	Participants []Participant `yaml:"participants"`
	// CAs are the IDs of the CAs the ceremony creates, in the order of the
	// configuration: exactly the declared CAs that do not exist yet.
	CAs []string `yaml:"cas"`
	// Activate lists existing CAs whose keys are under m-of-n activation
	// and must sign at this ceremony: the parents of the CAs created. Their
	// key share holders take part and present their shares (KEY-2).
	// Optional.
	Activate []string `yaml:"activate,omitempty"`
	// Backups declare backup copies of new CA keys made at the ceremony
	// (KEY-4), at most one per CA created. Optional.
	Backups []Backup `yaml:"backups,omitempty"`
	// Outputs is the directory for the transcript and the exported CA
	// certificates and CRLs. It must not exist or be empty: a ceremony
	// never overwrites its outputs.
	Outputs string `yaml:"outputs"`
}

// Backup declares the backup of the key of a CA the ceremony creates
// (KEY-4): once the CA is created, its key is wrapped by its store under a
// random 256-bit wrapping key, which is split among Holders, Threshold of
// whom an import needs. Approvers approve it in the room (ROLE-3).
type Backup struct {
	// CA is the ID of a CA the ceremony creates.
	CA string `yaml:"ca"`
	// Holders receive the shares of the wrapping key: participants with
	// the role key-share-holder, distinct, 2 to 16.
	Holders []string `yaml:"holders"`
	// Threshold is how many holders an import needs: 2 <= m <= n.
	Threshold int `yaml:"threshold"`
	// Approvers are two or more distinct participants, other than the
	// security officer who conducts the ceremony and makes the backup.
	Approvers []string `yaml:"approvers"`
}

// Participant is one person taking part in a ceremony.
type Participant struct {
	// Name is the person's account name, [a-z0-9-]; a key share holder's
	// is the name listed in the CA's activation.holders.
	Name string `yaml:"name" json:"name"`
	// Role is one of security-officer, key-share-holder, witness, operator.
	Role Role `yaml:"role" json:"role"`
	// FullName is the name on the identity document the witness checks.
	FullName string `yaml:"full_name" json:"full_name"`
	// Organization the person acts for (a bailiff: the office). Optional.
	Organization string `yaml:"organization,omitempty" json:"organization,omitempty"`
	// Card, for a key share holder, is their smart card: their shares are
	// written to it as private objects that the card's own PIN protects,
	// instead of share files (KEY-2). Its module defaults to the
	// configuration's keystore.pkcs11.module. Optional.
	Card *quorum.Card `yaml:"card,omitempty" json:"card,omitempty"`
}

func (p Participant) String() string { return fmt.Sprintf("%s (%s)", p.Name, p.Role) }

var namePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,39}$`)

// LoadScript reads a ceremony file, decodes it strictly, validates it, and
// resolves its relative paths against its directory. It returns the script
// and the file's bytes, which the transcript records.
func LoadScript(path string) (*Script, []byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, sceau.E(sceau.Invalid, "ceremony: script", "cannot read "+path, err)
	}
	s, err := ParseScript(b)
	if err != nil {
		return nil, nil, sceau.E(sceau.Invalid, "ceremony: script "+path, "", err)
	}
	dir := filepath.Dir(path)
	for _, p := range []*string{&s.Configuration, &s.NewInstallation, &s.Outputs} {
		if *p == "" {
			continue
		}
		if !filepath.IsAbs(*p) {
			*p = filepath.Join(dir, *p)
		}
		if abs, err := filepath.Abs(*p); err == nil {
			*p = abs
		}
	}
	return s, b, nil
}

// ParseScript decodes a ceremony file strictly (an unknown key is an
// error) and validates it.
func ParseScript(b []byte) (*Script, error) {
	var s Script
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&s); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("the file is empty")
		}
		return nil, err
	}
	var extra any
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return nil, errors.New("the file holds more than one YAML document")
	}
	if err := s.Validate(); err != nil {
		return nil, err
	}
	return &s, nil
}

// Validate reports every problem of the script on its own; Check compares
// it with the configuration and the installation.
func (s *Script) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	for _, f := range [...]struct{ name, v string }{{"name", s.Name}, {"purpose", s.Purpose}, {"location", s.Location}} {
		if strings.TrimSpace(f.v) == "" {
			bad("%s: required", f.name)
		}
	}
	if len(s.Name) > 200 {
		bad("name: at most 200 characters")
	}
	if _, err := time.Parse(time.DateOnly, s.Date); err != nil {
		bad("date: %q is not a date YYYY-MM-DD", s.Date)
	}
	if strings.TrimSpace(s.Outputs) == "" {
		bad("outputs: required (a directory that does not exist or is empty)")
	}
	if len(s.Participants) == 0 {
		bad("participants: required")
	}
	seen := map[string]bool{}
	count := map[Role]int{}
	for i, p := range s.Participants {
		where := fmt.Sprintf("participants[%d] (%s)", i, p.Name)
		if !namePattern.MatchString(p.Name) {
			bad("%s: name must be 1-40 of [a-z0-9-] (the account name)", where)
		}
		// ROLE-2: one person, one role at a ceremony: a security officer
		// holds no other role, and a witness attests what others do.
		if seen[p.Name] {
			bad("%s: is listed twice; a participant has exactly one role (ROLE-2)", where)
		}
		seen[p.Name] = true
		known := false
		for _, r := range roles {
			known = known || p.Role == r
		}
		if !known {
			bad("%s: role %q is not one of security-officer, key-share-holder, witness, operator", where, p.Role)
		}
		count[p.Role]++
		if strings.TrimSpace(p.FullName) == "" {
			bad("%s: full_name is required (as on the identity document the witness checks)", where)
		}

	}
	if count[SecurityOfficer] == 0 {
		bad("participants: a security officer must conduct the ceremony (ROLE-1)")
	}
	// KEY-8: a ceremony is attested by a witness, such as a bailiff.
	if count[Witness] == 0 {
		bad("participants: a witness (such as a bailiff) is required (KEY-8)")
	}
	if len(s.CAs) == 0 {
		bad("cas: at least one CA to create is required")
	}
	for i, id := range s.Activate {
		if !namePattern.MatchString(id) {
			bad("activate[%d]: %q is not a CA ID", i, id)
		}
	}
	seenCA := map[string]bool{}
	for i, id := range s.CAs {
		if !namePattern.MatchString(id) {
			bad("cas[%d]: %q is not a CA ID", i, id)
		}
		if seenCA[id] {
			bad("cas[%d]: %q is listed twice", i, id)
		}
		seenCA[id] = true
	}
	return errors.Join(errs...)
}

// backup returns the backup the script declares for CA id, nil if none.
func (s *Script) backup(id string) *Backup {
	for i := range s.Backups {
		if s.Backups[i].CA == id {
			return &s.Backups[i]
		}
	}
	return nil
}

// participant returns the participant named name.
func (s *Script) participant(name string) (Participant, bool) {
	for _, p := range s.Participants {
		if p.Name == name {
			return p, true
		}
	}
	return Participant{}, false
}

// first returns the first participant with role r, and whether there is one.
func (s *Script) first(r Role) (Participant, bool) {
	for _, p := range s.Participants {
		if p.Role == r {
			return p, true
		}
	}
	return Participant{}, false
}
