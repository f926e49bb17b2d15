package ceremony

import (
	"fmt"
	"strings"
)

// StepKind names what a step does.
type StepKind string

// The steps of a ceremony, in the order they come.
const (
	StepCheck          StepKind = "check"            // the security officer checks script and configuration
	StepIdentify       StepKind = "identify"         // the witness checks every participant's identity
	StepApproveCA      StepKind = "approve-ca"       // the security officer approves the creation of one CA
	StepActivate       StepKind = "activate"         // m holders of an existing parent CA will present their shares
	StepTakeShare      StepKind = "take-share"       // a holder accepts a share and will choose its PIN
	StepApproveBackup  StepKind = "approve-backup"   // an approver approves the backup of a new CA key (KEY-4, ROLE-3)
	StepTakeBackup     StepKind = "take-backup"      // a holder accepts a share of a backup's wrapping key
	StepGenerate       StepKind = "generate"         // keys, splits, certificates
	StepFingerprints   StepKind = "fingerprints"     // the witness writes down one CA's fingerprints
	StepCRL            StepKind = "crl"              // the first CRLs
	StepExport         StepKind = "export"           // CA certificates and CRLs to the outputs
	StepHandOver       StepKind = "hand-over"        // a holder receives their share file
	StepBackupHandOver StepKind = "hand-over-backup" // a holder receives the share file of a backup's wrapping key
	StepTranscriptKey  StepKind = "transcript-key"   // the witness writes down the transcript key's fingerprint
	StepClose          StepKind = "close"            // the security officer closes; the transcript is signed
)

// Step is one step of the plan: what is done, and who confirms it.
type Step struct {
	N           int
	Kind        StepKind
	Title       string
	Participant Participant
	CA          string // the CA concerned, if one
	Holder      string // the key share holder concerned, if one
}

// Prompt is what a participant is asked to confirm.
func (st Step) Prompt() string {
	return fmt.Sprintf("%s (%s): confirm step %d '%s' [yes/no] ", st.Participant.Name, st.Participant.Role, st.N, st.Title)
}

// Plan lists the steps of the ceremony a checked script describes. The
// first security officer listed conducts; the first operator listed (or
// the security officer) runs the machine; the first witness attests.
func Plan(s *Script, d *Declaration) []Step {
	officer, _ := s.first(SecurityOfficer)
	witness, _ := s.first(Witness)
	operator, ok := s.first(Operator)
	if !ok {
		operator = officer
	}
	var steps []Step
	add := func(st Step) {
		st.N = len(steps) + 1
		steps = append(steps, st)
	}
	add(Step{Kind: StepCheck, Title: "check the script and the configuration", Participant: officer})
	add(Step{Kind: StepIdentify, Title: "check the identity and the role of every participant", Participant: witness})
	for _, id := range s.Activate {
		c, _ := d.ca(id)
		if c == nil || c.Activation == nil {
			continue
		}
		add(Step{Kind: StepActivate, CA: id, Participant: officer,
			Title: fmt.Sprintf("activate CA %s to sign: %d of its %d key share holders present their shares", id, c.Activation.Threshold, len(c.Activation.Holders))})
	}
	for _, id := range s.CAs {
		c, _ := d.ca(id)
		signed := "self-signed"
		if c.Parent != "" {
			signed = "signed by " + c.Parent
		}
		act := ""
		if c.Activation != nil {
			act = fmt.Sprintf(", activation %d of %d", c.Activation.Threshold, len(c.Activation.Holders))
		}
		add(Step{Kind: StepApproveCA, CA: id, Participant: officer,
			Title: fmt.Sprintf("create CA %s (%s, %s, valid %s%s)", id, c.KeyType, signed, c.Validity, act)})
		if c.Activation != nil {
			for i, h := range c.Activation.Holders {
				p, _ := s.participant(h)
				how := "take share %d and choose its PIN"
				if p.Card != nil {
					how = "take share %d on your smart card"
				}
				add(Step{Kind: StepTakeShare, CA: id, Holder: h, Participant: p,
					Title: fmt.Sprintf("split the activation secret of %s %d of %d: "+how,
						id, c.Activation.Threshold, len(c.Activation.Holders), i+1)})
			}
		}
		// KEY-4, ROLE-3: each approver approves the backup in the room,
		// then each holder accepts a share of its wrapping key.
		if b := s.backup(id); b != nil {
			for _, a := range b.Approvers {
				p, _ := s.participant(a)
				add(Step{Kind: StepApproveBackup, CA: id, Participant: p,
					Title: fmt.Sprintf("approve the backup of the key of CA %s, its wrapping key split %d of %d among %s",
						id, b.Threshold, len(b.Holders), strings.Join(b.Holders, ", "))})
			}
			for i, h := range b.Holders {
				p, _ := s.participant(h)
				add(Step{Kind: StepTakeBackup, CA: id, Holder: h, Participant: p,
					Title: fmt.Sprintf("back up the key of CA %s %d of %d: take share %d of the wrapping key and choose its PIN",
						id, b.Threshold, len(b.Holders), i+1)})
			}
		}
	}
	add(Step{Kind: StepGenerate, Participant: operator,
		Title: fmt.Sprintf("%sgenerate the keys, split the activation secrets and sign the certificates of %s%s", activating(s), strings.Join(s.CAs, ", "), backingUp(s))})
	for _, id := range s.CAs {
		add(Step{Kind: StepFingerprints, CA: id, Participant: witness,
			Title: fmt.Sprintf("check and write down the fingerprints of CA %s", id)})
	}
	add(Step{Kind: StepCRL, Participant: operator, Title: "issue and record the first CRL of each CA created"})
	add(Step{Kind: StepExport, Participant: operator, Title: "export the CA certificates and CRLs to the outputs directory"})
	for _, id := range s.CAs {
		c, _ := d.ca(id)
		if c.Activation == nil {
			continue
		}
		for _, h := range c.Activation.Holders {
			p, _ := s.participant(h)
			title := fmt.Sprintf("receive the share file of %s and check its SHA-256", id)
			if p.Card != nil {
				title = fmt.Sprintf("take back the smart card holding the share of %s", id)
			}
			add(Step{Kind: StepHandOver, CA: id, Holder: h, Participant: p, Title: title})
		}
	}
	for _, b := range s.Backups {
		for _, h := range b.Holders {
			p, _ := s.participant(h)
			add(Step{Kind: StepBackupHandOver, CA: b.CA, Holder: h, Participant: p,
				Title: fmt.Sprintf("receive the share file of the backup of %s and check its SHA-256", b.CA)})
		}
	}
	add(Step{Kind: StepTranscriptKey, Participant: witness, Title: "write down the fingerprint of the transcript signing key"})
	add(Step{Kind: StepClose, Participant: officer, Title: "close the ceremony: sign and archive the transcript"})
	return steps
}

func activating(s *Script) string {
	if len(s.Activate) == 0 {
		return ""
	}
	return "activate " + strings.Join(s.Activate, ", ") + ", "
}

func backingUp(s *Script) string {
	if len(s.Backups) == 0 {
		return ""
	}
	var ids []string
	for _, b := range s.Backups {
		ids = append(ids, b.CA)
	}
	return ", then back up the keys of " + strings.Join(ids, ", ")
}

// ConfirmationTemplate is a confirmation file answering yes to every step
// of plan: a start for pre-recorded confirmations (tests, automation),
// to be edited and reviewed like the script.
func ConfirmationTemplate(plan []Step) string {
	var b strings.Builder
	b.WriteString("# Pre-recorded confirmations: STEP PARTICIPANT yes|no [note]\n")
	b.WriteString("# The transcript records that the confirmations came from this file,\n")
	b.WriteString("# not from the participants at the terminal.\n")
	for _, st := range plan {
		fmt.Fprintf(&b, "%d %s yes\t# %s\n", st.N, st.Participant.Name, st.Title)
	}
	return b.String()
}
