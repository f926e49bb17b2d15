package ceremony

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sceau/sceau/internal/quorum"
)

func exampleScript(t *testing.T) *Script {
	t.Helper()
	s, _, err := LoadScript(filepath.Join("testdata", "root-and-issuing.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// exampleDeclaration fits the example script: a root and an issuing CA
// with five holders, neither created.
func exampleDeclaration(t *testing.T) *Declaration {
	return &Declaration{ConfigPath: "sceau.yaml", Config: []byte("cas: …\n"), Dir: t.TempDir(), New: true, CAs: []DeclaredCA{
		{ID: "root", Subject: "CN=Exemple Root CA,O=Exemple,C=FR", KeyType: "ecdsa-p384", Validity: "3650d", KeyStore: "service keystore"},
		{ID: "issuing", Parent: "root", Subject: "CN=Exemple Issuing CA,O=Exemple,C=FR", KeyType: "ecdsa-p256", Validity: "1825d",
			KeyStore: "software keystore keys/ca-issuing", BackupMechanism: "AES-256-GCM", Activation: &Activation{Threshold: 3, Holders: []string{"alice", "bob", "carol", "dave", "erin"}}},
	}}
}

// The example script of docs/ceremony.md is valid, and the guide shows it
// as it is in testdata.
func TestKEY8_ExampleScriptIsValidAndDocumented(t *testing.T) {
	s := exampleScript(t)
	d := exampleDeclaration(t)
	s.Outputs, s.NewInstallation = filepath.Join(t.TempDir(), "out"), filepath.Join(t.TempDir(), "ca")
	if err := Check(s, d); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(filepath.Join("testdata", "root-and-issuing.yaml"))
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "ceremony.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(doc), string(b)) {
		t.Error("docs/ceremony.md does not show internal/ceremony/testdata/root-and-issuing.yaml as it is")
	}
}

// The script is decoded strictly and every problem is reported at once.
func TestKEY8_ScriptIsStrictAndReportsEveryProblem(t *testing.T) {
	valid, _ := os.ReadFile(filepath.Join("testdata", "root-and-issuing.yaml"))
	tests := []struct {
		name string
		text string
		want []string
	}{
		{"unknown key", string(valid) + "steps: []\n", []string{"field steps not found"}},
		{"two documents", string(valid) + "---\nname: x\n", []string{"more than one YAML document"}},
		{"empty", "", []string{"empty"}},
		{"everything wrong", `name: ""
date: 14/03/2026
participants:
  - {name: Sophie, role: security-officer, full_name: S}
  - {name: bob, role: key-share-holder}
  - {name: bob, role: auditor, full_name: B}
cas: [root, root, "Bad ID"]
`, []string{
			"purpose: required", "location: required", "name: required", `date: "14/03/2026" is not a date`, "outputs: required",
			"participants[0] (Sophie): name must be", "participants[1] (bob): full_name is required",
			"participants[2] (bob): is listed twice", `role "auditor" is not one of`,
			"a witness (such as a bailiff) is required (KEY-8)", `cas[1]: "root" is listed twice`, `cas[2]: "Bad ID" is not a CA ID`,
		}},
		{"no security officer", strings.Replace(string(valid), "role: security-officer", "role: operator", 1),
			[]string{"a security officer must conduct the ceremony"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseScript([]byte(tc.text))
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
		})
	}
}

// Check compares the script with the configuration: the holders of the
// CAs created are exactly the key share holders present (KEY-2), the CAs
// are the missing ones in order, the outputs are empty (KEY-8).
func TestKEY8_CheckRefusesScriptsThatDoNotFit(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(s *Script, d *Declaration)
		wants []string
	}{
		{"fits", func(s *Script, d *Declaration) {}, nil},
		{"holder missing", func(s *Script, d *Declaration) { s.Participants = s.Participants[:len(s.Participants)-1] },
			[]string{`erin holds a share of CA "issuing" in the configuration but is not a participant (KEY-2)`}},
		{"holder in another role", func(s *Script, d *Declaration) { s.Participants[3].Role = Operator },
			[]string{`alice holds a share of CA "issuing" in the configuration but takes part as operator`}},
		{"extra holder", func(s *Script, d *Declaration) {
			s.Participants = append(s.Participants, Participant{Name: "zoe", Role: KeyShareHolder, FullName: "Zoé"})
		}, []string{"zoe takes part as key-share-holder but holds no share of the CAs created (configuration: issuing: alice, bob, carol, dave, erin)"}},
		{"undeclared CA", func(s *Script, d *Declaration) { s.CAs = append(s.CAs, "policy") },
			[]string{`cas: "policy" is not declared`}},
		{"existing CA", func(s *Script, d *Declaration) { d.New = false; d.CAs[0].Exists = true },
			[]string{`CA "root" exists already`}},
		{"missing CA not listed", func(s *Script, d *Declaration) { s.CAs, s.Backups = []string{"root"}, nil },
			[]string{`CA "issuing" is declared and does not exist: it would be created too`, "alice takes part as key-share-holder but holds no share"}},
		{"wrong order", func(s *Script, d *Declaration) { s.CAs = []string{"issuing", "root"} },
			[]string{"list the CAs in the order of the configuration, parents first: root, issuing"}},
		{"parent needs activation", func(s *Script, d *Declaration) {
			d.New = false
			d.CAs[0].Exists = true
			d.CAs[0].Activation = &Activation{Threshold: 2, Holders: []string{"x", "y"}}
			s.CAs = []string{"issuing"}
		}, []string{`CA "issuing" is signed by "root", whose key needs 2 of its 2 key share holders`}},
		{"parent activated at the ceremony", func(s *Script, d *Declaration) {
			d.New = false
			d.CAs[0].Exists = true
			d.CAs[0].Activation = &Activation{Threshold: 2, Holders: []string{"alice", "bob", "zoe"}}
			s.CAs, s.Activate = []string{"issuing"}, []string{"root"}
		}, nil},
		{"too few parent holders take part", func(s *Script, d *Declaration) {
			d.New = false
			d.CAs[0].Exists = true
			d.CAs[0].Activation = &Activation{Threshold: 3, Holders: []string{"alice", "y", "z"}}
			s.CAs, s.Activate = []string{"issuing"}, []string{"root"}
		}, []string{`CA "root" needs 3 of its key share holders (alice, y, z) to present their shares; 1 take part`}},
		{"activation not needed", func(s *Script, d *Declaration) { s.Activate = []string{"root"} },
			[]string{`activate: CA "root" does not exist yet`}},
		{"activating a CA without policy", func(s *Script, d *Declaration) {
			d.New = false
			d.CAs[0].Exists = true
			s.CAs, s.Activate = []string{"issuing"}, []string{"root"}
		},
			[]string{`CA "root" has no m-of-n activation policy`}},
		{"card for a witness", func(s *Script, d *Declaration) { s.Participants[2].Card = &quorum.Card{Token: "x"} },
			[]string{"only a key share holder brings a card"}},
		{"outputs not empty", func(s *Script, d *Declaration) { os.WriteFile(filepath.Join(s.Outputs, "x"), nil, 0o600) },
			[]string{"never overwrites its outputs"}},
		{"outputs inside the new installation", func(s *Script, d *Declaration) { s.Outputs = filepath.Join(s.NewInstallation, "out") },
			[]string{"is inside the new installation"}},
		{"installation problems", func(s *Script, d *Declaration) { d.Problems = []string{"no keystore secret"} },
			[]string{"no keystore secret"}},
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

// The plan names, for every step, the participant who confirms it; the
// split is confirmed share by share by each holder.
func TestKEY8_PlanNamesWhoConfirmsEachStep(t *testing.T) {
	plan := Plan(exampleScript(t), exampleDeclaration(t))
	var got []string
	for _, st := range plan {
		got = append(got, string(st.Kind)+" "+st.Participant.Name)
	}
	want := []string{"check sophie", "identify martin", "approve-ca sophie", "approve-ca sophie",
		"take-share alice", "take-share bob", "take-share carol", "take-share dave", "take-share erin",
		"approve-backup martin", "approve-backup olivier", "take-backup alice", "take-backup bob", "take-backup carol",
		"generate olivier", "fingerprints martin", "fingerprints martin", "crl olivier", "export olivier",
		"hand-over alice", "hand-over bob", "hand-over carol", "hand-over dave", "hand-over erin",
		"hand-over-backup alice", "hand-over-backup bob", "hand-over-backup carol",
		"transcript-key martin", "close sophie"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("plan (-want +got):\n%s", diff)
	}
	if p := plan[6].Prompt(); p != "carol (key-share-holder): confirm step 7 'split the activation secret of issuing 3 of 5: take share 3 and choose its PIN' [yes/no] " {
		t.Errorf("prompt: %q", p)
	}
}
