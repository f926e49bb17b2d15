package ceremony

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sceau/sceau/internal/audit"
	"github.com/sceau/sceau/internal/keys"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/sceautest"
	"github.com/sceau/sceau/internal/store"
)

// fakeInstallation creates throwaway CAs in memory and share files in a
// temporary directory; its vault is real (SQLite and a software keystore).
type fakeInstallation struct {
	decl      *Declaration
	shares    string
	vault     *Vault
	failAt    string // Create fails before creating this CA
	created   map[string]*CAFacts
	signers   map[string]crypto.Signer
	crls      map[string][]CRLFacts
	settled   bool
	pinsAsked []string
}

var _ Installation = (*fakeInstallation)(nil)

func (f *fakeInstallation) Create(ctx context.Context, g Generation) ([]string, error) {
	if err := f.create(ctx, g.PINs); err != nil {
		return nil, err
	}
	return nil, f.backup(g)
}

// backup writes a stand-in backup file and share files for each order.
func (f *fakeInstallation) backup(g Generation) error {
	for _, o := range g.Backups {
		c := f.created[o.CA]
		id := "backup-" + o.CA + "-1"
		dir := filepath.Join(f.shares, id)
		os.MkdirAll(dir, 0o700)
		file := filepath.Join(f.shares, id+".backup")
		content := []byte("the key of " + o.CA + " wrapped")
		os.WriteFile(file, content, 0o600)
		bf := &BackupFacts{ID: id, Mechanism: "AES-256-GCM", File: file, SHA256: sum(content), Threshold: o.Threshold,
			Approval: o.Approval, Approvers: o.Approvers}
		for i, h := range o.Holders {
			pin, err := g.BackupPINs(o.CA, h)
			if err != nil {
				return err
			}
			f.pinsAsked = append(f.pinsAsked, "backup-"+o.CA+"/"+h)
			share := filepath.Join(dir, h+".share")
			os.WriteFile(share, []byte(fmt.Sprintf("share %d sealed under a PIN of %d characters", i+1, len(pin))), 0o600)
			bf.Shares = append(bf.Shares, ShareFacts{Holder: h, X: i + 1, File: share})
		}
		c.Backup = bf
	}
	return nil
}

func (f *fakeInstallation) create(ctx context.Context, pins PINSource) error {
	for _, c := range f.decl.CAs {
		if c.Exists {
			continue
		}
		if c.ID == f.failAt {
			return errors.New("the device disappeared")
		}
		var split *SplitFacts
		if a := c.Activation; a != nil {
			split = &SplitFacts{Threshold: a.Threshold, Total: len(a.Holders), SetID: bytes.Repeat([]byte{7}, 16)}
			os.MkdirAll(filepath.Join(f.shares, c.ID), 0o700)
			for i, h := range a.Holders {
				pin, err := pins(c.ID, h)
				if err != nil {
					return err
				}
				f.pinsAsked = append(f.pinsAsked, c.ID+"/"+h)
				file := filepath.Join(f.shares, c.ID, h+".share")
				os.WriteFile(file, []byte(fmt.Sprintf("share %d sealed under a PIN of %d characters", i+1, len(pin))), 0o600)
				split.Shares = append(split.Shares, ShareFacts{Holder: h, X: i + 1, File: file})
			}
		}
		key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(int64(len(f.created) + 1)), Subject: pkix.Name{CommonName: c.ID + " CA"},
			NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
			KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}
		parent, signer := tmpl, crypto.Signer(key)
		if c.Parent != "" {
			parent, signer = f.created[c.Parent].Cert, f.signers[c.Parent]
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, key.Public(), signer)
		if err != nil {
			return err
		}
		cert, _ := x509.ParseCertificate(der)
		f.created[c.ID] = &CAFacts{ID: c.ID, Parent: c.Parent, KeyType: c.KeyType, KeyStore: c.KeyStore, Cert: cert, OCSPCert: cert, Split: split}
		f.signers[c.ID] = key
	}
	return nil
}

func (f *fakeInstallation) Describe(ctx context.Context, id string) (*CAFacts, error) {
	return f.created[id], nil
}

func (f *fakeInstallation) FirstCRLs(ctx context.Context, id string) ([]CRLFacts, error) {
	if c, ok := f.crls[id]; ok {
		return c, nil
	}
	ca := f.created[id]
	now := time.Now()
	der, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{Number: big.NewInt(1), ThisUpdate: now, NextUpdate: now.Add(time.Hour)},
		ca.Cert, f.signers[id])
	if err != nil {
		return nil, err
	}
	f.crls[id] = []CRLFacts{{Number: 1, ThisUpdate: now, NextUpdate: now.Add(time.Hour), DER: der}}
	return f.crls[id], nil
}

func (f *fakeInstallation) Settle(ctx context.Context, cas []string) ([]string, error) {
	f.settled = true
	var out []string
	for _, id := range cas {
		if c := f.created[id]; c != nil {
			out = append(out, "CA "+id+" EXISTS")
			if c.Backup != nil {
				os.Remove(c.Backup.File)
				out = append(out, "backup "+c.Backup.ID+" undone")
				c.Backup = nil
			}
		}
	}
	return append(out, "settled"), nil
}

func (f *fakeInstallation) Vault(ctx context.Context) (*Vault, error) {
	if f.vault == nil {
		return nil, errors.New("no installation exists yet")
	}
	return f.vault, nil
}

// testVault is a vault over a fresh SQLite database and software keystore.
func testVault(t *testing.T) (*Vault, *store.DB) {
	t.Helper()
	db := sceautest.OpenSQLite(t)
	ks := keys.OpenSoftStore(t.TempDir())
	if err := ks.Init([]byte("a test keystore secret")); err != nil {
		t.Fatal(err)
	}
	return NewVault(db, audit.NewJournal(nil), ks, nil), db
}

// newRun prepares a run of the example script on a fake installation;
// answers maps a step number to a refusal note.
func newRun(t *testing.T, v *Vault, refuse map[int]string) (*Runner, *fakeInstallation, *bytes.Buffer) {
	t.Helper()
	s, text := exampleScript(t), []byte("the script")
	d := exampleDeclaration(t)
	d.New = false
	s.NewInstallation, s.Outputs = "", filepath.Join(t.TempDir(), "out")
	plan := Plan(s, d)
	var conf strings.Builder
	for _, st := range plan {
		if note, ok := refuse[st.N]; ok {
			fmt.Fprintf(&conf, "%d %s no %s\n", st.N, st.Participant.Name, note)
		} else {
			fmt.Fprintf(&conf, "%d %s yes\n", st.N, st.Participant.Name)
		}
	}
	rec, err := ParseConfirmations([]byte(conf.String()))
	if err != nil {
		t.Fatal(err)
	}
	inst := &fakeInstallation{decl: d, shares: t.TempDir(), vault: v, created: map[string]*CAFacts{}, signers: map[string]crypto.Signer{},
		crls: map[string][]CRLFacts{}}
	var out bytes.Buffer
	return &Runner{Script: s, ScriptPath: "/srv/ceremony/root-and-issuing.yaml", ScriptText: text, Declaration: d, Installation: inst,
		Confirmer: rec, Confirmations: Confirmation{Mode: ConfirmedByFile, File: "confirmations.txt", SHA256: sum([]byte(conf.String()))},
		PINs: func(ca, h string) ([]byte, error) { return []byte("pin-secret-" + h), nil }, PINMode: "read from files (test)",
		Out: &out, Clock: sceautest.NewClock(time.Date(2026, 3, 14, 9, 0, 0, 0, time.UTC))}, inst, &out
}

func TestKEY8_RunnerCompletesAndArchives(t *testing.T) {
	v, db := testVault(t)
	r, inst, out := newRun(t, v, nil)
	o, err := r.Run(context.Background())
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	tr := o.Transcript
	if tr.Status != StatusCompleted || o.Signature == nil || inst.settled {
		t.Fatalf("status %s, signature %v, settled %v", tr.Status, o.Signature, inst.settled)
	}
	if got := strings.Join(inst.pinsAsked, " "); got != "issuing/alice issuing/bob issuing/carol issuing/dave issuing/erin backup-issuing/alice backup-issuing/bob backup-issuing/carol" {
		t.Errorf("PINs asked: %s", got)
	}
	for _, name := range []string{"transcript.json", "transcript.txt", "transcript.sig", "root.pem", "root.crl", "issuing.pem", "issuing.crl"} {
		if _, err := os.Stat(filepath.Join(r.Script.Outputs, name)); err != nil {
			t.Errorf("output %s: %v", name, err)
		}
	}
	if _, _, err := VerifyFiles(filepath.Join(r.Script.Outputs, "transcript.json"), filepath.Join(r.Script.Outputs, "transcript.sig"),
		[]string{tr.Signer.Fingerprint}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(o.JSON)+out.String(), "pin-secret") {
		t.Fatal("a PIN reached the transcript or the screen")
	}
	a, err := ArchivedTranscript(context.Background(), db, o.Signature.TranscriptSHA256)
	if err != nil || !bytes.Equal(a.Transcript, o.JSON) || a.Status != StatusCompleted {
		t.Fatalf("archived: %+v %v", a, err)
	}
	sig, _ := a.SignatureOf()
	if _, err := Verify(a.Transcript, sig, []string{tr.Signer.Fingerprint}); err != nil {
		t.Errorf("the archived copy does not verify: %v", err)
	}
	recs, _ := audit.Read(context.Background(), db, 0, 100)
	var actions []string
	for _, e := range recs {
		actions = append(actions, e.Action+"/"+e.Actor)
	}
	if got := strings.Join(actions, " "); got != "ceremony.started/sophie ceremony.key_registered/sophie ceremony.completed/sophie" {
		t.Errorf("journal: %s", got)
	}
}

// A refusal at any step stops the ceremony there: the step is recorded as
// refused with its reason, later steps as not reached; what was created
// before is described; the transcript is signed and archived as aborted.
func TestKEY8_RefusalAtAnyStepAbortsWithSignedTranscript(t *testing.T) {
	v, db := testVault(t)
	plan := Plan(exampleScript(t), exampleDeclaration(t))
	generate := 0
	for _, st := range plan {
		if st.Kind == StepGenerate {
			generate = st.N
		}
	}
	for _, st := range plan {
		t.Run(fmt.Sprintf("step %d %s", st.N, st.Kind), func(t *testing.T) {
			r, inst, out := newRun(t, v, map[int]string{st.N: "not like this"})
			o, err := r.Run(context.Background())
			if !errors.Is(err, ErrAborted) || !strings.Contains(err.Error(), fmt.Sprintf("step %d", st.N)) {
				t.Fatalf("err %v\n%s", err, out)
			}
			tr := o.Transcript
			if tr.Status != StatusAborted || tr.Abort == nil || tr.Abort.Step != st.N || o.Signature == nil || !inst.settled {
				t.Fatalf("transcript %s abort %+v signed %v settled %v", tr.Status, tr.Abort, o.Signature != nil, inst.settled)
			}
			for _, s := range tr.Steps {
				want := ResultDone
				switch {
				case s.N == st.N:
					want = ResultRefused
				case s.N > st.N:
					want = ResultNotReached
				}
				if s.Result != want {
					t.Errorf("step %d: %s, want %s", s.N, s.Result, want)
				}
			}
			if tr.Steps[st.N-1].Note != "not like this" {
				t.Errorf("the reason is not recorded: %+v", tr.Steps[st.N-1])
			}
			// Before generation nothing exists; after it the CAs are recorded.
			created := st.N > generate
			if (len(tr.CAs) == 2) != created || (len(inst.created) == 2) != created {
				t.Errorf("CAs recorded %d, created %d", len(tr.CAs), len(inst.created))
			}
			if created && !strings.Contains(strings.Join(tr.Abort.Remains, "\n"), "CA issuing EXISTS") {
				t.Errorf("remains: %v", tr.Abort.Remains)
			}
			if _, err := ArchivedTranscript(context.Background(), db, tr.ID); err != nil {
				t.Errorf("not archived: %v", err)
			}
		})
	}
}

// A failure during generation is recorded as such, with what remains.
func TestKEY8_GenerationFailureIsRecorded(t *testing.T) {
	v, _ := testVault(t)
	r, inst, _ := newRun(t, v, nil)
	inst.failAt = "issuing"
	o, err := r.Run(context.Background())
	if !errors.Is(err, ErrAborted) || !strings.Contains(err.Error(), "the device disappeared") {
		t.Fatalf("err %v", err)
	}
	tr := o.Transcript
	gen := tr.Steps[tr.Abort.Step-1]
	if gen.Kind != StepGenerate || gen.Result != ResultFailed || !strings.Contains(gen.Error, "the device disappeared") {
		t.Errorf("generation step: %+v", gen)
	}
	if len(tr.CAs) != 1 || tr.CAs[0].ID != "root" || !strings.Contains(strings.Join(tr.Abort.Remains, "\n"), "CA root EXISTS") {
		t.Errorf("what remains: CAs %v, %v", tr.CAs, tr.Abort.Remains)
	}
}

// When no installation exists yet (a new one, refused before it was made),
// the transcript is written but cannot be signed, and says why.
func TestKEY8_AbortBeforeTheInstallationExistsIsUnsigned(t *testing.T) {
	r, _, _ := newRun(t, nil, map[int]string{1: "wrong configuration"})
	o, err := r.Run(context.Background())
	if !errors.Is(err, ErrAborted) {
		t.Fatal(err)
	}
	if o.Signature != nil || !strings.Contains(o.Transcript.Unsigned, "no installation exists yet") {
		t.Fatalf("signature %v, unsigned %q", o.Signature, o.Transcript.Unsigned)
	}
	if _, err := os.Stat(filepath.Join(r.Script.Outputs, "transcript.sig")); !errors.Is(err, os.ErrNotExist) {
		t.Error("a signature file was written")
	}
	if _, _, err := VerifyFiles(filepath.Join(r.Script.Outputs, "transcript.json"), filepath.Join(r.Script.Outputs, "transcript.sig"), nil); !errors.Is(err, ErrUnsigned) {
		t.Errorf("verify: %v", err)
	}
}

// The transcript key is created once, recorded with its event, and the
// ceremony tables are append-only on every engine (KEY-8, ARC-1).
func TestKEY8_VaultKeyAndArchiveAreAppendOnly(t *testing.T) {
	sceautest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		ks := keys.OpenSoftStore(t.TempDir())
		if err := ks.Init([]byte("a test keystore secret")); err != nil {
			t.Fatal(err)
		}
		v := NewVault(db, audit.NewJournal(nil), ks, nil)
		actor := sceau.Actor{ID: "sophie", Role: string(SecurityOfficer)}
		k1, err := v.Key(ctx, actor)
		if err != nil {
			t.Fatal(err)
		}
		k2, err := v.Key(ctx, actor)
		if err != nil || !k1.Created || k2.Created || k1.Fingerprint != k2.Fingerprint {
			t.Fatalf("keys: %+v %+v %v", k1.SignerRecord, k2.SignerRecord, err)
		}
		recorded, err := RecordedKeys(ctx, db)
		if err != nil || len(recorded) != 1 || recorded[0].Fingerprint != k1.Fingerprint {
			t.Fatalf("recorded: %+v %v", recorded, err)
		}
		tr := sampleTranscript()
		tr.Signer = &k1.SignerRecord
		b, _ := tr.Marshal()
		sig, err := Sign(b, tr.ID, k1.Signer)
		if err != nil {
			t.Fatal(err)
		}
		if err := v.Archive(ctx, actor, tr, b, sig, k1.SPKI); err != nil {
			t.Fatal(err)
		}
		if err := v.Archive(ctx, actor, tr, b, sig, k1.SPKI); err == nil {
			t.Error("the same transcript was archived twice")
		}
		refused := []string{`UPDATE ceremony_transcripts SET status = 'aborted'`, `DELETE FROM ceremony_transcripts`,
			`UPDATE ceremony_keys SET label = 'x'`, `DELETE FROM ceremony_keys`}
		if db.Engine() == store.Postgres {
			refused = append(refused, `TRUNCATE ceremony_transcripts`, `TRUNCATE ceremony_keys CASCADE`)
		}
		for _, q := range refused {
			if _, err := db.ExecContext(ctx, q); err == nil || !strings.Contains(err.Error(), "append-only") {
				t.Errorf("%s: %v", q, err)
			}
		}
		a, err := ArchivedTranscript(ctx, db, tr.ID)
		if err != nil || a.Status != StatusCompleted || !bytes.Equal(a.Transcript, b) {
			t.Fatalf("archived: %v", err)
		}
		if all, err := ArchivedTranscripts(ctx, db); err != nil || len(all) != 1 {
			t.Errorf("list: %d %v", len(all), err)
		}
		if _, err := ArchivedTranscript(ctx, db, "nothing"); sceau.KindOf(err) != sceau.NotFound {
			t.Errorf("unknown transcript: %v", err)
		}
		recs, _ := audit.Read(ctx, db, 0, 10)
		if len(recs) != 2 || recs[0].Action != ActionKeyRegistered || recs[1].Action != ActionCompleted {
			t.Errorf("journal: %+v", recs)
		}
	})
}

// interrupting cancels the context while a participant is asked.
type interrupting struct {
	Confirmer
	at     int
	cancel context.CancelFunc
}

func (c interrupting) Confirm(ctx context.Context, st Step) (Answer, error) {
	if st.N == c.at {
		c.cancel()
		return Answer{}, ctx.Err()
	}
	return c.Confirmer.Confirm(ctx, st)
}

// An interrupted ceremony (Ctrl-C) is recorded all the same: aborted,
// signed, archived.
func TestKEY8_InterruptedCeremonyIsRecorded(t *testing.T) {
	v, db := testVault(t)
	r, _, _ := newRun(t, v, nil)
	ctx, cancel := context.WithCancel(context.Background())
	r.Confirmer = interrupting{Confirmer: r.Confirmer, at: 12, cancel: cancel}
	o, err := r.Run(ctx)
	if !errors.Is(err, ErrAborted) || !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v", err)
	}
	if o.Signature == nil || o.Transcript.Steps[11].Result != ResultFailed {
		t.Fatalf("signature %v, step 12 %+v", o.Signature, o.Transcript.Steps[11])
	}
	if _, err := ArchivedTranscript(context.Background(), db, o.Transcript.ID); err != nil {
		t.Fatal(err)
	}
	// The catalogue's ceremony.aborted and ceremony.key_registered are
	// written by the real code, in the name of the security officer.
	recs, _ := audit.Read(context.Background(), db, 0, 100)
	var actions []string
	for _, e := range recs {
		actions = append(actions, e.Action+"/"+e.Actor)
	}
	if got := strings.Join(actions, " "); got != "ceremony.started/sophie ceremony.key_registered/sophie ceremony.aborted/sophie" {
		t.Errorf("journal: %s", got)
	}
	for _, a := range []string{ActionAborted, ActionKeyRegistered, ActionStarted, ActionCompleted} {
		if _, ok := audit.Describe(a); !ok {
			t.Errorf("%s is not in the audit catalogue", a)
		}
	}
}
