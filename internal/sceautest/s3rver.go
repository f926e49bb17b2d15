package sceautest

import (
	"net"
	"net/http"
	"os"
	"os/exec"
	"testing"
	"time"
)

// StartS3rver starts s3rver (the npm package: an S3-compatible server) on
// 127.0.0.1 with the given buckets, stopped with the test, and returns its
// endpoint (http://127.0.0.1:port). Its access and secret keys are both
// "S3RVER". It skips the test when s3rver is not installed (a failure under
// SCEAU_TEST_REQUIRE_ALL=1): set SCEAU_TEST_S3RVER to its path, or put it
// on PATH (npm install -g s3rver@3.7.1).
func StartS3rver(t testing.TB, buckets ...string) string {
	t.Helper()
	bin := os.Getenv("SCEAU_TEST_S3RVER")
	if bin == "" {
		bin = LookPath(t, "s3rver", "npm install -g s3rver@3.7.1, or set SCEAU_TEST_S3RVER")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	ln.Close()
	args := []string{"-d", t.TempDir(), "-a", "127.0.0.1", "-p", port, "--silent"}
	for _, b := range buckets {
		args = append(args, "--configure-bucket", b)
	}
	cmd := exec.Command(bin, args...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	endpoint := "http://127.0.0.1:" + port
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if resp, err := http.Get(endpoint + "/"); err == nil {
			resp.Body.Close()
			return endpoint
		}
	}
	t.Fatalf("s3rver did not answer on %s", endpoint)
	return ""
}
