package ceremony

import (
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// sampleTranscript is a fixed, completed transcript.
func sampleTranscript() *Transcript {
	return &Transcript{Format: TranscriptFormat, ID: "20260314-00000000000000aa", Status: StatusCompleted,
		Name: "Root CA ceremony", Purpose: "Create the root CA.", Location: "Test site, room 1", Planned: "2026-03-14",
		StartedAt: "2026-03-14T09:00:00Z", EndedAt: "2026-03-14T09:41:00Z",
		Script:        Document{Path: "/srv/ceremony/root.yaml", SHA256: sum([]byte("script")), Text: "name: Root CA ceremony\n"},
		Configuration: Document{Path: "/srv/sceau/sceau.yaml", SHA256: sum([]byte("config")), Text: "cas: …\n"},
		Installation:  Installed{Dir: "/srv/sceau", New: true},
		Confirmations: Confirmation{Mode: ConfirmedAtTerminal}, PINs: "typed by each key share holder, unseen",
		Participants: []Participant{{Name: "sophie", Role: SecurityOfficer, FullName: "Sophie Durand", Organization: "Exemple Trust"},
			{Name: "martin", Role: Witness, FullName: "Maître Jeanne Martin", Organization: "Étude Martin"},
			{Name: "alice", Role: KeyShareHolder, FullName: "Alice Bernard"}, {Name: "bob", Role: KeyShareHolder, FullName: "Bob Thomas"}},
		Steps: []StepRecord{
			{N: 1, Kind: StepCheck, Title: "check the script and the configuration", Participant: "sophie", Role: SecurityOfficer,
				Details: []string{"script /srv/ceremony/root.yaml"}, Answer: "yes", AnsweredAt: "2026-03-14T09:01:00Z", Result: ResultDone, DoneAt: "2026-03-14T09:01:00Z"},
			{N: 2, Kind: StepGenerate, Title: "generate the keys", Participant: "sophie", Role: SecurityOfficer,
				Answer: "yes", AnsweredAt: "2026-03-14T09:05:00Z", Result: ResultDone, DoneAt: "2026-03-14T09:06:00Z",
				Outcome: []string{"CA root created"}},
		},
		CAs: []CARecord{{ID: "root", Subject: "CN=Root CA,O=Exemple,C=FR", Issuer: "CN=Root CA,O=Exemple,C=FR", Serial: "4f00aa",
			KeyType: "ecdsa-p384", KeyStore: "software keystore /srv/sceau/keys/ca-root", KeySHA256: sum([]byte("spki")),
			CertSHA256: sum([]byte("cert")), CertSHA1: "a94a8fe5ccb19ba61c4c0873d391e987982fbbd3", NotBefore: "2026-03-14T09:05:30Z",
			NotAfter: "2036-03-11T09:05:30Z", OCSPSHA256: sum([]byte("ocsp")),
			Split: &SplitRecord{Threshold: 2, Total: 2, SetID: "00112233445566778899aabbccddeeff", Shares: []ShareRecord{
				{Holder: "alice", X: 1, File: "/srv/sceau/shares/root/alice.share", SHA256: sum([]byte("a"))},
				{Holder: "bob", X: 2, File: "/srv/sceau/shares/root/bob.share", SHA256: sum([]byte("b"))}}}}},
		CRLs: []CRLRecord{{CA: "root", Shard: 0, Number: 1, ThisUpdate: "2026-03-14T09:06:00Z", NextUpdate: "2026-03-21T09:06:00Z",
			SHA256: sum([]byte("crl"))}},
		Outputs: []FileRecord{{File: "root.pem", SHA256: sum([]byte("pem"))}},
		Signer:  &SignerRecord{Label: KeyLabel, Algorithm: AlgECDSAP256, Fingerprint: sum([]byte("key"))},
	}
}

// The readable transcript is stable: golden file testdata/transcript.golden.txt
// (go test -run TestKEY8_TranscriptText -update to rewrite it).
func TestKEY8_TranscriptText(t *testing.T) {
	for _, tc := range []struct {
		name   string
		golden string
		edit   func(*Transcript)
	}{
		{"completed", "transcript.golden.txt", func(*Transcript) {}},
		{"aborted and unsigned", "transcript-aborted.golden.txt", func(tr *Transcript) {
			tr.Status = StatusAborted
			tr.Confirmations = Confirmation{Mode: ConfirmedByFile, File: "/tmp/confirmations.txt", SHA256: sum([]byte("c"))}
			tr.Steps[1] = StepRecord{N: 2, Kind: StepGenerate, Title: "generate the keys", Participant: "sophie", Role: SecurityOfficer,
				Answer: "no", AnsweredAt: "2026-03-14T09:05:00Z", Note: "the room is not secured", Result: ResultRefused}
			tr.CAs, tr.CRLs, tr.Outputs, tr.Signer = nil, nil, nil, nil
			tr.Abort = &AbortRecord{Step: 2, Participant: "sophie", Reason: "sophie (security-officer) refused step 2: the room is not secured",
				Remains: []string{"nothing was created"}}
			tr.Unsigned = "no transcript key: no installation exists yet in /srv/sceau"
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr := sampleTranscript()
			tc.edit(tr)
			got := tr.Text()
			path := filepath.Join("testdata", tc.golden)
			if *update {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(string(want), got); diff != "" {
				t.Errorf("transcript text (-golden +got):\n%s", diff)
			}
		})
	}
}

// The JSON form reads back to the same transcript.
func TestKEY8_TranscriptJSONRoundTrip(t *testing.T) {
	tr := sampleTranscript()
	b, err := tr.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	back, err := ParseTranscript(b)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(tr, back); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
	if _, err := ParseTranscript([]byte(`{"format":"other"}`)); err == nil {
		t.Error("a transcript of another format was read")
	}
}
