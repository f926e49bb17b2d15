package ceremony

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// KEY-4, ROLE-3: a backup declared in a script is checked with the rest:
// its holders are key share holders present, 2 <= m <= n <= 16, two
// distinct approvers in the room other than the security officer who
// conducts, and a store that can wrap the key.
func TestKEY4_CheckRefusesBadCeremonyBackups(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(s *Script, d *Declaration)
		wants []string
	}{
		{"fits", func(s *Script, d *Declaration) {}, nil},
		{"one approver only", func(s *Script, d *Declaration) { s.Backups[0].Approvers = []string{"martin"} },
			[]string{"backups[0] (issuing): a backup needs two distinct approvers, participants other than the security officer sophie (ROLE-3); 1 given"}},
		{"the same approver twice", func(s *Script, d *Declaration) { s.Backups[0].Approvers = []string{"martin", "martin"} },
			[]string{"approver martin is listed twice", "1 given"}},
		{"the security officer approves", func(s *Script, d *Declaration) { s.Backups[0].Approvers = []string{"martin", "sophie"} },
			[]string{"sophie conducts the ceremony and makes the backup, so cannot approve it (ROLE-3)", "1 given"}},
		{"an approver who is not there", func(s *Script, d *Declaration) { s.Backups[0].Approvers = []string{"martin", "zoe"} },
			[]string{"approver zoe is not a participant"}},
		{"a holder who is not there", func(s *Script, d *Declaration) { s.Backups[0].Holders = []string{"alice", "bob", "zoe"} },
			[]string{"holder zoe is not a participant"}},
		{"a holder in another role", func(s *Script, d *Declaration) { s.Backups[0].Holders = []string{"alice", "olivier"} },
			[]string{"holder olivier takes part as operator, not key-share-holder"}},
		{"threshold too high", func(s *Script, d *Declaration) { s.Backups[0].Threshold = 4 },
			[]string{"the wrapping key's split 4 of 3 is outside 2 <= threshold <= holders <= 16"}},
		{"threshold of one", func(s *Script, d *Declaration) { s.Backups[0].Threshold = 1 },
			[]string{"split 1 of 3 is outside"}},
		{"a CA not created", func(s *Script, d *Declaration) { s.Backups[0].CA = "policy" },
			[]string{`CA "policy" is not created by this ceremony`}},
		{"two backups of one CA", func(s *Script, d *Declaration) { s.Backups = append(s.Backups, s.Backups[0]) },
			[]string{`CA "issuing" has a backup already`}},
		{"PKCS#11 without allow_backup", func(s *Script, d *Declaration) {
			d.CAs[1].KeyStore, d.CAs[1].BackupMechanism = `PKCS#11 token "issuing-token"`, "CKM_AES_KEY_WRAP_PAD"
			d.CAs[1].NoBackup = `the key of CA "issuing" is generated in token "issuing-token" not extractable, which nobody can back up: set keystore.pkcs11.allow_backup: true`
		}, []string{"keystore.pkcs11.allow_backup: true", "(KEY-4)"}},
		{"a backup holder only is a holder", func(s *Script, d *Declaration) {
			s.Participants = append(s.Participants, Participant{Name: "zoe", Role: KeyShareHolder, FullName: "Zoé"})
			s.Backups[0].Holders = append(s.Backups[0].Holders, "zoe")
		}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, d := exampleScript(t), exampleDeclaration(t)
			s.Outputs, s.NewInstallation = t.TempDir(), filepath.Join(t.TempDir(), "ca")
			tc.edit(s, d)
			err := Check(s, d)
			if len(tc.wants) == 0 {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range tc.wants {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
		})
	}
}

// KEY-4, KEY-8: the runner asks the backup's approvers before generation,
// hands the installation the backup with the approvers who confirmed and
// the ceremony's approval ID, asks the holders for their PINs, and records
// the backup in the transcript — ID, mechanism, SHA-256, holders,
// threshold, approvers — without a PIN.
func TestKEY4_RunnerRecordsTheCeremonyBackup(t *testing.T) {
	v, _ := testVault(t)
	r, inst, out := newRun(t, v, nil)
	o, err := r.Run(context.Background())
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	tr := o.Transcript
	if len(tr.Backups) != 1 {
		t.Fatalf("backups recorded: %+v", tr.Backups)
	}
	b := tr.Backups[0]
	content, _ := os.ReadFile(b.File)
	if b.ID != "backup-issuing-1" || b.CA != "issuing" || b.Mechanism != "AES-256-GCM" || b.SHA256 != sum(content) || b.Threshold != 2 ||
		!slices.Equal(b.Holders, []string{"alice", "bob", "carol"}) || !slices.Equal(b.Approvers, []string{"martin", "olivier"}) ||
		b.Approval != "ceremony:"+tr.ID+"/issuing" || len(b.Shares) != 3 {
		t.Fatalf("backup record: %+v", b)
	}
	for _, s := range b.Shares {
		sb, _ := os.ReadFile(s.File)
		if s.SHA256 != sum(sb) {
			t.Errorf("share of %s: SHA-256 %s", s.Holder, s.SHA256)
		}
	}
	if !slices.Contains(inst.pinsAsked, "backup-issuing/carol") {
		t.Errorf("PINs asked: %v", inst.pinsAsked)
	}
	kinds := map[StepKind][]string{}
	for _, s := range tr.Steps {
		kinds[s.Kind] = append(kinds[s.Kind], s.Participant)
		if s.Result != ResultDone {
			t.Errorf("step %d %s: %s", s.N, s.Kind, s.Result)
		}
	}
	if !slices.Equal(kinds[StepApproveBackup], []string{"martin", "olivier"}) || len(kinds[StepTakeBackup]) != 3 || len(kinds[StepBackupHandOver]) != 3 {
		t.Errorf("backup steps: %v", kinds)
	}
	text := tr.Text()
	for _, want := range []string{"BACKUPS OF CA KEYS", "Backup backup-issuing-1 of CA issuing", Grouped(b.SHA256), "martin, olivier"} {
		if !strings.Contains(text, want) {
			t.Errorf("transcript text lacks %q", want)
		}
	}
	if strings.Contains(string(o.JSON)+out.String(), "pin-secret") {
		t.Fatal("a PIN reached the transcript or the screen")
	}
}

// KEY-4, KEY-8: a ceremony refused after the backup was made leaves no
// backup: the installation undoes it, and the transcript says so.
func TestKEY4_AbortAfterTheBackupUndoesIt(t *testing.T) {
	v, _ := testVault(t)
	plan := Plan(exampleScript(t), exampleDeclaration(t))
	at := 0
	for _, st := range plan {
		if st.Kind == StepBackupHandOver {
			at = st.N
			break
		}
	}
	r, inst, _ := newRun(t, v, map[int]string{at: "the share file is damaged"})
	o, err := r.Run(context.Background())
	if !errors.Is(err, ErrAborted) {
		t.Fatal(err)
	}
	tr := o.Transcript
	if len(tr.Backups) != 1 || !inst.settled || !strings.Contains(strings.Join(tr.Abort.Remains, "\n"), "backup backup-issuing-1 undone") {
		t.Fatalf("backups %+v, remains %v", tr.Backups, tr.Abort.Remains)
	}
	if _, err := os.Stat(tr.Backups[0].File); !os.IsNotExist(err) {
		t.Errorf("the backup file remains: %v", err)
	}
}
