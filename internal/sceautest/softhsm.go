package sceautest

import (
	"crypto/rand"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// softHSMModules are the places distributions install the SoftHSM2 module.
var softHSMModules = []string{
	"/usr/lib/softhsm/libsofthsm2.so",
	"/usr/lib/*/softhsm/libsofthsm2.so",
	"/usr/lib64/softhsm/libsofthsm2.so",
	"/usr/lib64/pkcs11/libsofthsm2.so",
	"/usr/local/lib/softhsm/libsofthsm2.so",
	"/opt/homebrew/lib/softhsm/libsofthsm2.so",
}

// SoftHSMModule returns the path of the SoftHSM2 PKCS#11 module, or "" when
// it is not installed.
func SoftHSMModule() string {
	for _, pattern := range softHSMModules {
		matches, _ := filepath.Glob(pattern)
		for _, m := range matches {
			if fi, err := os.Stat(m); err == nil && fi.Mode().IsRegular() {
				return m
			}
		}
	}
	return ""
}

// SoftHSM gives the test a fresh SoftHSM2 token in a temporary directory and
// returns the module path, the token label and the user PIN. It skips the
// test when softhsm2-util or the module is missing.
//
// It points SOFTHSM2_CONF at its own configuration with t.Setenv, so a test
// using it cannot call t.Parallel. SoftHSM2 reads SOFTHSM2_CONF when the
// module is initialised, that is when the first PKCS#11 context of the
// process opens it: every store the test activates must be deactivated
// before it ends (t.Cleanup), or the next test sees this test's tokens.
func SoftHSM(t testing.TB) (module, label, pin string) {
	t.Helper()
	util, err := exec.LookPath("softhsm2-util")
	if err != nil {
		Missing(t, "softhsm2-util", "apt-get install softhsm2")
	}
	module = SoftHSMModule()
	if module == "" {
		Missing(t, "the SoftHSM2 module libsofthsm2.so", "apt-get install softhsm2")
	}
	dir := t.TempDir()
	tokens := filepath.Join(dir, "tokens")
	if err := os.Mkdir(tokens, 0o700); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(dir, "softhsm2.conf")
	text := "directories.tokendir = " + tokens + "\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n"
	if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SOFTHSM2_CONF", conf)
	label = "sceau-test"
	pin = initToken(t, util, conf, label)
	return module, label, pin
}

// SoftHSMExtraToken initialises one more token, labelled label, next to the
// one SoftHSM made, and returns its user PIN. Call it after SoftHSM and
// before activating any store of the test: SoftHSM2 lists the tokens of its
// directory when the module is initialised.
func SoftHSMExtraToken(t testing.TB, label string) (pin string) {
	t.Helper()
	conf := os.Getenv("SOFTHSM2_CONF")
	if conf == "" {
		t.Fatal("sceautest: SoftHSMExtraToken needs SoftHSM to be called first")
	}
	util, err := exec.LookPath("softhsm2-util")
	if err != nil {
		Missing(t, "softhsm2-util", "apt-get install softhsm2")
	}
	return initToken(t, util, conf, label)
}

func initToken(t testing.TB, util, conf, label string) (pin string) {
	t.Helper()
	pin, soPIN := randomPIN(t), randomPIN(t)
	cmd := exec.Command(util, "--init-token", "--free", "--label", label, "--so-pin", soPIN, "--pin", pin)
	cmd.Env = append(os.Environ(), "SOFTHSM2_CONF="+conf)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("sceautest: softhsm2-util --init-token %q: %v\n%s", label, err, out)
	}
	return pin
}

func randomPIN(t testing.TB) string {
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}
