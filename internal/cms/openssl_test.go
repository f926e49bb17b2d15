package cms

import (
	"bytes"
	"crypto/x509"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
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

// opensslVerify is how a client checks a publication without Sceau.
func opensslVerify(t *testing.T, dir, sig, content string) ([]byte, error) {
	t.Helper()
	return openssl(t, dir, "cms", "-verify", "-binary", "-inform", "DER", "-in", sig, "-content", content,
		"-CAfile", "root.pem", "-purpose", "any", "-out", "verified")
}

var (
	ed25519Once sync.Once
	ed25519Err  error // why openssl cannot do CMS with Ed25519, nil if it can
)

// needOpenSSLFor skips the test for a kind of key openssl cannot use in CMS.
// OpenSSL 3.0 to 3.6 cannot sign nor verify a CMS signature with Ed25519
// (openssl/openssl#11915, #32248: "eddsa_digest_signverify_init: invalid
// digest"); the probe asks openssl alone, by making one, so a later version
// that can is tested.
func needOpenSSLFor(t *testing.T, kind string) {
	t.Helper()
	if kind != "Ed25519" {
		return
	}
	ed25519Once.Do(func() {
		dir := t.TempDir()
		p := newPKI(t, kind)
		p.writeFiles(t, dir)
		writeFile(t, dir, "manifest.json", manifest)
		if out, err := openssl(t, dir, "cms", "-sign", "-binary", "-outform", "DER", "-md", "sha512",
			"-signer", "cert.pem", "-inkey", "key.pem", "-in", "manifest.json", "-out", "sig.der"); err != nil {
			ed25519Err = fmt.Errorf("%v: %s", err, bytes.TrimSpace(out))
		}
	})
	if ed25519Err != nil {
		t.Skipf("this openssl cannot make or check an Ed25519 CMS signature: %v", ed25519Err)
	}
}

func writeFile(t *testing.T, dir, name string, data []byte) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
		t.Fatal(err)
	}
}

func readFile(t *testing.T, dir, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestPUB2_OpenSSLVerifiesOurDetachedSignature checks that a client with
// only openssl and the root can check a publication manifest: the signature
// carries the signer's certificate and the intermediate.
func TestPUB2_OpenSSLVerifiesOurDetachedSignature(t *testing.T) {
	sceautest.NeedOpenSSL(t)
	for _, kind := range keyTypes {
		t.Run(kind, func(t *testing.T) {
			needOpenSSLFor(t, kind)
			dir := t.TempDir()
			p := newPKI(t, kind)
			p.writeFiles(t, dir)
			writeFile(t, dir, "manifest.json", manifest)
			writeFile(t, dir, "manifest.json.p7s", p.sign(t, manifest, time.Now()))
			if out, err := opensslVerify(t, dir, "manifest.json.p7s", "manifest.json"); err != nil {
				t.Fatalf("openssl cms -verify: %v\n%s", err, out)
			}
			if got := readFile(t, dir, "verified"); !bytes.Equal(got, manifest) {
				t.Errorf("openssl verified %q, want the manifest", got)
			}
		})
	}
}

func TestPUB2_OpenSSLRefusesTamperedContent(t *testing.T) {
	sceautest.NeedOpenSSL(t)
	for _, kind := range keyTypes {
		t.Run(kind, func(t *testing.T) {
			needOpenSSLFor(t, kind)
			dir := t.TempDir()
			p := newPKI(t, kind)
			p.writeFiles(t, dir)
			writeFile(t, dir, "sig.der", p.sign(t, manifest, time.Now()))
			changed := bytes.Clone(manifest)
			changed[len(changed)/2] ^= 0x01
			writeFile(t, dir, "manifest.json", changed)
			if out, err := opensslVerify(t, dir, "sig.der", "manifest.json"); err == nil {
				t.Fatalf("openssl verified a changed manifest:\n%s", out)
			}
		})
	}
}

func TestPUB2_OpenSSLRefusesTamperedSignature(t *testing.T) {
	sceautest.NeedOpenSSL(t)
	at := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	for _, kind := range keyTypes {
		t.Run(kind, func(t *testing.T) {
			needOpenSSLFor(t, kind)
			dir := t.TempDir()
			p := newPKI(t, kind)
			p.writeFiles(t, dir)
			writeFile(t, dir, "manifest.json", manifest)
			sig := p.sign(t, manifest, at)
			lastByte := bytes.Clone(sig)
			lastByte[len(lastByte)-1] ^= 0x01 // in the signature value
			signingTime := bytes.Clone(sig)
			signingTime[bytes.Index(sig, []byte("261207100000Z"))+11] = '1' // in a signed attribute
			for name, tampered := range map[string][]byte{"signature value": lastByte, "signing time": signingTime} {
				writeFile(t, dir, "sig.der", tampered)
				if out, err := opensslVerify(t, dir, "sig.der", "manifest.json"); err == nil {
					t.Errorf("%s changed: openssl verified it:\n%s", name, out)
				}
			}
		})
	}
}

// TestPUB2_OpenSSLSignatureVerifies checks VerifyDetached against
// signatures it did not make: openssl adds smimeCapabilities, writes
// rsaEncryption as the RSA signature algorithm, and with -keyid names the
// signer by subject key identifier.
func TestPUB2_OpenSSLSignatureVerifies(t *testing.T) {
	sceautest.NeedOpenSSL(t)
	for _, tc := range []struct {
		name, kind string
		args       []string
		pem        bool
	}{
		{"P-256", "P-256", []string{"-md", "sha256"}, false},
		{"P-384", "P-384", []string{"-md", "sha384"}, false},
		{"P-256 with SHA-384", "P-256", []string{"-md", "sha384"}, false},
		{"RSA-2048", "RSA-2048", []string{"-md", "sha256"}, false},
		{"RSA-2048 with SHA-512", "RSA-2048", []string{"-md", "sha512"}, false},
		{"Ed25519", "Ed25519", []string{"-md", "sha512"}, false},
		{"subject key identifier", "P-256", []string{"-md", "sha256", "-keyid"}, false},
		{"with the intermediate", "P-256", []string{"-md", "sha256", "-certfile", "chain.pem"}, false},
		{"PEM", "RSA-2048", []string{"-md", "sha256"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			needOpenSSLFor(t, tc.kind)
			dir := t.TempDir()
			p := newPKI(t, tc.kind)
			p.writeFiles(t, dir)
			writeFile(t, dir, "manifest.json", manifest)
			outform := "DER"
			if tc.pem {
				outform = "PEM"
			}
			args := append([]string{"cms", "-sign", "-binary", "-outform", outform, "-signer", "cert.pem", "-inkey", "key.pem",
				"-in", "manifest.json", "-out", "sig"}, tc.args...)
			if out, err := openssl(t, dir, args...); err != nil {
				t.Fatalf("openssl cms -sign: %v\n%s", err, out)
			}
			sig := readFile(t, dir, "sig")
			if tc.pem != bytes.HasPrefix(sig, []byte("-----BEGIN CMS-----")) {
				t.Fatalf("openssl wrote %.20q", sig)
			}
			got, err := VerifyDetached(sig, manifest)
			if err != nil {
				t.Fatal(err)
			}
			if !got.Signer.Equal(p.cert) {
				t.Errorf("signer %q, want %q", got.Signer.Subject, p.cert.Subject)
			}
			if d := time.Since(got.SigningTime); d < -time.Minute || d > time.Minute {
				t.Errorf("signing time %v, want about now", got.SigningTime)
			}
			roots, inter := x509.NewCertPool(), x509.NewCertPool()
			roots.AddCert(p.root)
			for _, c := range got.Certificates {
				inter.AddCert(c)
			}
			_, err = got.Signer.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
			if withChain := len(got.Certificates) == 2; withChain != (err == nil) {
				t.Errorf("%d certificates, chain: %v", len(got.Certificates), err)
			}

			changed := bytes.Clone(manifest)
			changed[0] ^= 0x01
			_, err = VerifyDetached(sig, changed)
			wantInvalid(t, err, "the content does not match the signature's message digest")
		})
	}
}

// TestPUB2_EmbeddedContentIsRefused: a signature that carries its content
// (openssl -nodetach) is not a detached publication signature.
func TestPUB2_EmbeddedContentIsRefused(t *testing.T) {
	sceautest.NeedOpenSSL(t)
	dir := t.TempDir()
	p := newPKI(t, "P-256")
	p.writeFiles(t, dir)
	writeFile(t, dir, "manifest.json", manifest)
	if out, err := openssl(t, dir, "cms", "-sign", "-binary", "-nodetach", "-outform", "DER", "-md", "sha256",
		"-signer", "cert.pem", "-inkey", "key.pem", "-in", "manifest.json", "-out", "sig.der"); err != nil {
		t.Fatalf("openssl cms -sign -nodetach: %v\n%s", err, out)
	}
	_, err := VerifyDetached(readFile(t, dir, "sig.der"), manifest)
	wantInvalid(t, err, "the signed data holds its content (eContent); a detached signature must not")
}
