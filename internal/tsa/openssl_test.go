package tsa

import (
	"bytes"
	"crypto"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sceau/sceau/internal/sceautest"
)

// openssl runs the openssl command in dir and returns its combined output.
func openssl(t *testing.T, dir string, args ...string) ([]byte, error) {
	t.Helper()
	cmd := exec.Command("openssl", args...)
	cmd.Dir = dir
	return cmd.CombinedOutput()
}

func mustOpenSSL(t *testing.T, dir string, args ...string) string {
	t.Helper()
	out, err := openssl(t, dir, args...)
	if err != nil {
		t.Fatalf("openssl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// post sends body to the handler at url as a time-stamp query.
func post(t *testing.T, url string, body []byte) (*http.Response, []byte) {
	t.Helper()
	resp, err := http.Post(url, QueryType, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

// ARC-5: a client with only openssl asks our handler for a token and
// checks it with the root: openssl ts -query, POST, openssl ts -reply
// -text and openssl ts -verify -data. With a sub-second accuracy genTime
// has its fraction, which openssl reads too.
func TestARC5_OpenSSLVerifiesOurToken(t *testing.T) {
	sceautest.NeedOpenSSL(t)
	p := testPKI(t)
	for _, tc := range []struct {
		name     string
		accuracy time.Duration
		hash     string
		want     string // openssl's line
	}{
		{"sha256, 1s", time.Second, "-sha256", "Accuracy: 0x01 seconds, unspecified millis, unspecified micros"},
		{"sha384, 250ms", 250 * time.Millisecond, "-sha384", "Accuracy: unspecified seconds, 0xFA millis, unspecified micros"},
		{"sha512, 1.5ms", 1500 * time.Microsecond, "-sha512", "Accuracy: unspecified seconds, 0x01 millis, 0x01F4 micros"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			p.writeFiles(t, dir)
			if err := os.WriteFile(filepath.Join(dir, "item.bin"), []byte("an archived item\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			srv := httptest.NewServer(p.newUnit(t, UnitOptions{Accuracy: tc.accuracy}).Handler())
			defer srv.Close()
			mustOpenSSL(t, dir, "ts", "-query", "-data", "item.bin", tc.hash, "-cert", "-out", "req.tsq")
			query, err := os.ReadFile(filepath.Join(dir, "req.tsq"))
			if err != nil {
				t.Fatal(err)
			}
			resp, reply := post(t, srv.URL, query)
			if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != ReplyType {
				t.Fatalf("HTTP %d %s: %q", resp.StatusCode, resp.Header.Get("Content-Type"), reply)
			}
			if err := os.WriteFile(filepath.Join(dir, "resp.tsr"), reply, 0o600); err != nil {
				t.Fatal(err)
			}
			text := mustOpenSSL(t, dir, "ts", "-reply", "-in", "resp.tsr", "-text")
			for _, want := range []string{"Status: Granted.", "Policy OID: 1.2.250.1.999.1.8", "Version: 1", "Nonce: 0x", "Ordering: no", tc.want} {
				if !strings.Contains(text, want) {
					t.Errorf("openssl ts -reply -text lacks %q:\n%s", want, text)
				}
			}
			if out := mustOpenSSL(t, dir, "ts", "-verify", "-data", "item.bin", "-in", "resp.tsr", "-CAfile", "root.pem", "-untrusted", "chain.pem"); !strings.Contains(out, "Verification: OK") {
				t.Errorf("openssl ts -verify: %s", out)
			}
			if _, err := openssl(t, dir, "ts", "-verify", "-data", "root.pem", "-in", "resp.tsr", "-CAfile", "root.pem", "-untrusted", "chain.pem"); err == nil {
				t.Error("openssl ts -verify accepted the token for other data")
			}
		})
	}
}

// ARC-5: a token from Stamp, the archive's path, verifies with openssl ts
// -verify -digest -token_in; a request without -cert gets a token without
// certificates, which verifies when the unit's certificate is given.
func TestARC5_OpenSSLVerifiesAStampedToken(t *testing.T) {
	sceautest.NeedOpenSSL(t)
	p := testPKI(t)
	dir := t.TempDir()
	p.writeFiles(t, dir)
	u := p.newUnit(t, UnitOptions{Accuracy: time.Second})
	sum := sha256.Sum256([]byte("tree head 42"))
	token, err := u.Stamp(t.Context(), sum[:], crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "token.der"), token, 0o600); err != nil {
		t.Fatal(err)
	}
	if out := mustOpenSSL(t, dir, "ts", "-verify", "-digest", hex.EncodeToString(sum[:]), "-token_in", "-in", "token.der",
		"-CAfile", "root.pem", "-untrusted", "chain.pem"); !strings.Contains(out, "Verification: OK") {
		t.Errorf("openssl ts -verify: %s", out)
	}

	// No -cert: the token carries no certificate.
	if err := os.WriteFile(filepath.Join(dir, "item.bin"), []byte("item"), 0o600); err != nil {
		t.Fatal(err)
	}
	mustOpenSSL(t, dir, "ts", "-query", "-data", "item.bin", "-sha256", "-out", "req.tsq")
	query, _ := os.ReadFile(filepath.Join(dir, "req.tsq"))
	reply, err := u.Respond(t.Context(), query)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "resp.tsr"), reply, 0o600); err != nil {
		t.Fatal(err)
	}
	if out := mustOpenSSL(t, dir, "ts", "-reply", "-in", "resp.tsr", "-token_out", "-out", "bare.p7", "-text"); strings.Contains(out, "BEGIN CERTIFICATE") {
		t.Errorf("a token without certReq carries certificates")
	}
	if out, err := openssl(t, dir, "ts", "-verify", "-data", "item.bin", "-in", "resp.tsr", "-CAfile", "root.pem", "-untrusted", "chain.pem"); err == nil {
		t.Errorf("openssl verified a token without certificates and without the unit's: %s", out)
	}
	if out := mustOpenSSL(t, dir, "ts", "-verify", "-data", "item.bin", "-in", "resp.tsr", "-CAfile", "root.pem", "-untrusted", "unit.pem"); !strings.Contains(out, "Verification: OK") {
		t.Errorf("openssl ts -verify with the unit's certificate: %s", out)
	}
}
