package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sceau/sceau/internal/access"
)

// initCreds are the credentials init or account create printed for a person.
type initCreds struct{ password, totp string }

var credsBlock = regexp.MustCompile(`account:\s+(\S+)[^\n]*\n\s+password:\s+(\S+)[^\n]*\n\s+TOTP:\s+(\S+)`)

// printedCredentials reads the credentials blocks of a command's output.
func printedCredentials(out string) map[string]initCreds {
	m := map[string]initCreds{}
	for _, g := range credsBlock.FindAllStringSubmatch(out, -1) {
		m[g[1]] = initCreds{g[2], g[3]}
	}
	return m
}

// person is someone at a terminal of the installation: their own session
// file, their password in a file, their TOTP secret.
type person struct {
	t       *testing.T
	c       cli
	name    string
	session string
	pwFile  string
	secret  string
}

func newPerson(t *testing.T, c cli, tmp, name string, cr initCreds) *person {
	p := &person{t: t, c: c, name: name, session: filepath.Join(tmp, name+".session"), pwFile: filepath.Join(tmp, name+".pw"), secret: cr.totp}
	if err := os.WriteFile(p.pwFile, []byte(cr.password+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// run runs sceau at this person's terminal.
func (p *person) run(args ...string) result {
	p.t.Helper()
	p.t.Setenv("SCEAU_SESSION_FILE", p.session)
	return p.c.run(args...)
}

func (p *person) ok(args ...string) result {
	p.t.Helper()
	p.t.Setenv("SCEAU_SESSION_FILE", p.session)
	return p.c.ok(args...)
}

// login logs in with the current TOTP code.
func (p *person) login() result {
	p.t.Helper()
	code, err := access.TOTPCode(p.secret, time.Now())
	if err != nil {
		p.t.Fatal(err)
	}
	return p.ok("login", "--account", p.name, "--password-file", p.pwFile, "--totp", code)
}

// firstLogin logs in and replaces the initial password.
func (p *person) firstLogin() {
	p.t.Helper()
	r := p.login()
	if !strings.Contains(r.stdout, "initial one") {
		p.t.Fatalf("first login of %s does not ask to change the password:\n%s", p.name, r.stdout)
	}
	next := filepath.Join(filepath.Dir(p.pwFile), p.name+".pw2")
	os.WriteFile(next, []byte("a fine passphrase for "+strings.ToUpper(p.name[:1])+" 2026\n"), 0o600)
	p.ok("account", "passwd", "--password-file", p.pwFile, "--new-password-file", next)
	p.pwFile = next
}

var requestID = regexp.MustCompile(`Request ([0-9a-f]{16}):`)

// TestROLE3_TwoTerminalsApproveARoleGrant drives the command line as three
// Security Officers at their own terminals would: init makes them, each
// logs in and replaces the initial password, one requests a role grant, the
// requester's own approval is refused, the other two approve, the new
// Registration & Revocation Officer appears in the personnel records.
func TestROLE3_TwoTerminalsApproveARoleGrant(t *testing.T) {
	tmp := t.TempDir()
	dir := filepath.Join(tmp, "ca")
	pub, adm := freeAddr(t), freeAddr(t)
	r := (cli{t: t}).ok("init", "--dir", dir, "--public", pub, "--admin", adm,
		"--security-officer", "so1", "--security-officer", "so2", "--security-officer", "so3")
	creds := printedCredentials(r.stdout)
	for _, so := range []string{"so1", "so2", "so3"} {
		if creds[so].password == "" || creds[so].totp == "" {
			t.Fatalf("init did not print the credentials of %s:\n%s", so, r.stdout)
		}
	}
	if !strings.Contains(r.stdout, `account "operator", Registration & Revocation Officer`) {
		t.Errorf("init does not say whom operator.pem authenticates:\n%s", r.stdout)
	}
	c := cli{t: t, config: filepath.Join(dir, "sceau.yaml")}
	startServe(t, c.config, pub)

	// Without a login, the terminal's certificate is the operator.
	nobody := &person{t: t, c: c, session: filepath.Join(tmp, "none.session")}
	if r := nobody.ok("whoami"); !strings.Contains(r.stdout, "Account:   operator") || !strings.Contains(r.stdout, "Registration & Revocation Officer") {
		t.Fatalf("whoami without login:\n%s", r.stdout)
	}
	if r := nobody.run("account", "list"); r.code == 0 || !strings.Contains(r.stderr, "needs the role Security Officer") {
		t.Fatalf("account list as operator: %d %s", r.code, r.stderr)
	}

	so1 := newPerson(t, c, tmp, "so1", creds["so1"])
	// A wrong password is refused and says nothing more.
	bad := filepath.Join(tmp, "bad.pw")
	os.WriteFile(bad, []byte("not the password at all\n"), 0o600)
	if r := so1.run("login", "--account", "so1", "--password-file", bad, "--totp", "000000"); r.code == 0 ||
		!strings.Contains(r.stderr, "wrong account, password or TOTP code") {
		t.Fatalf("bad login: %d %s", r.code, r.stderr)
	}
	so1.login()
	if fi, err := os.Stat(so1.session); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("session file: %v %v", fi, err)
	}
	if r := so1.run("account", "create", "bob", "--full-name", "Bob Martin", "--yes"); r.code == 0 || !strings.Contains(r.stderr, "initial password") {
		t.Fatalf("account create before the password change: %d %s", r.code, r.stderr)
	}
	next := filepath.Join(tmp, "so1.pw2")
	os.WriteFile(next, []byte("password123456\n"), 0o600)
	if r := so1.run("account", "passwd", "--password-file", so1.pwFile, "--new-password-file", next); r.code != 2 || !strings.Contains(r.stderr, "common password") {
		t.Fatalf("common new password: %d %s", r.code, r.stderr)
	}
	os.WriteFile(next, []byte("a fine passphrase for S 2026\n"), 0o600)
	so1.ok("account", "passwd", "--password-file", so1.pwFile, "--new-password-file", next)
	so1.pwFile = next
	if r := so1.ok("whoami"); !strings.Contains(r.stdout, "Account:   so1") || !strings.Contains(r.stdout, "password+totp") {
		t.Fatalf("whoami after login:\n%s", r.stdout)
	}

	// Dry run, then the account.
	if r := so1.ok("account", "create", "bob", "--full-name", "Bob Martin"); !strings.Contains(r.stdout, "would create") {
		t.Fatalf("dry run: %s", r.stdout)
	}
	r = so1.ok("account", "create", "bob", "--full-name", "Bob Martin", "--yes")
	if bc := printedCredentials(r.stdout)["bob"]; bc.password == "" || bc.totp == "" {
		t.Fatalf("account create did not print the credentials:\n%s", r.stdout)
	}
	// A grant that breaks separation of duties is refused at once.
	if r := so1.run("role", "grant", "so2", "system-auditor", "--yes"); r.code != 2 || !strings.Contains(r.stderr, "§5.2.4") {
		t.Fatalf("SO + Auditor: %d %s", r.code, r.stderr)
	}
	r = so1.ok("role", "grant", "bob", "registration-officer", "--yes")
	m := requestID.FindStringSubmatch(r.stdout)
	if m == nil || !strings.Contains(r.stdout, "needs 2 approvals") {
		t.Fatalf("role grant:\n%s", r.stdout)
	}
	id := m[1]
	if r := so1.run("approval", "approve", id, "--yes"); r.code == 0 || !strings.Contains(r.stderr, "cannot approve") {
		t.Fatalf("self-approval: %d %s", r.code, r.stderr)
	}

	so2 := newPerson(t, c, tmp, "so2", creds["so2"])
	so2.firstLogin()
	if r := so2.ok("approval", "list"); !strings.Contains(r.stdout, id) || !strings.Contains(r.stdout, "0/2") {
		t.Fatalf("approval list:\n%s", r.stdout)
	}
	if r := so2.ok("approval", "approve", id); !strings.Contains(r.stdout, "would approve") {
		t.Fatalf("approve without --yes:\n%s", r.stdout)
	}
	if r := so2.ok("approval", "approve", id, "--yes"); !strings.Contains(r.stdout, "1 of 2 approvals") {
		t.Fatalf("first approval:\n%s", r.stdout)
	}
	if r := so2.run("approval", "approve", id, "--yes"); r.code == 0 || !strings.Contains(r.stderr, "counts once") {
		t.Fatalf("second approval by so2: %d %s", r.code, r.stderr)
	}
	so3 := newPerson(t, c, tmp, "so3", creds["so3"])
	so3.firstLogin()
	if r := so3.ok("approval", "approve", id, "--yes"); !strings.Contains(r.stdout, "executed: bob is a Registration & Revocation Officer") {
		t.Fatalf("second approval:\n%s", r.stdout)
	}

	// The personnel record, with an attestation.
	so1.ok("people", "attest", "bob", "--kind", "background-check", "--date", "2026-01-05", "--by", "HR (J. Martin)", "--yes")
	r = so1.ok("people", "show", "bob")
	for _, want := range []string{"Bob Martin", "Roles now: Registration & Revocation Officer", "granted Registration & Revocation Officer by so1 (approval " + id + ")",
		"background-check attested by HR (J. Martin), recorded by so1"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("people show bob lacks %q:\n%s", want, r.stdout)
		}
	}
	var rec access.PersonRecord
	if err := json.Unmarshal([]byte(so1.ok("people", "show", "bob", "--json").stdout), &rec); err != nil || len(rec.Assignments) != 1 {
		t.Fatalf("people show --json: %v %+v", err, rec)
	}

	// Logout: the terminal is the operator again; the token is gone.
	so1.ok("logout")
	if _, err := os.Stat(so1.session); !os.IsNotExist(err) {
		t.Errorf("session file after logout: %v", err)
	}
	if r := so1.ok("whoami"); !strings.Contains(r.stdout, "Account:   operator") {
		t.Errorf("whoami after logout:\n%s", r.stdout)
	}
	// A stale token is refused with a clear way out.
	os.WriteFile(so1.session, []byte(`{"token":"sceau_stale","account":"so1"}`), 0o600)
	if r := so1.run("cert", "list"); r.code == 0 || !strings.Contains(r.stderr, "log in again") {
		t.Errorf("stale session: %d %s", r.code, r.stderr)
	}
	so1.ok("logout")
}

func TestROLE1_DemoCreatesOnePersonPerRole(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "demo")
	r := (cli{t: t}).ok("demo", "--exit", "--dir", dir, "--public", freeAddr(t), "--admin", freeAddr(t), "--enroll", freeAddr(t))
	if !strings.Contains(r.stdout, "DEMO CREDENTIALS, NOT FOR PRODUCTION") {
		t.Fatalf("demo output does not mark the credentials as demo:\n%s", r.stdout)
	}
	var list []struct {
		access.Credentials
		Roles []access.Role `json:"roles"`
	}
	b, err := os.ReadFile(filepath.Join(dir, "demo-credentials.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &list); err != nil {
		t.Fatal(err)
	}
	held := map[access.Role]bool{}
	for _, p := range list {
		for _, role := range p.Roles {
			held[role] = true
		}
		if p.Password == "" || p.TOTP == nil || p.MustChangePassword {
			t.Errorf("demo person %s: %+v", p.Account, p.Credentials)
		}
	}
	for _, role := range access.Roles {
		if !held[role] {
			t.Errorf("no demo person holds %s", role)
		}
	}
	if fi, _ := os.Stat(filepath.Join(dir, "demo-credentials.json")); fi == nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("demo-credentials.json mode: %v", fi)
	}
}
