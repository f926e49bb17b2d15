package sceautest

import (
	"os"
	"os/exec"
	"testing"
)

// RequireAllEnv, when set to 1, turns every skip for a missing component
// (openssl, SoftHSM2, s3rver, PostgreSQL, …) into a failure. .ci/run sets it
// after installing them all, so a test cannot skip unnoticed in CI.
const RequireAllEnv = "SCEAU_TEST_REQUIRE_ALL"

// Missing skips the test because component is absent, or fails it when
// SCEAU_TEST_REQUIRE_ALL=1 says every component must be there.
func Missing(t testing.TB, component, hint string) {
	t.Helper()
	if os.Getenv(RequireAllEnv) == "1" {
		t.Fatalf("%s is missing (%s) and %s=1 requires every component", component, hint, RequireAllEnv)
	}
	t.Skipf("%s is missing (%s)", component, hint)
}

// LookPath returns the path of the program name, or skips (fails under
// SCEAU_TEST_REQUIRE_ALL=1) the test when it is not installed.
func LookPath(t testing.TB, name, hint string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		Missing(t, name, hint)
	}
	return p
}

// NeedOpenSSL skips (or fails, see RequireAllEnv) the test when the openssl
// command is not installed.
func NeedOpenSSL(t testing.TB) {
	t.Helper()
	LookPath(t, "openssl", "apt-get install openssl")
}
