package e2e

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// TestCA4_ACMEIsServedOnTheEnrollmentListener: the ACME directory of the
// server profile answers on the enrollment listener (and not on the
// public one), its URLs are the listener's, and an account without an
// external account binding is refused (CA-4).
func TestCA4_ACMEIsServedOnTheEnrollmentListener(t *testing.T) {
	caPEM, err := os.ReadFile(filepath.Join(install.dir, "admin", "admin-ca.pem"))
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(caPEM)
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}}
	resp, err := client.Get("https://" + install.enroll + "/acme/server/directory")
	if err != nil {
		t.Fatal(err)
	}
	var dir map[string]any
	err = json.NewDecoder(resp.Body).Decode(&dir)
	resp.Body.Close()
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("directory: %s %v", resp.Status, err)
	}
	newAccount, _ := dir["newAccount"].(string)
	if !strings.HasPrefix(newAccount, "https://"+install.enroll+"/acme/server/") {
		t.Fatalf("newAccount %q is not on the enrollment listener", newAccount)
	}
	if meta, _ := dir["meta"].(map[string]any); meta["externalAccountRequired"] != true {
		t.Fatalf("meta %v", dir["meta"])
	}
	head, err := client.Head(dir["newNonce"].(string))
	if err != nil {
		t.Fatal(err)
	}
	head.Body.Close()
	nonce := head.Header.Get("Replay-Nonce")
	if nonce == "" {
		t.Fatal("no Replay-Nonce")
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: key}, &jose.SignerOptions{EmbedJWK: true,
		ExtraHeaders: map[jose.HeaderKey]any{"url": newAccount, "nonce": nonce}})
	if err != nil {
		t.Fatal(err)
	}
	jws, err := signer.Sign([]byte(`{"termsOfServiceAgreed":true}`))
	if err != nil {
		t.Fatal(err)
	}
	post, err := client.Post(newAccount, "application/jose+json", bytes.NewReader([]byte(jws.FullSerialize())))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(post.Body)
	post.Body.Close()
	if post.StatusCode != http.StatusUnauthorized || !strings.Contains(string(b), "urn:ietf:params:acme:error:externalAccountRequired") {
		t.Fatalf("newAccount without EAB: %s %s", post.Status, b)
	}
	// The public listener stays read-only: no ACME there (SYS-2).
	if r, err := http.Get(install.base + "/acme/server/directory"); err == nil {
		r.Body.Close()
		if r.StatusCode != http.StatusNotFound {
			t.Fatalf("ACME on the public listener: %s", r.Status)
		}
	}
}
