package ceremony

import (
	"context"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/sceau/sceau/internal/safefile"
	"github.com/sceau/sceau/internal/sceau"
)

// Runner runs one ceremony.
type Runner struct {
	Script      *Script
	ScriptPath  string
	ScriptText  []byte
	Declaration *Declaration
	// Installation is acted upon; Confirmer asks each participant.
	Installation Installation
	Confirmer    Confirmer
	// Confirmations says how confirmations are given, for the transcript.
	Confirmations Confirmation
	// PINs gives the holders' PINs; PINMode says how, for the transcript.
	PINs    PINSource
	PINMode string
	// Present gives the PINs of the holders who present their shares of
	// the CAs to activate; nil: PINs.
	Present PresentSource
	// BackupPINs give the PINs holders choose for their shares of a
	// backup's wrapping key (KEY-4); nil: PINs.
	BackupPINs PINSource
	// Out shows the steps, details and fingerprints to the room.
	Out   io.Writer
	Clock sceau.Clock // nil: the real clock
	Rand  io.Reader   // nil: crypto/rand, for the transcript ID
}

// Outcome is what a ceremony left: its transcript, signed or not, and the
// files written to the outputs directory.
type Outcome struct {
	Transcript *Transcript
	JSON       []byte
	Signature  *Signature // nil when unsigned
	Files      []string   // in the outputs directory
}

// ErrAborted is wrapped by the error of a ceremony that stopped.
var ErrAborted = errors.New("ceremony: aborted")

// Run checks the script against the installation, then walks through the
// steps. It returns the outcome with a nil error when the ceremony
// completed; when a participant refused a step or a step failed, it
// returns the outcome of the aborted ceremony (its transcript written and,
// when possible, signed and archived) and an error wrapping ErrAborted.
// A script that does not pass Check returns before anything is created.
func (r *Runner) Run(ctx context.Context) (*Outcome, error) {
	if err := Check(r.Script, r.Declaration); err != nil {
		return nil, err
	}
	plan := Plan(r.Script, r.Declaration)
	if rec, ok := r.Confirmer.(*Recorded); ok {
		if err := rec.Check(plan); err != nil {
			return nil, err
		}
	}
	if err := os.MkdirAll(r.Script.Outputs, 0o750); err != nil {
		return nil, sceau.E(sceau.Unavailable, "ceremony: outputs", "cannot create "+r.Script.Outputs, err)
	}
	x := &execution{Runner: r, plan: plan, cas: map[string]int{}, clock: sceau.ClockOr(r.Clock), out: r.Out}
	if x.out == nil {
		x.out = io.Discard
	}
	t, err := x.newTranscript()
	if err != nil {
		return nil, err
	}
	x.t = t
	if v, err := r.Installation.Vault(ctx); err == nil {
		// AUD-7: a ceremony that cannot be journalled does not start.
		if err := v.Started(ctx, x.actor(), t); err != nil {
			return nil, err
		}
		x.started = true
	}
	fmt.Fprintf(x.out, "Key ceremony %q, transcript %s: %d steps.\n", t.Name, t.ID, len(plan))
	for i := range plan {
		if stop := x.step(ctx, i); stop != nil {
			return x.finish(ctx, stop)
		}
	}
	return x.finish(ctx, nil)
}

// execution is the state of one run.
type execution struct {
	*Runner
	plan    []Step
	clock   sceau.Clock
	out     io.Writer
	t       *Transcript
	cas     map[string]int // index in t.CAs
	key     *Key
	started bool
	tried   bool // generation was attempted
	pins    []string
}

// stop says why a ceremony ends early.
type stop struct {
	step   Step
	reason string
	err    error
}

func (x *execution) now() string { return x.clock.Now().UTC().Format(time.RFC3339) }

func (x *execution) actor() sceau.Actor {
	p, _ := x.Script.first(SecurityOfficer)
	return sceau.Actor{ID: p.Name, Role: string(SecurityOfficer)}
}

func (x *execution) newTranscript() (*Transcript, error) {
	rnd := x.Rand
	if rnd == nil {
		rnd = rand.Reader
	}
	id := make([]byte, 8)
	if _, err := io.ReadFull(rnd, id); err != nil {
		return nil, sceau.E(sceau.Internal, "ceremony: transcript ID", "", err)
	}
	started := x.clock.Now().UTC()
	d := x.Declaration
	t := &Transcript{Format: TranscriptFormat, ID: started.Format("20060102") + "-" + hex.EncodeToString(id), Status: StatusAborted,
		Name: x.Script.Name, Purpose: x.Script.Purpose, Location: x.Script.Location, Planned: x.Script.Date,
		StartedAt:     started.Format(time.RFC3339),
		Script:        Document{Path: x.ScriptPath, SHA256: sum(x.ScriptText), Text: string(x.ScriptText)},
		Configuration: Document{Path: d.ConfigPath, SHA256: sum(d.Config), Text: string(d.Config)},
		Installation:  Installed{Dir: d.Dir, New: d.New}, Confirmations: x.Confirmations, PINs: x.PINMode,
		Participants: x.Script.Participants, CAs: []CARecord{}, CRLs: []CRLRecord{}, Outputs: []FileRecord{}}
	for _, st := range x.plan {
		t.Steps = append(t.Steps, StepRecord{N: st.N, Kind: st.Kind, Title: st.Title, Participant: st.Participant.Name,
			Role: st.Participant.Role, Result: ResultNotReached})
	}
	return t, nil
}

// step shows step i, asks its participant, and runs it.
func (x *execution) step(ctx context.Context, i int) *stop {
	st, rec := x.plan[i], &x.t.Steps[i]
	details, err := x.prepare(ctx, st)
	rec.Details = details
	if err != nil {
		rec.Result, rec.Error = ResultFailed, err.Error()
		return &stop{step: st, reason: "step failed before confirmation: " + err.Error(), err: err}
	}
	fmt.Fprintf(x.out, "\n── Step %d of %d ── %s\n%s\n", st.N, len(x.plan), st.Participant, st.Title)
	for _, d := range details {
		fmt.Fprintf(x.out, "   | %s\n", d)
	}
	ans, err := x.Confirmer.Confirm(ctx, st)
	if err != nil {
		rec.Result, rec.Error = ResultFailed, err.Error()
		return &stop{step: st, reason: "no confirmation: " + err.Error(), err: err}
	}
	rec.AnsweredAt, rec.Note = x.now(), ans.Note
	if x.Confirmations.Mode == ConfirmedByFile {
		fmt.Fprintf(x.out, "%s%s (pre-recorded)\n", st.Prompt(), yesNo(ans.Yes))
	}
	if !ans.Yes {
		rec.Answer, rec.Result = "no", ResultRefused
		reason := fmt.Sprintf("%s refused step %d", st.Participant, st.N)
		if ans.Note != "" {
			reason += ": " + ans.Note
		}
		return &stop{step: st, reason: reason}
	}
	rec.Answer = "yes"
	outcome, err := x.execute(ctx, st)
	rec.Outcome = outcome
	if err != nil {
		rec.Result, rec.Error = ResultFailed, err.Error()
		return &stop{step: st, reason: "step failed: " + err.Error(), err: err}
	}
	rec.Result, rec.DoneAt = ResultDone, x.now()
	for _, o := range outcome {
		fmt.Fprintf(x.out, "   > %s\n", o)
	}
	return nil
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// prepare computes what the participant is shown before confirming.
func (x *execution) prepare(ctx context.Context, st Step) ([]string, error) {
	d := x.Declaration
	switch st.Kind {
	case StepCheck:
		out := []string{
			fmt.Sprintf("script %s, SHA-256 %s", x.t.Script.Path, x.t.Script.SHA256),
			fmt.Sprintf("configuration %s, SHA-256 %s", x.t.Configuration.Path, x.t.Configuration.SHA256),
		}
		if d.New {
			out = append(out, "installation "+d.Dir+": created by this ceremony")
		} else {
			out = append(out, "installation "+d.Dir+": exists")
		}
		for _, id := range x.Script.CAs {
			out = append(out, describeDeclared(d, id)...)
		}
		out = append(out, "outputs "+x.Script.Outputs+": absent or empty")
		if x.Confirmations.Mode == ConfirmedByFile {
			out = append(out, "confirmations: PRE-RECORDED in "+x.Confirmations.File+" (recorded as such)")
		}
		out = append(out, "PINs: "+x.PINMode)
		return out, nil
	case StepIdentify:
		var out []string
		for _, p := range x.Script.Participants {
			who := p.FullName
			if p.Organization != "" {
				who += ", " + p.Organization
			}
			out = append(out, fmt.Sprintf("%-16s %-17s %s", p.Name, p.Role, who))
		}
		return out, nil
	case StepApproveCA:
		return describeDeclared(d, st.CA), nil
	case StepActivate:
		c, _ := d.ca(st.CA)
		var here []string
		for _, h := range c.Activation.Holders {
			if p, ok := x.Script.participant(h); ok && p.Role == KeyShareHolder {
				here = append(here, h)
			}
		}
		return []string{
			fmt.Sprintf("CA %s exists; its key signs only once %d of its %d key share holders presented their shares (KEY-2)", st.CA, c.Activation.Threshold, len(c.Activation.Holders)),
			"holders present, in this order, until enough shares are in: " + strings.Join(here, ", "),
			"each types the PIN of their share (or of their card) alone during generation; wrong PINs are refused and journalled",
			"the key is deactivated again when the ceremony ends (KEY-5)",
		}, nil
	case StepTakeShare:
		c, _ := d.ca(st.CA)
		return []string{
			fmt.Sprintf("any %d of the %d shares activate the key of CA %s; fewer reveal nothing", c.Activation.Threshold, len(c.Activation.Holders), st.CA),
			x.pinLine(st.Holder),
		}, nil
	case StepApproveBackup:
		return x.describeBackup(st.CA), nil
	case StepTakeBackup:
		b := x.Script.backup(st.CA)
		return []string{
			fmt.Sprintf("any %d of the %d shares of the wrapping key, with an import approved by two people, restore the key of CA %s; fewer reveal nothing",
				b.Threshold, len(b.Holders), st.CA),
			fmt.Sprintf("%s chooses a PIN for the share and types it alone, twice; nobody else sees it; the share goes to a share file", st.Holder),
		}, nil
	case StepGenerate:
		out := []string{"CAs, in order: " + strings.Join(x.Script.CAs, ", "), "PINs: " + x.PINMode}
		for _, b := range x.Script.Backups {
			out = append(out, fmt.Sprintf("then the key of CA %s is backed up, approved by %s", b.CA, strings.Join(x.approvers(b.CA), ", ")))
		}
		return out, nil
	case StepFingerprints:
		c := x.ca(st.CA)
		if c == nil {
			return nil, fmt.Errorf("CA %s was not created", st.CA)
		}
		return []string{
			"subject              " + c.Subject,
			"issuer               " + c.Issuer,
			"serial               " + c.Serial,
			"valid                " + c.NotBefore + " to " + c.NotAfter,
			"key                  " + c.KeyType + ", " + c.KeyStore,
			"key SHA-256 (SPKI)   " + Grouped(c.KeySHA256),
			"certificate SHA-256  " + Grouped(c.CertSHA256),
			"certificate SHA-1    " + Grouped(c.CertSHA1),
		}, nil
	case StepCRL:
		return []string{"CAs: " + strings.Join(x.Script.CAs, ", ")}, nil
	case StepExport:
		return []string{"directory " + x.Script.Outputs, "files: <ca>.pem (certificate), <ca>.crl (full CRL, DER)"}, nil
	case StepHandOver:
		c := x.ca(st.CA)
		if c == nil || c.Split == nil {
			return nil, fmt.Errorf("CA %s has no registered split", st.CA)
		}
		for _, s := range c.Split.Shares {
			if s.Holder == st.Holder && s.Card != "" {
				return []string{
					fmt.Sprintf("share %d of %d, written to %s as a private object that only the card's PIN opens", s.X, c.Split.Total, s.Card),
					"take the card back; the card counts wrong PINs and locks itself",
				}, nil
			}
			if s.Holder == st.Holder {
				return []string{
					fmt.Sprintf("share %d of %d, sealed under %s's PIN", s.X, c.Split.Total, s.Holder),
					"file     " + s.File,
					"SHA-256  " + Grouped(s.SHA256),
					"copy it to the holder's own medium, then remove it from this machine",
				}, nil
			}
		}
		return nil, fmt.Errorf("no share of CA %s was made for %s", st.CA, st.Holder)
	case StepBackupHandOver:
		b := x.backupRecord(st.CA)
		if b == nil {
			return nil, fmt.Errorf("no backup of CA %s was made", st.CA)
		}
		for _, s := range b.Shares {
			if s.Holder == st.Holder {
				return []string{
					fmt.Sprintf("share %d of %d of the wrapping key of backup %s, sealed under %s's PIN", s.X, len(b.Holders), b.ID, s.Holder),
					"file     " + s.File,
					"SHA-256  " + Grouped(s.SHA256),
					"copy it to the holder's own medium, then remove it from this machine",
				}, nil
			}
		}
		return nil, fmt.Errorf("no share of backup %s was made for %s", b.ID, st.Holder)
	case StepTranscriptKey:
		if err := x.transcriptKey(ctx); err != nil {
			return nil, err
		}
		state := "existing key, recorded in the installation's database"
		if x.key.Created {
			state = "created now in the service keystore and recorded in the database"
		}
		return []string{
			"key          " + x.key.Label + " (" + x.key.Algorithm + "), " + state,
			"fingerprint  " + Grouped(x.key.Fingerprint),
			"the witness writes the fingerprint down; transcripts are verified against it",
		}, nil
	case StepClose:
		if x.key == nil {
			return nil, errors.New("the transcript key is not ready")
		}
		return []string{
			"the transcript is signed with key " + Grouped(x.key.Fingerprint),
			"and archived in the installation's database (ceremony_transcripts, with its audit event)",
			"files: transcript.json, transcript.txt, transcript.sig in " + x.Script.Outputs,
		}, nil
	}
	return nil, nil
}

// pinLine says how holder protects their share.
func (x *execution) pinLine(holder string) string {
	if p, _ := x.Script.participant(holder); p.Card != nil {
		return fmt.Sprintf("the share goes to %s's %s; %s types the card's PIN alone; nobody else sees it", holder, *p.Card, holder)
	}
	return fmt.Sprintf("%s chooses a PIN for the share and types it alone, twice; nobody else sees it", holder)
}

func describeDeclared(d *Declaration, id string) []string {
	c, _ := d.ca(id)
	signed := "self-signed root"
	if c.Parent != "" {
		signed = "signed by CA " + c.Parent
	}
	out := []string{fmt.Sprintf("CA %s: %s, %s, %s, valid %s, key in %s", id, c.Subject, signed, c.KeyType, c.Validity, c.KeyStore)}
	if a := c.Activation; a != nil {
		out = append(out, fmt.Sprintf("CA %s: activation by %d of %d key share holders: %s", id, a.Threshold, len(a.Holders), strings.Join(a.Holders, ", ")))
	} else {
		out = append(out, fmt.Sprintf("CA %s: no m-of-n activation: the key is activated with the service keystore", id))
	}
	return out
}

// execute runs a confirmed step.
func (x *execution) execute(ctx context.Context, st Step) ([]string, error) {
	switch st.Kind {
	case StepGenerate:
		return x.generate(ctx)
	case StepCRL:
		var out []string
		for _, id := range x.Script.CAs {
			crls, err := x.Installation.FirstCRLs(ctx, id)
			if err != nil {
				return out, err
			}
			for _, c := range crls {
				r := CRLRecord{CA: id, Shard: c.Shard, Number: c.Number, ThisUpdate: c.ThisUpdate.UTC().Format(time.RFC3339),
					NextUpdate: c.NextUpdate.UTC().Format(time.RFC3339), SHA256: sum(c.DER)}
				x.t.CRLs = append(x.t.CRLs, r)
				out = append(out, fmt.Sprintf("CRL of %s shard %d number %d, next update %s, SHA-256 %s", id, c.Shard, c.Number, r.NextUpdate, r.SHA256))
			}
		}
		return out, nil
	case StepExport:
		return x.export(ctx)
	}
	return nil, nil
}

// generate creates the CAs and records their fingerprints.
func (x *execution) generate(ctx context.Context) ([]string, error) {
	planned := map[string]bool{}
	for _, id := range x.Script.CAs {
		if c, _ := x.Declaration.ca(id); c.Activation != nil {
			for _, h := range c.Activation.Holders {
				planned[id+"/"+h] = true
			}
		}
	}
	pins := func(caID, holder string) ([]byte, error) {
		if !planned[caID+"/"+holder] {
			return nil, sceau.Errorf(sceau.Internal, "ceremony: PIN", "unexpected request for the PIN of %s for CA %q", holder, caID)
		}
		if p, _ := x.Script.participant(holder); p.Card != nil {
			fmt.Fprintf(x.out, "\n%s: your share of CA %s goes to your %s. Type the card's PIN alone; everyone else looks away.\n", holder, caID, *p.Card)
		} else {
			fmt.Fprintf(x.out, "\n%s: your share of CA %s. Type your PIN alone; everyone else looks away.\n", holder, caID)
		}
		pin, err := x.PINs(caID, holder)
		if err == nil {
			if p, _ := x.Script.participant(holder); p.Card != nil {
				x.pins = append(x.pins, fmt.Sprintf("%s typed the PIN of their %s for their share of %s", holder, *p.Card, caID))
			} else {
				x.pins = append(x.pins, fmt.Sprintf("%s chose the PIN of their share of %s", holder, caID))
			}
		}
		return pin, err
	}
	activating := map[string]bool{}
	for _, id := range x.Script.Activate {
		if c, _ := x.Declaration.ca(id); c != nil && c.Activation != nil {
			for _, h := range c.Activation.Holders {
				activating[id+"/"+h] = true
			}
		}
	}
	source := x.Present
	if source == nil {
		source = PresentSource(x.PINs)
	}
	present := func(caID, holder string) ([]byte, error) {
		if !activating[caID+"/"+holder] || source == nil {
			return nil, sceau.Errorf(sceau.Internal, "ceremony: PIN", "unexpected request for %s to present a share of CA %q", holder, caID)
		}
		fmt.Fprintf(x.out, "\n%s: present your share of CA %s. Type its PIN alone; everyone else looks away.\n", holder, caID)
		return source(caID, holder)
	}
	orders, backupPINs := x.backupOrders()
	x.tried = true
	fmt.Fprintf(x.out, "   generating …\n")
	presented, err := x.Installation.Create(ctx, Generation{PINs: pins, Present: present, Backups: orders, BackupPINs: backupPINs})
	out := append(slices.Clone(presented), x.pins...)
	if err != nil {
		return out, err
	}
	for _, id := range x.Script.CAs {
		rec, err := x.record(ctx, id)
		if err != nil {
			return out, err
		}
		if rec == nil {
			return out, fmt.Errorf("CA %s was not created", id)
		}
		out = append(out, fmt.Sprintf("CA %s created: key SHA-256 %s, certificate SHA-256 %s", id, rec.KeySHA256, rec.CertSHA256))
		if rec.Split != nil {
			out = append(out, fmt.Sprintf("CA %s: activation secret split %d of %d (%s), %d share files written",
				id, rec.Split.Threshold, rec.Split.Total, rec.Split.SetID, len(rec.Split.Shares)))
		}
	}
	for _, o := range orders {
		b := x.backupRecord(o.CA)
		if b == nil {
			return out, fmt.Errorf("the key of CA %s was not backed up", o.CA)
		}
		out = append(out, fmt.Sprintf("CA %s: key backed up as %s with %s, file SHA-256 %s; wrapping key split %d of %d among %s; approved by %s",
			o.CA, b.ID, b.Mechanism, b.SHA256, b.Threshold, len(b.Holders), strings.Join(b.Holders, ", "), strings.Join(b.Approvers, ", ")))
	}
	return out, nil
}

// ca returns the transcript's record of a CA created, nil if none.
func (x *execution) ca(id string) *CARecord {
	if i, ok := x.cas[id]; ok {
		return &x.t.CAs[i]
	}
	return nil
}

// record describes a CA that exists into the transcript; nil if it does not.
func (x *execution) record(ctx context.Context, id string) (*CARecord, error) {
	if c := x.ca(id); c != nil {
		return c, nil
	}
	f, err := x.Installation.Describe(ctx, id)
	if err != nil || f == nil {
		return nil, err
	}
	spki := sha256.Sum256(f.Cert.RawSubjectPublicKeyInfo)
	s1 := sha1.Sum(f.Cert.Raw)
	rec := CARecord{ID: id, Parent: f.Parent, Subject: f.Cert.Subject.String(), Issuer: f.Cert.Issuer.String(),
		Serial: fmt.Sprintf("%x", f.Cert.SerialNumber), KeyType: f.KeyType, KeyStore: f.KeyStore,
		KeySHA256: hex.EncodeToString(spki[:]), CertSHA256: sum(f.Cert.Raw), CertSHA1: hex.EncodeToString(s1[:]),
		NotBefore: f.Cert.NotBefore.UTC().Format(time.RFC3339), NotAfter: f.Cert.NotAfter.UTC().Format(time.RFC3339)}
	if f.OCSPCert != nil {
		rec.OCSPSHA256 = sum(f.OCSPCert.Raw)
	}
	if sp := f.Split; sp != nil {
		rec.Split = &SplitRecord{Threshold: sp.Threshold, Total: sp.Total, SetID: hex.EncodeToString(sp.SetID)}
		for _, s := range sp.Shares {
			if s.Card != "" {
				rec.Split.Shares = append(rec.Split.Shares, ShareRecord{Holder: s.Holder, X: s.X, Card: s.Card})
				continue
			}
			b, err := os.ReadFile(s.File)
			if err != nil {
				return nil, fmt.Errorf("the share file of %s: %w", s.Holder, err)
			}
			rec.Split.Shares = append(rec.Split.Shares, ShareRecord{Holder: s.Holder, X: s.X, File: s.File, SHA256: sum(b)})
		}
	}
	if f.Backup != nil {
		if err := x.recordBackup(id, f.Backup); err != nil {
			return nil, err
		}
	}
	x.cas[id] = len(x.t.CAs)
	x.t.CAs = append(x.t.CAs, rec)
	return x.ca(id), nil
}

// export writes the CA certificates and CRLs to the outputs directory.
func (x *execution) export(ctx context.Context) ([]string, error) {
	var out []string
	write := func(name string, b []byte) error {
		if err := safefile.WriteNew(filepath.Join(x.Script.Outputs, name), b, 0o644); err != nil {
			return err
		}
		x.t.Outputs = append(x.t.Outputs, FileRecord{File: name, SHA256: sum(b)})
		out = append(out, fmt.Sprintf("%s  SHA-256 %s", name, sum(b)))
		return nil
	}
	for _, id := range x.Script.CAs {
		f, err := x.Installation.Describe(ctx, id)
		if err != nil {
			return out, err
		}
		if f == nil {
			return out, fmt.Errorf("CA %s was not created", id)
		}
		if err := write(id+".pem", pemCertificate(f.Cert.Raw)); err != nil {
			return out, err
		}
		crls, err := x.Installation.FirstCRLs(ctx, id)
		if err != nil {
			return out, err
		}
		for _, c := range crls {
			name := id + ".crl"
			if c.Shard != 0 {
				name = fmt.Sprintf("%s-shard-%d.crl", id, c.Shard)
			}
			if err := write(name, c.DER); err != nil {
				return out, err
			}
		}
	}
	return out, nil
}

// transcriptKey makes the transcript key ready.
func (x *execution) transcriptKey(ctx context.Context) error {
	if x.key != nil {
		return nil
	}
	v, err := x.Installation.Vault(ctx)
	if err != nil {
		return err
	}
	if !x.started {
		if err := v.Started(ctx, x.actor(), x.t); err != nil {
			return err
		}
		x.started = true
	}
	k, err := v.Key(ctx, x.actor())
	if err != nil {
		return err
	}
	x.key = k
	x.t.Signer = &k.SignerRecord
	return nil
}

// finish ends the ceremony: it records how it ended and what remains,
// then writes, signs and archives the transcript.
func (x *execution) finish(ctx context.Context, s *stop) (*Outcome, error) {
	// An interrupted ceremony is recorded all the same.
	ctx = context.WithoutCancel(ctx)
	t := x.t
	var result error
	if s == nil {
		t.Status = StatusCompleted
	} else {
		t.Status = StatusAborted
		result = fmt.Errorf("%w at step %d (%s): %s", ErrAborted, s.step.N, s.step.Title, s.reason)
		if s.err != nil {
			result = fmt.Errorf("%w: %w", result, s.err)
		}
		fmt.Fprintf(x.out, "\nThe ceremony is ABORTED at step %d: %s\n", s.step.N, s.reason)
		a := &AbortRecord{Step: s.step.N, Participant: s.step.Participant.Name, Reason: s.reason}
		if x.tried {
			// What exists of the CAs, by their fingerprints.
			for _, id := range x.Script.CAs {
				if _, err := x.record(ctx, id); err != nil {
					a.Remains = append(a.Remains, fmt.Sprintf("CA %s cannot be described: %v", id, err))
				}
			}
		}
		remains, err := x.Installation.Settle(ctx, x.Script.CAs)
		a.Remains = append(a.Remains, remains...)
		if err != nil {
			a.Remains = append(a.Remains, "what remains could not be fully determined: "+err.Error())
		}
		for _, f := range t.Outputs {
			a.Remains = append(a.Remains, "exported to the outputs directory: "+f.File)
		}
		t.Abort = a
		for _, r := range a.Remains {
			fmt.Fprintf(x.out, "   remains: %s\n", r)
		}
	}
	t.EndedAt = x.now()
	if x.key == nil {
		if err := x.transcriptKey(ctx); err != nil {
			t.Unsigned = "no transcript key: " + err.Error()
		}
	}
	out := &Outcome{Transcript: t}
	b, err := t.Marshal()
	if err != nil {
		return nil, sceau.E(sceau.Internal, "ceremony: transcript", "", err)
	}
	out.JSON = b
	files := []struct {
		name string
		data []byte
	}{{"transcript.json", b}, {"transcript.txt", []byte(t.Text())}}
	if x.key != nil {
		sig, err := Sign(b, t.ID, x.key.Signer)
		if err != nil {
			result = errors.Join(result, err)
		} else {
			out.Signature = sig
			sb, _ := sig.Marshal()
			files = append(files, struct {
				name string
				data []byte
			}{"transcript.sig", sb})
		}
	}
	for _, f := range files {
		if err := safefile.WriteNew(filepath.Join(x.Script.Outputs, f.name), f.data, 0o644); err != nil {
			return out, errors.Join(result, sceau.E(sceau.Unavailable, "ceremony: outputs", "cannot write "+f.name, err))
		}
		out.Files = append(out.Files, f.name)
	}
	for _, f := range t.Outputs {
		out.Files = append(out.Files, f.File)
	}
	if out.Signature != nil {
		v, err := x.Installation.Vault(ctx)
		if err == nil {
			err = v.Archive(ctx, x.actor(), t, b, out.Signature, x.key.SPKI)
		}
		if err != nil {
			return out, errors.Join(result, sceau.E(sceau.Unavailable, "ceremony: archive",
				"the transcript is written to "+x.Script.Outputs+" and signed, but not archived in the database", err))
		}
	}
	fmt.Fprintf(x.out, "\nTranscript %s (%s) written to %s: %s\n", t.ID, t.Status, x.Script.Outputs, strings.Join(out.Files, ", "))
	if out.Signature != nil {
		fmt.Fprintf(x.out, "Signed by the transcript key %s\nand archived in the database.\n", Grouped(out.Signature.KeyFingerprint))
	} else {
		fmt.Fprintf(x.out, "NOT SIGNED: %s\n", t.Unsigned)
	}
	return out, result
}

func pemCertificate(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

func sum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}
