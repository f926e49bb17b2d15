package main

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/sceau/sceau/internal/ceremony"
	"github.com/sceau/sceau/internal/node"
	"github.com/sceau/sceau/internal/sceautest"
)

// parentConfig is the default configuration whose root CA key is under a
// 2-of-3 activation policy (alice, bob, carol) and whose issuing CA key is
// split 2 of 2 (dave, erin).
func parentConfig(t *testing.T) string {
	t.Helper()
	pub, adm := freeAddr(t), freeAddr(t)
	cfg := string(node.RenderConfig(node.ConfigValues{Org: "Parent Test", PublicListen: pub, AdminListen: adm, BaseURL: "http://" + pub}))
	for _, r := range []struct{ at, activation string }{
		{"    key_type: ecdsa-p384\n", "    activation:\n      threshold: 2\n      holders: [alice, bob, carol]\n"},
		{"    path_len: 0\n", "    activation:\n      threshold: 2\n      holders: [dave, erin]\n"},
	} {
		if strings.Count(cfg, r.at) != 1 {
			t.Fatalf("the configuration template has %d lines %q", strings.Count(cfg, r.at), r.at)
		}
		cfg = strings.Replace(cfg, r.at, r.at+r.activation, 1)
	}
	return cfg
}

// auditRow is one journal event as stored.
type auditRow struct {
	seq                                  int
	actor, role, action, object, details string
}

// journalSince returns the events after seq whose object is one of objects
// or whose action starts with "ceremony.".
func journalSince(t *testing.T, install string, seq int, objects ...string) []auditRow {
	t.Helper()
	var out []auditRow
	for _, r := range dbRows(t, install, `SELECT seq, actor, role, action, object, details FROM audit_events WHERE seq > `+strconv.Itoa(seq)+` ORDER BY seq`) {
		n, _ := strconv.Atoi(r[0])
		e := auditRow{seq: n, actor: r[1], role: r[2], action: r[3], object: r[4], details: r[5]}
		keep := strings.HasPrefix(e.action, "ceremony.")
		for _, o := range objects {
			keep = keep || e.object == o
		}
		if keep {
			out = append(out, e)
		}
	}
	return out
}

func lastSeq(t *testing.T, install string) int {
	t.Helper()
	n, _ := strconv.Atoi(dbRows(t, install, `SELECT COALESCE(MAX(seq), 0) FROM audit_events`)[0][0])
	return n
}

// summary renders events as "action object actor" lines, for comparison.
func summary(events []auditRow) string {
	var b strings.Builder
	for _, e := range events {
		b.WriteString(e.action + " " + e.object + " " + e.actor + "\n")
	}
	return b.String()
}

func stepOf(t *testing.T, tr *ceremony.Transcript, kind ceremony.StepKind) ceremony.StepRecord {
	t.Helper()
	for _, s := range tr.Steps {
		if s.Kind == kind {
			return s
		}
	}
	t.Fatalf("the transcript has no %s step", kind)
	return ceremony.StepRecord{}
}

// A root CA is created at a first ceremony with its key under a 2-of-3
// activation policy. A second ceremony creates an issuing CA under it with
// `activate: [root]`: the root's holders present their shares inside the
// ceremony before the root signs (KEY-2, KEY-8). With one share in, the
// ceremony aborts cleanly: no CA, no half-registered split, the aborted
// transcript signed and archived; a wrong PIN aborts it as cleanly, counted
// and journalled. With two, the issuing CA is created, its
// certificate chains to the root under openssl, the transcript verifies,
// and the journal names the holders who presented and the security officer
// who conducted.
func TestKEY8_CeremonyActivatesAnExistingParentToSignASubordinate(t *testing.T) {
	sceautest.NeedOpenSSL(t)
	f := newCeremonyFixture(t)
	full := parentConfig(t)
	os.WriteFile(f.config, []byte(rootOnly(full)), 0o644)

	// 1. The first ceremony creates the installation and its root CA,
	// whose activation secret is split 2 of 3.
	os.WriteFile(f.script, []byte(scriptText("sceau.yaml", "ca", []string{"root"}, []string{"alice", "bob", "carol"})), 0o644)
	(cli{t: t}).ok("ceremony", "run", f.script, "--pins", f.pins, "--confirm-file", confirmations(t, f.script, nil))
	first := readTranscript(t, f.outputs)
	if first.Status != ceremony.StatusCompleted || len(first.CAs) != 1 || first.CAs[0].Split == nil ||
		first.CAs[0].Split.Threshold != 2 || first.CAs[0].Split.Total != 3 {
		t.Fatalf("first ceremony: %s, CAs %+v", first.Status, first.CAs)
	}
	install := filepath.Join(f.dir, "ca")
	cfg := filepath.Join(install, "sceau.yaml")
	rootPEM := filepath.Join(f.outputs, "root.pem")

	// The holders take their share files away: the machine keeps none.
	// Alice's goes to the ceremony's medium, bob's stays at home for now;
	// carol keeps hers: two shares are enough, she is never asked.
	media, home := filepath.Join(f.dir, "media"), filepath.Join(f.dir, "bob-home")
	for _, d := range []string{filepath.Join(media, "root"), home} {
		os.MkdirAll(d, 0o700)
	}
	for h, dst := range map[string]string{
		"alice": filepath.Join(media, "root", "alice.share"),
		"bob":   filepath.Join(home, "bob.share"),
		"carol": filepath.Join(f.dir, "carol.share"),
	} {
		src := filepath.Join(install, "shares", "root", h+".share")
		if err := os.Rename(src, dst); err != nil {
			t.Fatal(err)
		}
	}

	// 2. The issuing CA is declared; the root's key must sign it.
	if err := os.WriteFile(cfg, []byte(full), 0o644); err != nil {
		t.Fatal(err)
	}
	script := func(outputs string) string {
		p := filepath.Join(f.dir, outputs+".yaml")
		s := scriptText(cfg, "", []string{"issuing"}, []string{"alice", "bob", "carol", "dave", "erin"})
		s = strings.Replace(s, "cas: [issuing]\n", "activate: [root]\ncas: [issuing]\n", 1)
		s = strings.Replace(s, "outputs: out\n", "outputs: "+outputs+"\n", 1)
		os.WriteFile(p, []byte(s), 0o644)
		return p
	}
	// Without activate, the script is refused before anything is created.
	noActivate := filepath.Join(f.dir, "no-activate.yaml")
	os.WriteFile(noActivate, []byte(strings.Replace(string(must(os.ReadFile(script("unused")))), "activate: [root]\n", "", 1)), 0o644)
	if r := (cli{t: t}).run("ceremony", "plan", noActivate); r.code == 0 || !strings.Contains(r.stderr, `list "root" under activate`) {
		t.Fatalf("a script without activate: exit %d\n%s", r.code, r.stderr)
	}

	refusedScript := script("out-refused")
	plan := (cli{t: t}).ok("ceremony", "plan", refusedScript).stdout
	if !strings.Contains(plan, "sophie") || !strings.Contains(plan, "activate CA root to sign: 2 of its 3 key share holders present their shares") {
		t.Fatalf("the plan has no activation step for the security officer:\n%s", plan)
	}

	// 2a. Only alice's share reaches the ceremony: one of two. The
	// generation fails, and the ceremony aborts cleanly.
	mark := lastSeq(t, install)
	refusedOut := filepath.Join(f.dir, "out-refused")
	r := (cli{t: t}).run("ceremony", "run", refusedScript, "--pins", f.pins, "--shares", media, "--confirm-file", confirmations(t, refusedScript, nil))
	if r.code == 0 || !strings.Contains(r.stderr, "aborted at step") || !strings.Contains(r.stderr, `no share file of bob for CA "root"`) {
		t.Fatalf("one share of two: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	tr := readTranscript(t, refusedOut)
	gen := stepOf(t, tr, ceremony.StepGenerate)
	if tr.Status != ceremony.StatusAborted || tr.Signer == nil || tr.Abort == nil || tr.Abort.Step != gen.N || gen.Result != ceremony.ResultFailed {
		t.Fatalf("aborted transcript: status %s, signer %+v, abort %+v, generate %+v", tr.Status, tr.Signer, tr.Abort, gen)
	}
	if len(tr.CAs) != 0 || !strings.Contains(strings.Join(gen.Outcome, "\n"), "alice presented their share of CA root") {
		t.Errorf("aborted transcript: CAs %+v, generation outcome %q", tr.CAs, gen.Outcome)
	}
	remains := strings.Join(tr.Abort.Remains, "\n")
	for _, want := range []string{"registered split was discarded", "no CA was created"} {
		if !strings.Contains(remains, want) {
			t.Errorf("remains lacks %q: %v", want, tr.Abort.Remains)
		}
	}
	// Nothing half-made: no CA, no split, no share, no keystore.
	if n := dbRows(t, install, `SELECT COUNT(*) FROM cas WHERE id = 'issuing'`)[0][0]; n != "0" {
		t.Error("the issuing CA exists after the aborted ceremony")
	}
	for _, q := range []string{`SELECT COUNT(*) FROM key_splits WHERE key_id = 'ca-issuing'`, `SELECT COUNT(*) FROM key_shares WHERE key_id = 'ca-issuing'`} {
		if n := dbRows(t, install, q)[0][0]; n != "0" {
			t.Errorf("%s: %s", q, n)
		}
	}
	for _, p := range []string{filepath.Join(install, "keys", "ca-issuing"), filepath.Join(install, "shares", "issuing")} {
		if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s exists after the aborted ceremony: %v", p, err)
		}
	}
	if rows := dbRows(t, install, `SELECT status FROM ceremony_transcripts WHERE id = '`+tr.ID+`'`); len(rows) != 1 || rows[0][0] != "aborted" {
		t.Errorf("the aborted transcript is not archived: %v", rows)
	}
	if v := (cli{t: t, config: cfg}).ok("ceremony", "verify", refusedOut); !strings.Contains(v.stdout, "ABORTED at step") {
		t.Errorf("verify of the aborted transcript: %s", v.stdout)
	}
	events := journalSince(t, install, mark, "key:ca-root", "key:ca-issuing")
	want := "ceremony.started ceremony:" + tr.ID + " sophie\n" +
		"key.split_registered key:ca-issuing sophie\n" +
		"key.activation_started key:ca-root sophie\n" +
		"key.share_presented key:ca-root alice\n" +
		"key.split_discarded key:ca-issuing sophie\n" +
		"ceremony.aborted ceremony:" + tr.ID + " sophie\n"
	if got := summary(events); got != want {
		t.Errorf("journal of the aborted ceremony:\n%s\nwant:\n%s", got, want)
	}

	// 2b. Bob brings his share but types a wrong PIN: refused, counted and
	// journalled in his name as with 'sceau ca activate'; the ceremony
	// aborts as cleanly.
	os.Rename(filepath.Join(home, "bob.share"), filepath.Join(media, "bob.share"))
	wrongPins := filepath.Join(f.dir, "wrong-pins")
	os.MkdirAll(filepath.Join(wrongPins, "root"), 0o700)
	for _, h := range []string{"alice", "dave", "erin"} {
		os.WriteFile(filepath.Join(wrongPins, h+".pin"), must(os.ReadFile(filepath.Join(f.pins, h+".pin"))), 0o600)
	}
	os.WriteFile(filepath.Join(wrongPins, "root", "bob.pin"), []byte("not-bobs-pin\n"), 0o600)
	wrongScript := script("out-wrong-pin")
	mark = lastSeq(t, install)
	r = (cli{t: t}).run("ceremony", "run", wrongScript, "--pins", wrongPins, "--shares", media, "--confirm-file", confirmations(t, wrongScript, nil))
	if r.code == 0 || !strings.Contains(r.stderr, "wrong PIN for bob's share (1 of") {
		t.Fatalf("bob's wrong PIN: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if tr := readTranscript(t, filepath.Join(f.dir, "out-wrong-pin")); tr.Status != ceremony.StatusAborted || tr.Signer == nil || len(tr.CAs) != 0 {
		t.Errorf("wrong PIN transcript: %s, signer %+v, CAs %+v", tr.Status, tr.Signer, tr.CAs)
	}
	if n := dbRows(t, install, `SELECT (SELECT COUNT(*) FROM cas WHERE id = 'issuing') + (SELECT COUNT(*) FROM key_splits WHERE key_id = 'ca-issuing')`)[0][0]; n != "0" {
		t.Error("the wrong PIN left the issuing CA or its split")
	}
	if n := dbRows(t, install, `SELECT failures FROM key_shares WHERE key_id = 'ca-root' AND holder = 'bob'`)[0][0]; n != "1" {
		t.Errorf("bob's wrong PIN counted %s times, want 1", n)
	}
	if got := summary(journalSince(t, install, mark, "key:ca-root")); !strings.Contains(got, "key.share_presented key:ca-root alice\nkey.share_wrong_pin key:ca-root bob\n") ||
		strings.Contains(got, "key.activated") {
		t.Errorf("journal of the wrong PIN:\n%s", got)
	}

	// 2c. Bob types his PIN: two of three. The ceremony completes without
	// asking carol, whose share is not there.
	okScript := script("out-ok")
	okOut := filepath.Join(f.dir, "out-ok")
	mark = lastSeq(t, install)
	run := (cli{t: t}).ok("ceremony", "run", okScript, "--pins", f.pins, "--shares", media, "--confirm-file", confirmations(t, okScript, nil))
	if strings.Contains(run.stdout, "pin-secret") {
		t.Fatal("a PIN reached the screen")
	}
	tr = readTranscript(t, okOut)
	if tr.Status != ceremony.StatusCompleted || tr.Abort != nil || tr.Signer == nil || len(tr.CAs) != 1 || tr.CAs[0].ID != "issuing" {
		t.Fatalf("transcript: %s, abort %+v, CAs %+v", tr.Status, tr.Abort, tr.CAs)
	}
	if act := stepOf(t, tr, ceremony.StepActivate); act.Participant != "sophie" || act.Result != ceremony.ResultDone {
		t.Errorf("activation step: %+v", act)
	}
	outcome := strings.Join(stepOf(t, tr, ceremony.StepGenerate).Outcome, "\n")
	for _, w := range []string{"alice presented their share of CA root", "bob presented their share of CA root", "CA root activated by 2 of its 3 key share holders"} {
		if !strings.Contains(outcome, w) {
			t.Errorf("generation outcome lacks %q:\n%s", w, outcome)
		}
	}
	if n := dbRows(t, install, `SELECT failures FROM key_shares WHERE key_id = 'ca-root' AND holder = 'bob'`)[0][0]; n != "0" {
		t.Errorf("bob's failures after his share was accepted: %s", n)
	}
	if strings.Contains(outcome+run.stdout, "carol: present") {
		t.Errorf("carol was asked for her share after the root was activated:\n%s", run.stdout)
	}
	if sp := tr.CAs[0].Split; sp == nil || sp.Threshold != 2 || sp.Total != 2 || len(sp.Shares) != 2 {
		t.Errorf("issuing split: %+v", sp)
	}

	// 3. openssl, as an independent checker: the issuing CA chains to the
	// root of the first ceremony.
	issuingPEM := filepath.Join(okOut, "issuing.pem")
	out, err := exec.Command("openssl", "verify", "-CAfile", rootPEM, issuingPEM).CombinedOutput()
	if err != nil || !strings.Contains(string(out), issuingPEM+": OK") {
		t.Fatalf("openssl verify: %v\n%s", err, out)
	}
	// And it does not chain to a root of another installation.
	other := filepath.Join(f.dir, "other-root.pem")
	if out, err := exec.Command("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-384", "-nodes",
		"-keyout", filepath.Join(f.dir, "other.key"), "-out", other, "-subj", "/CN=Parent Test Root CA/O=Parent Test/C=FR", "-days", "1").CombinedOutput(); err != nil {
		t.Fatalf("openssl req: %v\n%s", err, out)
	}
	if out, err := exec.Command("openssl", "verify", "-CAfile", other, issuingPEM).CombinedOutput(); err == nil {
		t.Fatalf("openssl verify accepts the issuing CA under another root:\n%s", out)
	}
	root, issuing := readCertPEM(t, rootPEM), readCertPEM(t, issuingPEM)
	if issuing.Issuer.String() != root.Subject.String() || tr.CAs[0].Issuer != root.Subject.String() {
		t.Errorf("issuer %q (transcript %q), root %q", issuing.Issuer, tr.CAs[0].Issuer, root.Subject)
	}

	// The transcript verifies against the key the witness wrote down at the
	// first ceremony, and against the installation, where it is archived.
	if tr.Signer.Fingerprint != first.Signer.Fingerprint {
		t.Errorf("the transcript key changed: %s, then %s", first.Signer.Fingerprint, tr.Signer.Fingerprint)
	}
	if v := (cli{t: t}).ok("ceremony", "verify", okOut, "--key-fingerprint", ceremony.Grouped(first.Signer.Fingerprint)); !strings.Contains(v.stdout, "OK: transcript "+tr.ID) {
		t.Errorf("verify: %s", v.stdout)
	}
	if v := (cli{t: t, config: cfg}).ok("ceremony", "verify", okOut); !strings.Contains(v.stdout, "COMPLETED") || !strings.Contains(v.stdout, "Archived in the database") {
		t.Errorf("verify against the installation: %s", v.stdout)
	}

	// 4. The journal: the security officer opens the activation, each
	// holder presents in their own name, the root is activated in the
	// security officer's name, who also creates the issuing CA's split; all
	// inside the ceremony's own started … completed events, so that the
	// activation is not one "outside a ceremony".
	events = journalSince(t, install, mark, "key:ca-root", "key:ca-issuing")
	want = "ceremony.started ceremony:" + tr.ID + " sophie\n" +
		"key.split_registered key:ca-issuing sophie\n" +
		"key.activation_started key:ca-root sophie\n" +
		"key.share_presented key:ca-root alice\n" +
		"key.share_presented key:ca-root bob\n" +
		"key.activated key:ca-root sophie\n" +
		"ceremony.completed ceremony:" + tr.ID + " sophie\n"
	if got := summary(events); got != want {
		t.Errorf("journal of the ceremony:\n%s\nwant:\n%s", got, want)
	}
	for _, e := range events {
		switch e.action {
		case "key.activation_started", "key.activated", "key.split_registered":
			if e.role != "security-officer" {
				t.Errorf("%s: role %q, want the security officer", e.action, e.role)
			}
		case "key.share_presented":
			if !strings.Contains(e.details, `"holder":"`+e.actor+`"`) {
				t.Errorf("%s by %s: details %s", e.action, e.actor, e.details)
			}
		}
		if e.action == "key.activated" && !(strings.Contains(e.details, `"alice"`) && strings.Contains(e.details, `"bob"`)) {
			t.Errorf("key.activated does not name the holders: %s", e.details)
		}
	}
	if rows := dbRows(t, install, `SELECT actor FROM audit_events WHERE action = 'ca.created' AND seq > `+strconv.Itoa(mark)); len(rows) != 1 || rows[0][0] != "sophie" {
		t.Errorf("ca.created: %v, want one event by sophie", rows)
	}
}
