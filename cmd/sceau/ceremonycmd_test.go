package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/sceau/sceau/internal/ceremony"
	"github.com/sceau/sceau/internal/node"
	"github.com/sceau/sceau/internal/store"
)

var ceremonyHolders = []string{"alice", "bob", "carol", "dave", "erin"}

// ceremonyFixture is a directory with a configuration (root + issuing CA
// 3 of 5), the holders' PIN files, and a ceremony script.
type ceremonyFixture struct {
	dir, config, pins, script, outputs string
}

// fullConfig is the default configuration with a 3-of-5 issuing CA.
func fullConfig(t *testing.T) string {
	pub, adm := freeAddr(t), freeAddr(t)
	return strings.Replace(string(node.RenderConfig(node.ConfigValues{Org: "Ceremony Test", PublicListen: pub, AdminListen: adm, BaseURL: "http://" + pub})),
		"    path_len: 0\n", "    path_len: 0\n    activation:\n      threshold: 3\n      holders: [alice, bob, carol, dave, erin]\n", 1)
}

// rootOnly is cfg cut before its issuing CA, without the publication
// signer, which names the issuing CA.
func rootOnly(cfg string) string {
	cfg = cfg[:strings.Index(cfg, "  - id: issuing")]
	return strings.NewReplacer("  signer_ca: issuing\n", "", "  signer_profile: publication\n", "").Replace(cfg)
}

func newCeremonyFixture(t *testing.T) *ceremonyFixture {
	t.Helper()
	dir := t.TempDir()
	f := &ceremonyFixture{dir: dir, config: filepath.Join(dir, "sceau.yaml"), pins: filepath.Join(dir, "pins"),
		script: filepath.Join(dir, "ceremony.yaml"), outputs: filepath.Join(dir, "out")}
	os.MkdirAll(f.pins, 0o700)
	for _, h := range ceremonyHolders {
		os.WriteFile(filepath.Join(f.pins, h+".pin"), []byte("pin-secret-"+h+"\n"), 0o600)
	}
	os.WriteFile(f.config, []byte(fullConfig(t)), 0o644)
	return f
}

// scriptText writes a ceremony script; holders are the key share holders
// listed as participants.
func scriptText(configuration, newInstallation string, cas, holders []string) string {
	var b strings.Builder
	b.WriteString(`name: Root and issuing CA ceremony
purpose: Create the CAs and split the issuing CA's activation secret 3 of 5.
location: Test site, room 1
date: 2026-03-14
configuration: ` + configuration + "\n")
	if newInstallation != "" {
		b.WriteString("new_installation: " + newInstallation + "\n")
	}
	b.WriteString(`participants:
  - name: sophie
    role: security-officer
    full_name: Sophie Durand
  - name: olivier
    role: operator
    full_name: Olivier Petit
  - name: martin
    role: witness
    full_name: Jeanne Martin
    organization: Étude Martin, commissaires de justice
`)
	for _, h := range holders {
		b.WriteString("  - name: " + h + "\n    role: key-share-holder\n    full_name: " + strings.ToUpper(h[:1]) + h[1:] + " Holder\n")
	}
	b.WriteString("cas: [" + strings.Join(cas, ", ") + "]\noutputs: out\n")
	return b.String()
}

// confirmations returns the yes-to-all template of the script, with edit
// applied to each line.
func confirmations(t *testing.T, script string, edit func(line string) string) string {
	t.Helper()
	r := (cli{t: t}).ok("ceremony", "plan", script, "--confirmations-template")
	var out []string
	for _, l := range strings.Split(r.stdout, "\n") {
		if edit != nil {
			l = edit(l)
		}
		out = append(out, l)
	}
	p := filepath.Join(t.TempDir(), "confirmations.txt")
	os.WriteFile(p, []byte(strings.Join(out, "\n")), 0o600)
	return p
}

func readTranscript(t *testing.T, dir string) *ceremony.Transcript {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "transcript.json"))
	if err != nil {
		t.Fatal(err)
	}
	tr, err := ceremony.ParseTranscript(b)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

func sha256File(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func readCertPEM(t *testing.T, path string) *x509.Certificate {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		t.Fatalf("%s: no PEM", path)
	}
	c, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// dbRows runs a query on an installation's SQLite database and returns
// the rows as strings.
func dbRows(t *testing.T, installation, query string) [][]string {
	t.Helper()
	db, err := store.Open(context.Background(), store.SQLite, filepath.Join(installation, "sceau.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.QueryContext(context.Background(), query)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out [][]string
	for rows.Next() {
		vals := make([]string, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		out = append(out, vals)
	}
	return out
}

// A ceremony creates a new installation with a root CA and an issuing CA
// whose activation secret is split 3 of 5; the signed transcript records
// every step, the fingerprints, the split and the share files; it verifies
// against the key the witness wrote down and is archived with its audit
// event (KEY-8, KEY-2).
func TestKEY8_CeremonyCreatesHierarchyAndSignedTranscript(t *testing.T) {
	f := newCeremonyFixture(t)
	os.WriteFile(f.script, []byte(scriptText("sceau.yaml", "ca", []string{"root", "issuing"}, ceremonyHolders)), 0o644)
	confirm := confirmations(t, f.script, nil)
	r := (cli{t: t}).ok("ceremony", "run", f.script, "--pins", f.pins, "--confirm-file", confirm)
	install := filepath.Join(f.dir, "ca")

	// Outputs: the certificates, CRLs and the transcript, signed.
	for _, name := range []string{"root.pem", "root.crl", "issuing.pem", "issuing.crl", "transcript.json", "transcript.txt", "transcript.sig"} {
		if _, err := os.Stat(filepath.Join(f.outputs, name)); err != nil {
			t.Fatalf("output %s: %v\n%s", name, err, r.stdout)
		}
	}
	root, issuing := readCertPEM(t, filepath.Join(f.outputs, "root.pem")), readCertPEM(t, filepath.Join(f.outputs, "issuing.pem"))
	pool := x509.NewCertPool()
	pool.AddCert(root)
	if _, err := issuing.Verify(x509.VerifyOptions{Roots: pool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil {
		t.Fatalf("the issuing CA certificate does not chain to the root: %v", err)
	}

	tr := readTranscript(t, f.outputs)
	if tr.Status != ceremony.StatusCompleted || tr.Abort != nil || tr.Signer == nil {
		t.Fatalf("status %s, abort %+v, signer %+v", tr.Status, tr.Abort, tr.Signer)
	}
	if tr.Confirmations.Mode != ceremony.ConfirmedByFile || !strings.Contains(tr.PINs, "READ FROM FILES") {
		t.Errorf("the transcript does not say that confirmations and PINs were pre-recorded: %+v, %q", tr.Confirmations, tr.PINs)
	}
	if !strings.Contains(tr.Script.Text, "new_installation: ca") || tr.Script.SHA256 != sha256File(t, f.script) {
		t.Errorf("the script is not recorded whole")
	}
	roles := map[string]ceremony.Role{}
	for _, p := range tr.Participants {
		roles[p.Name] = p.Role
	}
	if roles["martin"] != ceremony.Witness || roles["sophie"] != ceremony.SecurityOfficer || roles["carol"] != ceremony.KeyShareHolder {
		t.Errorf("participants: %+v", tr.Participants)
	}
	kinds := map[ceremony.StepKind]int{}
	for _, s := range tr.Steps {
		kinds[s.Kind]++
		if s.Result != ceremony.ResultDone || s.Answer != "yes" || s.AnsweredAt == "" || s.DoneAt == "" || s.Participant == "" {
			t.Errorf("step %d %q: %+v", s.N, s.Title, s)
		}
	}
	if kinds[ceremony.StepTakeShare] != 5 || kinds[ceremony.StepHandOver] != 5 || kinds[ceremony.StepFingerprints] != 2 || kinds[ceremony.StepApproveCA] != 2 {
		t.Errorf("steps by kind: %v", kinds)
	}
	if len(tr.CAs) != 2 {
		t.Fatalf("CAs recorded: %+v", tr.CAs)
	}
	for _, c := range tr.CAs {
		cert := map[string]*x509.Certificate{"root": root, "issuing": issuing}[c.ID]
		spki := sha256.Sum256(cert.RawSubjectPublicKeyInfo)
		der := sha256.Sum256(cert.Raw)
		if c.KeySHA256 != hex.EncodeToString(spki[:]) || c.CertSHA256 != hex.EncodeToString(der[:]) {
			t.Errorf("CA %s: fingerprints %s / %s do not match the exported certificate", c.ID, c.KeySHA256, c.CertSHA256)
		}
	}
	sp := tr.CAs[1].Split
	if tr.CAs[0].Split != nil || sp == nil || sp.Threshold != 3 || sp.Total != 5 || len(sp.Shares) != 5 {
		t.Fatalf("split: root %+v, issuing %+v", tr.CAs[0].Split, sp)
	}
	for i, s := range sp.Shares {
		want := filepath.Join(install, "shares", "issuing", ceremonyHolders[i]+".share")
		if s.Holder != ceremonyHolders[i] || s.X != i+1 || s.File != want || s.SHA256 != sha256File(t, want) {
			t.Errorf("share %d: %+v (want file %s with its SHA-256)", i, s, want)
		}
	}
	if len(tr.CRLs) != 2 || tr.CRLs[0].Number != 1 || tr.CRLs[0].SHA256 != sha256File(t, filepath.Join(f.outputs, "root.crl")) {
		t.Errorf("first CRLs: %+v", tr.CRLs)
	}
	text, _ := os.ReadFile(filepath.Join(f.outputs, "transcript.txt"))
	for _, want := range []string{"KEY CEREMONY TRANSCRIPT", "Jeanne Martin", "PRE-RECORDED", ceremony.Grouped(tr.CAs[1].CertSHA256), ceremony.Grouped(tr.Signer.Fingerprint)} {
		if !bytes.Contains(text, []byte(want)) {
			t.Errorf("transcript.txt lacks %q", want)
		}
	}
	if strings.Contains(string(text)+r.stdout, "pin-secret") {
		t.Fatal("a PIN was written into the transcript or the output")
	}

	// The witness wrote down the fingerprint shown at the ceremony.
	if !strings.Contains(r.stdout, ceremony.Grouped(tr.Signer.Fingerprint)) {
		t.Fatal("the transcript key's fingerprint was not shown to the witness")
	}
	c := cli{t: t, config: filepath.Join(install, "sceau.yaml")}
	if v := (cli{t: t}).ok("ceremony", "verify", f.outputs, "--key-fingerprint", ceremony.Grouped(tr.Signer.Fingerprint)); !strings.Contains(v.stdout, "OK: transcript") {
		t.Errorf("verify: %s", v.stdout)
	}
	if v := c.ok("ceremony", "verify", f.outputs); !strings.Contains(v.stdout, "Archived in the database") {
		t.Errorf("verify against the installation: %s", v.stdout)
	}

	// Archived with its audit event; the key is recorded.
	rows := dbRows(t, install, `SELECT id, status, sha256, signer_key FROM ceremony_transcripts`)
	if len(rows) != 1 || rows[0][0] != tr.ID || rows[0][1] != "completed" || rows[0][2] != sha256File(t, filepath.Join(f.outputs, "transcript.json")) || rows[0][3] != tr.Signer.Fingerprint {
		t.Fatalf("ceremony_transcripts: %v", rows)
	}
	events := dbRows(t, install, `SELECT action, actor, role, object FROM audit_events WHERE action LIKE 'ceremony.%' ORDER BY seq`)
	var actions []string
	for _, e := range events {
		actions = append(actions, e[0])
		if e[1] != "sophie" || e[2] != "security-officer" {
			t.Errorf("event %v: not attributed to the security officer", e)
		}
	}
	if strings.Join(actions, " ") != "ceremony.started ceremony.key_registered ceremony.completed" {
		t.Errorf("ceremony events: %v", actions)
	}
	if _, err := os.Stat(filepath.Join(install, "admin", "operator.pem")); err != nil {
		t.Errorf("the new installation has no admin credentials: %v", err)
	}

	// An archived transcript comes out again identical, and verifies.
	exported := filepath.Join(f.dir, "exported")
	c.ok("ceremony", "export", tr.ID, exported)
	if sha256File(t, filepath.Join(exported, "transcript.json")) != rows[0][2] {
		t.Error("the exported transcript differs from the archived one")
	}
	c.ok("ceremony", "verify", exported)

	// OpenSSL, as an independent checker, verifies the signature.
	if _, err := exec.LookPath("openssl"); err == nil {
		sigFile, _ := os.ReadFile(filepath.Join(f.outputs, "transcript.sig"))
		sig, err := ceremony.ParseSignature(sigFile)
		if err != nil {
			t.Fatal(err)
		}
		tmp := t.TempDir()
		raw, _ := base64.StdEncoding.DecodeString(sig.Value)
		os.WriteFile(filepath.Join(tmp, "key.pem"), []byte(sig.PublicKey), 0o644)
		os.WriteFile(filepath.Join(tmp, "sig.der"), raw, 0o644)
		out, err := exec.Command("openssl", "dgst", "-sha256", "-verify", filepath.Join(tmp, "key.pem"), "-signature", filepath.Join(tmp, "sig.der"),
			filepath.Join(f.outputs, "transcript.json")).CombinedOutput()
		if err != nil || !strings.Contains(string(out), "Verified OK") {
			t.Errorf("openssl dgst -verify: %v %s", err, out)
		}
	}

	// Tampering with a copy is detected by the command, with a non-zero exit.
	tampered := filepath.Join(f.dir, "tampered")
	os.MkdirAll(tampered, 0o700)
	for _, name := range []string{"transcript.json", "transcript.sig"} {
		b, _ := os.ReadFile(filepath.Join(f.outputs, name))
		os.WriteFile(filepath.Join(tampered, name), b, 0o644)
	}
	b, _ := os.ReadFile(filepath.Join(tampered, "transcript.json"))
	os.WriteFile(filepath.Join(tampered, "transcript.json"), bytes.Replace(b, []byte("Test site, room 1"), []byte("Test site, room 2"), 1), 0o644)
	if v := (cli{t: t}).run("ceremony", "verify", tampered, "--key-fingerprint", tr.Signer.Fingerprint); v.code == 0 || !strings.Contains(v.stderr, "edited after signing") {
		t.Errorf("edited transcript: exit %d, %s", v.code, v.stderr)
	}
	other := strings.Repeat("ab", 32)
	if v := (cli{t: t}).run("ceremony", "verify", f.outputs, "--key-fingerprint", other); v.code == 0 || !strings.Contains(v.stderr, "not trusted") {
		t.Errorf("another key: exit %d, %s", v.code, v.stderr)
	}

	// The outputs are never overwritten: the same ceremony again is refused.
	if again := (cli{t: t}).run("ceremony", "run", f.script, "--pins", f.pins, "--confirm-file", confirm); again.code == 0 || !strings.Contains(again.stderr, "never overwrites") {
		t.Errorf("second run: exit %d, %s", again.code, again.stderr)
	}
}

// An existing installation with a root CA: a new issuing CA 3 of 5 is to be
// created at a ceremony. installation returns the config path.
func existingInstallation(t *testing.T, f *ceremonyFixture) string {
	t.Helper()
	full, _ := os.ReadFile(f.config)
	from := filepath.Join(f.dir, "root-only.yaml")
	os.WriteFile(from, []byte(rootOnly(string(full))), 0o644)
	install := filepath.Join(f.dir, "ca")
	(cli{t: t}).ok("init", "--dir", install, "--from", from)
	cfg := filepath.Join(install, "sceau.yaml")
	if err := os.WriteFile(cfg, full, 0o644); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(f.script, []byte(scriptText(cfg, "", []string{"issuing"}, ceremonyHolders)), 0o644)
	return cfg
}

// A participant who refuses a step aborts the ceremony: the transcript is
// written, marked aborted, signed and archived, and says what remains. Before
// generation nothing is created; after it, the CA exists and is recorded by
// its fingerprints (KEY-8).
func TestKEY8_RefusedStepAbortsWithSignedTranscript(t *testing.T) {
	t.Run("before generation", func(t *testing.T) {
		f := newCeremonyFixture(t)
		cfg := existingInstallation(t, f)
		install := filepath.Dir(cfg)
		refused := 0
		confirm := confirmations(t, f.script, func(l string) string {
			if strings.Contains(l, " carol yes") && strings.Contains(l, "take share") {
				refused, _ = stepNumber(l)
				return strings.Replace(l, "carol yes", "carol no I will not hold a share today", 1)
			}
			return l
		})
		r := (cli{t: t}).run("ceremony", "run", f.script, "--pins", f.pins, "--confirm-file", confirm)
		if r.code == 0 || !strings.Contains(r.stderr, "aborted at step") || !strings.Contains(r.stderr, "carol") {
			t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
		}
		tr := readTranscript(t, f.outputs)
		if tr.Status != ceremony.StatusAborted || tr.Abort == nil || tr.Abort.Step != refused || tr.Abort.Participant != "carol" || tr.Signer == nil {
			t.Fatalf("transcript: status %s abort %+v signer %+v", tr.Status, tr.Abort, tr.Signer)
		}
		st := tr.Steps[refused-1]
		if st.Answer != "no" || st.Result != ceremony.ResultRefused || st.Note != "I will not hold a share today" || tr.Steps[refused].Result != ceremony.ResultNotReached {
			t.Errorf("refused step: %+v", st)
		}
		if !strings.Contains(strings.Join(tr.Abort.Remains, "\n"), "no CA was created") || len(tr.CAs) != 0 {
			t.Errorf("remains: %v, CAs %v", tr.Abort.Remains, tr.CAs)
		}
		// Nothing half-made: no CA, no keystore, no share, no split.
		if n := dbRows(t, install, `SELECT COUNT(*) FROM cas WHERE id = 'issuing'`)[0][0]; n != "0" {
			t.Error("the issuing CA exists")
		}
		if n := dbRows(t, install, `SELECT COUNT(*) FROM key_splits`)[0][0]; n != "0" {
			t.Error("a split is registered")
		}
		for _, p := range []string{filepath.Join(install, "keys", "ca-issuing"), filepath.Join(install, "shares", "issuing")} {
			if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("%s exists", p)
			}
		}
		// Signed, archived with ceremony.aborted; verify says so.
		v := (cli{t: t, config: cfg}).ok("ceremony", "verify", f.outputs)
		if !strings.Contains(v.stdout, "ABORTED at step") {
			t.Errorf("verify: %s", v.stdout)
		}
		if rows := dbRows(t, install, `SELECT status FROM ceremony_transcripts`); len(rows) != 1 || rows[0][0] != "aborted" {
			t.Errorf("archived: %v", rows)
		}
		if rows := dbRows(t, install, `SELECT COUNT(*) FROM audit_events WHERE action = 'ceremony.aborted'`); rows[0][0] != "1" {
			t.Error("no ceremony.aborted event")
		}
		// The same ceremony, with new outputs, can be held again.
		os.WriteFile(f.script, bytes.Replace(must(os.ReadFile(f.script)), []byte("outputs: out"), []byte("outputs: out2"), 1), 0o644)
		(cli{t: t}).ok("ceremony", "run", f.script, "--pins", f.pins, "--confirm-file", confirmations(t, f.script, nil))
	})
	t.Run("after generation", func(t *testing.T) {
		f := newCeremonyFixture(t)
		cfg := existingInstallation(t, f)
		install := filepath.Dir(cfg)
		confirm := confirmations(t, f.script, func(l string) string {
			if strings.Contains(l, "fingerprints of CA issuing") {
				return strings.Replace(l, "martin yes", "martin no the fingerprint read aloud differs", 1)
			}
			return l
		})
		r := (cli{t: t}).run("ceremony", "run", f.script, "--pins", f.pins, "--confirm-file", confirm)
		if r.code == 0 {
			t.Fatalf("exit 0\n%s", r.stdout)
		}
		tr := readTranscript(t, f.outputs)
		if tr.Status != ceremony.StatusAborted || tr.Signer == nil || len(tr.CAs) != 1 || tr.CAs[0].ID != "issuing" {
			t.Fatalf("transcript: %s, CAs %+v", tr.Status, tr.CAs)
		}
		if !strings.Contains(strings.Join(tr.Abort.Remains, "\n"), "CA issuing EXISTS") {
			t.Errorf("remains: %v", tr.Abort.Remains)
		}
		if n := dbRows(t, install, `SELECT COUNT(*) FROM cas WHERE id = 'issuing'`)[0][0]; n != "1" {
			t.Error("the issuing CA is not in the database")
		}
		(cli{t: t, config: cfg}).ok("ceremony", "verify", f.outputs)
	})
}

// A script whose key share holders differ from the configuration's is
// refused, every problem named, before anything is created (KEY-2, KEY-8).
func TestKEY8_HoldersMismatchRefusedBeforeAnythingIsCreated(t *testing.T) {
	f := newCeremonyFixture(t)
	holders := []string{"alice", "bob", "carol", "dave", "zoe"} // erin is missing, zoe holds nothing
	os.WriteFile(f.script, []byte(scriptText("sceau.yaml", "ca", []string{"root", "issuing"}, holders)), 0o644)
	none := filepath.Join(f.dir, "no-confirmations.txt")
	os.WriteFile(none, nil, 0o600)
	r := (cli{t: t}).run("ceremony", "run", f.script, "--pins", f.pins, "--confirm-file", none)
	if r.code == 0 {
		t.Fatal("the ceremony ran")
	}
	for _, want := range []string{"erin holds a share of CA \"issuing\"", "zoe takes part as key-share-holder but holds no share", "nothing was created"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
	for _, p := range []string{filepath.Join(f.dir, "ca"), f.outputs} {
		if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s was created", p)
		}
	}
}

// The outputs directory must not exist or be empty: a ceremony never
// overwrites its outputs, and refuses before creating anything (KEY-8).
func TestKEY8_CeremonyRefusesToOverwriteOutputs(t *testing.T) {
	f := newCeremonyFixture(t)
	os.WriteFile(f.script, []byte(scriptText("sceau.yaml", "ca", []string{"root", "issuing"}, ceremonyHolders)), 0o644)
	os.MkdirAll(f.outputs, 0o700)
	os.WriteFile(filepath.Join(f.outputs, "transcript.json"), []byte("an earlier transcript"), 0o644)
	none := filepath.Join(f.dir, "no-confirmations.txt")
	os.WriteFile(none, nil, 0o600)
	r := (cli{t: t}).run("ceremony", "run", f.script, "--pins", f.pins, "--confirm-file", none)
	if r.code == 0 || !strings.Contains(r.stderr, "never overwrites its outputs") {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(f.dir, "ca")); !errors.Is(err, os.ErrNotExist) {
		t.Error("the installation was created")
	}
	if b, _ := os.ReadFile(filepath.Join(f.outputs, "transcript.json")); string(b) != "an earlier transcript" {
		t.Error("the earlier transcript was overwritten")
	}
}

var stepLine = regexp.MustCompile(`^(\d+) `)

func stepNumber(line string) (int, bool) {
	m := stepLine.FindStringSubmatch(line)
	if m == nil {
		return 0, false
	}
	n := 0
	for _, c := range m[1] {
		n = n*10 + int(c-'0')
	}
	return n, true
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
