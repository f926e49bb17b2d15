package ceremony

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/sceau/sceau/internal/quorum"
	"github.com/sceau/sceau/internal/sceau"
)

// Declaration is what the configuration declares and what the installation
// holds, as far as a ceremony is concerned. cmd/sceau builds it from
// sceau.yaml and the database; Check compares a script with it.
type Declaration struct {
	// ConfigPath and Config are the configuration file and its bytes.
	ConfigPath string
	Config     []byte
	// Dir is the installation's directory (data_dir), and New tells that the
	// ceremony creates the installation (Script.NewInstallation).
	Dir string
	New bool
	// CAs are the declared CAs, in the configuration's order.
	CAs []DeclaredCA
	// Problems are what the caller found wrong with the installation (no
	// keystore secret, leftovers of an earlier attempt); Check reports them
	// with the script's.
	Problems []string
}

// DeclaredCA is one CA of the configuration.
type DeclaredCA struct {
	ID       string
	Parent   string // "" for a self-signed root
	Subject  string
	KeyType  string
	Validity string
	// KeyStore says where the key is generated: "software keystore
	// keys/ca-issuing", "PKCS#11 token issuing-token".
	KeyStore string
	// Activation is the CA key's m-of-n activation policy (KEY-2), nil if none.
	Activation *Activation
	// BackupMechanism is how the key's store wraps a backup of it (KEY-4):
	// CKM_AES_KEY_WRAP_PAD in a token, AES-256-GCM in a software keystore.
	BackupMechanism string
	// NoBackup says why the key's store cannot back the key up (a token
	// without keystore.pkcs11.allow_backup); "" when it can.
	NoBackup string
	// Exists tells whether the CA was created already.
	Exists bool
}

// Activation is an m-of-n activation policy (KEY-2).
type Activation struct {
	Threshold int
	Holders   []string
}

func (d *Declaration) ca(id string) (*DeclaredCA, bool) {
	for i := range d.CAs {
		if d.CAs[i].ID == id {
			return &d.CAs[i], true
		}
	}
	return nil, false
}

// Check compares the script with the configuration and the installation
// and reports every problem at once. Nothing is created before it passes.
func Check(s *Script, d *Declaration) error {
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }

	// The CAs to create: declared, missing, all the missing ones, in order.
	for _, id := range s.CAs {
		c, ok := d.ca(id)
		switch {
		case !ok:
			bad("cas: %q is not declared in %s", id, d.ConfigPath)
		case c.Exists:
			bad("cas: CA %q exists already; a ceremony creates only CAs that do not exist", id)
		}
	}
	var missing []string
	for _, c := range d.CAs {
		if !c.Exists {
			missing = append(missing, c.ID)
			if !slices.Contains(s.CAs, c.ID) {
				bad("cas: CA %q is declared and does not exist: it would be created too, so the script must list it", c.ID)
			}
		}
	}
	if len(problems) == 0 && !slices.Equal(missing, s.CAs) {
		bad("cas: list the CAs in the order of the configuration, parents first: %s", strings.Join(missing, ", "))
	}
	// KEY-2: an existing parent whose key is under m-of-n activation signs
	// only once m of its holders presented their shares at the ceremony.
	needed := map[string]bool{}
	for _, id := range s.CAs {
		c, ok := d.ca(id)
		if !ok || c.Parent == "" {
			continue
		}
		if p, ok := d.ca(c.Parent); ok && p.Exists && p.Activation != nil {
			needed[p.ID] = true
			if !slices.Contains(s.Activate, p.ID) {
				bad("activate: CA %q is signed by %q, whose key needs %d of its %d key share holders: list %q under activate, with its holders as participants",
					id, p.ID, p.Activation.Threshold, len(p.Activation.Holders), p.ID)
			}
		}
	}
	for _, id := range s.Activate {
		p, ok := d.ca(id)
		switch {
		case !ok:
			bad("activate: %q is not declared in %s", id, d.ConfigPath)
			continue
		case !p.Exists:
			bad("activate: CA %q does not exist yet", id)
		case p.Activation == nil:
			bad("activate: CA %q has no m-of-n activation policy: it signs without its holders", id)
		case !needed[id]:
			bad("activate: CA %q signs none of the CAs created", id)
		}
		if p.Activation == nil {
			continue
		}
		present := 0
		for _, h := range p.Activation.Holders {
			if pt, ok := s.participant(h); ok && pt.Role == KeyShareHolder {
				present++
			}
		}
		if present < p.Activation.Threshold {
			bad("participants: CA %q needs %d of its key share holders (%s) to present their shares; %d take part as key-share-holder",
				id, p.Activation.Threshold, strings.Join(p.Activation.Holders, ", "), present)
		}
	}

	// KEY-2: the shares are created at the ceremony, each handed to its
	// holder, who must be there: the holders of the CAs created are exactly
	// the participants with the role key-share-holder.
	holds := map[string][]string{} // holder -> CAs
	for _, id := range s.Activate {
		if c, ok := d.ca(id); ok && c.Activation != nil {
			for _, h := range c.Activation.Holders {
				holds[h] = append(holds[h], id)
			}
		}
	}
	for _, id := range s.CAs {
		if c, ok := d.ca(id); ok && c.Activation != nil {
			for _, h := range c.Activation.Holders {
				holds[h] = append(holds[h], id)
			}
		}
	}
	for _, b := range s.Backups {
		for _, h := range b.Holders {
			holds[h] = append(holds[h], "backup of "+b.CA)
		}
	}
	checkBackups(s, d, bad)
	for _, id := range s.CAs {
		c, ok := d.ca(id)
		if !ok || c.Activation == nil {
			continue
		}
		for _, h := range c.Activation.Holders {
			p, ok := s.participant(h)
			switch {
			case !ok:
				bad("participants: %s holds a share of CA %q in the configuration but is not a participant (KEY-2)", h, id)
			case p.Role != KeyShareHolder:
				bad("participants: %s holds a share of CA %q in the configuration but takes part as %s (KEY-2)", h, id, p.Role)
			}
		}
	}
	for _, p := range s.Participants {
		if p.Role == KeyShareHolder && len(holds[p.Name]) == 0 {
			bad("participants: %s takes part as key-share-holder but holds no share of the CAs created (configuration: %s)", p.Name, holderList(d, s.CAs))
		}
	}

	// KEY-2: a card receives its holder's shares; nobody else brings one.
	for _, p := range s.Participants {
		if c := p.Card; c != nil {
			switch {
			case p.Role != KeyShareHolder:
				bad("participants: %s (%s): only a key share holder brings a card", p.Name, p.Role)
			case (c.Token == "") == (c.Serial == ""):
				bad("participants: %s: card: name the card by its token label or its serial number", p.Name)
			}
		}
	}

	// Outputs are never overwritten.
	if err := emptyOrAbsent(s.Outputs); err != nil {
		bad("outputs: %v: a ceremony never overwrites its outputs", err)
	}
	if d.New {
		if err := emptyOrAbsent(s.NewInstallation); err != nil {
			bad("new_installation: %v", err)
		}
		if within(s.Outputs, s.NewInstallation) {
			bad("outputs: %s is inside the new installation %s, which must be empty when it is created", s.Outputs, s.NewInstallation)
		}
	}
	problems = append(problems, d.Problems...)
	if len(problems) > 0 {
		return sceau.Errorf(sceau.Invalid, "ceremony: check", "the script does not fit the configuration or the installation; nothing was created:\n  - %s",
			strings.Join(problems, "\n  - "))
	}
	return nil
}

// checkBackups checks the backups the script declares (KEY-4, ROLE-3).
func checkBackups(s *Script, d *Declaration, bad func(string, ...any)) {
	officer, _ := s.first(SecurityOfficer)
	seen := map[string]bool{}
	for i, b := range s.Backups {
		where := fmt.Sprintf("backups[%d] (%s)", i, b.CA)
		switch c, ok := d.ca(b.CA); {
		case !slices.Contains(s.CAs, b.CA):
			bad("%s: CA %q is not created by this ceremony: a ceremony backs up only the keys it creates", where, b.CA)
		case seen[b.CA]:
			bad("%s: CA %q has a backup already; declare one per CA", where, b.CA)
		case ok && c.NoBackup != "":
			bad("%s: %s (KEY-4)", where, c.NoBackup)
		}
		seen[b.CA] = true
		n := len(b.Holders)
		if b.Threshold < quorum.MinThreshold || n < b.Threshold || n > quorum.MaxShares {
			bad("%s: the wrapping key's split %d of %d is outside 2 <= threshold <= holders <= 16", where, b.Threshold, n)
		}
		held := map[string]bool{}
		for _, h := range b.Holders {
			p, ok := s.participant(h)
			switch {
			case held[h]:
				bad("%s: holder %s is listed twice", where, h)
			case !ok:
				bad("%s: holder %s is not a participant: each holder receives their share in the room (KEY-4)", where, h)
			case p.Role != KeyShareHolder:
				bad("%s: holder %s takes part as %s, not key-share-holder", where, h, p.Role)
			}
			held[h] = true
		}
		// ROLE-3: a backup needs two distinct people who approve it, and
		// the security officer who makes it is not one of them.
		approved, valid := map[string]bool{}, 0
		for _, a := range b.Approvers {
			_, ok := s.participant(a)
			switch {
			case approved[a]:
				bad("%s: approver %s is listed twice (ROLE-3: two distinct people)", where, a)
			case !ok:
				bad("%s: approver %s is not a participant: approvals are given in the room", where, a)
			case a == officer.Name:
				bad("%s: %s conducts the ceremony and makes the backup, so cannot approve it (ROLE-3)", where, a)
			default:
				valid++
			}
			approved[a] = true
		}
		if valid < 2 {
			bad("%s: a backup needs two distinct approvers, participants other than the security officer %s (ROLE-3); %d given", where, officer.Name, valid)
		}
	}
}

// holderList names the holders of each CA created, for messages.
func holderList(d *Declaration, cas []string) string {
	var parts []string
	for _, id := range cas {
		if c, ok := d.ca(id); ok && c.Activation != nil {
			parts = append(parts, fmt.Sprintf("%s: %s", id, strings.Join(c.Activation.Holders, ", ")))
		}
	}
	if len(parts) == 0 {
		return "no CA created has key share holders"
	}
	return strings.Join(parts, "; ")
}

// within reports whether path is dir or below it.
func within(path, dir string) bool {
	rel, err := filepath.Rel(dir, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

// emptyOrAbsent refuses a path that exists and is not an empty directory.
func emptyOrAbsent(dir string) error {
	fi, err := os.Stat(dir)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return fmt.Errorf("%s exists and is not a directory", dir)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	if len(entries) > 0 {
		return fmt.Errorf("%s exists and is not empty", dir)
	}
	return nil
}
