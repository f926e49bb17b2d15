package e2e

import (
	"bufio"
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/sceau/sceau/internal/server"
)

// adminGet calls GET https://admin/api/v1/cas with cfg, on a fresh connection.
func adminGet(cfg *tls.Config) (*http.Response, []byte, error) {
	tr := &http.Transport{TLSClientConfig: cfg, DisableKeepAlives: true, ForceAttemptHTTP2: true}
	defer tr.CloseIdleConnections()
	c := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	resp, err := c.Get("https://" + install.admin + "/api/v1/cas")
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, b, err
}

// foreignClientCert is a client certificate from a CA the admin listener
// does not trust, with the operator's name.
func foreignClientCert(t *testing.T) tls.Certificate {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Sceau administration CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, caKey.Public(), caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, _ := x509.ParseCertificate(caDER)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "operator", OrganizationalUnit: []string{"operators"}},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour), KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, key.Public(), caKey)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der, caDER}, PrivateKey: key}
}

func TestSYS2_AdminRefusesConnectionWithoutClientCertificate(t *testing.T) {
	adminDir := filepath.Join(install.dir, "admin")
	caPEM, err := os.ReadFile(filepath.Join(adminDir, "admin-ca.pem"))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		t.Fatal("admin-ca.pem holds no certificate")
	}
	operator, err := tls.LoadX509KeyPair(filepath.Join(adminDir, "operator.pem"), filepath.Join(adminDir, "operator-key.pem"))
	if err != nil {
		t.Fatal(err)
	}

	foreign := foreignClientCert(t)
	refused := []struct {
		name string
		cfg  *tls.Config
		want string // in the error, when not empty
	}{
		{"no client certificate", &tls.Config{RootCAs: pool}, ""},
		// GetClientCertificate: crypto/tls would otherwise withhold a
		// certificate that does not match the server's acceptable CAs.
		{"client certificate from another CA", &tls.Config{RootCAs: pool,
			GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &foreign, nil }}, "unknown certificate authority"},
		{"TLS 1.2 with the operator certificate", &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{operator},
			MaxVersion: tls.VersionTLS12}, "protocol version"},
	}
	for _, tc := range refused {
		t.Run(tc.name, func(t *testing.T) {
			resp, body, err := adminGet(tc.cfg)
			if err == nil {
				t.Fatalf("the admin listener answered %s: %s", resp.Status, body)
			}
			if tc.want != "" && !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want it to mention %q", err, tc.want)
			}
			t.Logf("refused: %v", err)
		})
	}

	t.Run("handshake alone", func(t *testing.T) {
		// TLS 1.3 sends the client's certificate after the server's Finished:
		// the server's refusal arrives on the first read.
		conn, err := tls.Dial("tcp", install.admin, &tls.Config{RootCAs: pool, NextProtos: []string{"http/1.1"}})
		if err != nil {
			return // refused during the handshake: fine
		}
		defer conn.Close()
		_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
		fmt.Fprintf(conn, "GET /api/v1/cas HTTP/1.1\r\nHost: %s\r\n\r\n", install.admin)
		b, err := io.ReadAll(conn)
		if err == nil && len(b) > 0 || bytes.Contains(b, []byte("key_type")) {
			t.Errorf("an unauthenticated connection got an answer: %q", b)
		}
	})

	t.Run("plain HTTP", func(t *testing.T) {
		resp, err := http.Get("http://" + install.admin + "/api/v1/cas")
		if err != nil {
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode == http.StatusOK || bytes.Contains(b, []byte("key_type")) {
			t.Errorf("plain HTTP to the admin listener: %s %s", resp.Status, b)
		}
	})

	t.Run("operator certificate", func(t *testing.T) {
		resp, body, err := adminGet(&tls.Config{RootCAs: pool, Certificates: []tls.Certificate{operator}, ServerName: "127.0.0.1"})
		if err != nil {
			t.Fatalf("the operator is refused: %v", err)
		}
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %s", resp.Status, body)
		}
		if resp.TLS == nil || resp.TLS.Version != tls.VersionTLS13 {
			t.Errorf("the admin connection is not TLS 1.3: %+v", resp.TLS)
		}
		var cas []server.CAInfo
		if err := json.Unmarshal(body, &cas); err != nil || len(cas) != 2 {
			t.Errorf("GET /api/v1/cas: %v %s", err, body)
		}
	})
}

// rawRequest sends exactly the request line given to the public listener,
// bypassing any client-side path cleaning.
func rawRequest(t *testing.T, method, target string) (*http.Response, []byte) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", strings.TrimPrefix(install.base, "http://"), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(conn, "%s %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\nContent-Length: 2\r\n\r\n{}", method, target,
		strings.TrimPrefix(install.base, "http://"))
	resp, err := http.ReadResponse(bufio.NewReader(conn), &http.Request{Method: method})
	if err != nil {
		t.Fatalf("%s %s: %v", method, target, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

// looksLikeAdminData tells whether a body holds what only the admin API says.
func looksLikeAdminData(b []byte) bool {
	for _, s := range []string{`"key_type"`, `"profiles"`, `"serial"`, "sceau_issuance_total", "go_goroutines"} {
		if bytes.Contains(b, []byte(s)) {
			return true
		}
	}
	return false
}

func TestSYS2_PublicListenerExposesNothingWritable(t *testing.T) {
	adminPaths := []string{"/api/v1/cas", "/api/v1/cas/issuing", "/api/v1/cas/issuing/crl", "/api/v1/certificates",
		"/api/v1/certificates/pkcs12", "/api/v1/certificates/x/revoke", "/metrics"}
	for _, p := range adminPaths {
		for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodPatch} {
			resp, b := rawRequest(t, m, p)
			if resp.StatusCode != http.StatusNotFound && resp.StatusCode != http.StatusMethodNotAllowed {
				t.Errorf("%s %s on the public listener: %s, want 404 or 405", m, p, resp.Status)
			}
			if looksLikeAdminData(b) {
				t.Errorf("%s %s on the public listener leaks admin data: %s", m, p, b)
			}
		}
	}

	// The holders' routes live on the enrollment listener, not here.
	for _, p := range []string{"/revoke", "/api/v1/revocation-requests", "/pkcs12/x"} {
		if resp, _ := rawRequest(t, http.MethodPost, p); resp.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("POST %s on the public listener: %s, want 405", p, resp.Status)
		}
	}

	publicPaths := []string{"/", "/ca/root.der", "/ca/issuing.pem", "/ca/issuing.txt", "/crl/issuing.crl", "/ocsp", "/ocsp/", "/healthz"}
	for _, p := range publicPaths {
		for _, m := range []string{http.MethodPut, http.MethodDelete, http.MethodPatch} {
			resp, _ := rawRequest(t, m, p)
			if resp.StatusCode != http.StatusMethodNotAllowed {
				t.Errorf("%s %s: %s, want 405", m, p, resp.Status)
			}
		}
		// POST is for OCSP only.
		if !strings.HasPrefix(p, "/ocsp") {
			if resp, _ := rawRequest(t, http.MethodPost, p); resp.StatusCode != http.StatusMethodNotAllowed {
				t.Errorf("POST %s: %s, want 405", p, resp.Status)
			}
		}
	}

	tricks := []string{
		"/ca/../api/v1/cas", "//api/v1/cas", "/ca/%2e%2e/api/v1/cas", "/ca/%2e%2e/api", "/ca/..%2fapi/v1/cas",
		"/%61pi/v1/cas", "/./api/v1/cas", "/crl/../metrics", "/ocsp/../api/v1/certificates", "/ocsp/..%2f..%2fapi%2fv1%2fcas",
		"/API/V1/CAS", "/api/v1/cas/", "/healthz/../api/v1/cas",
	}
	for _, p := range tricks {
		for _, m := range []string{http.MethodGet, http.MethodPost} {
			resp, b := rawRequest(t, m, p)
			if looksLikeAdminData(b) {
				t.Errorf("%s %s reached admin data: %s %s", m, p, resp.Status, b)
			}
			switch {
			case resp.StatusCode >= 300 && resp.StatusCode < 400:
				// A redirect to the cleaned path: follow it (same method, as
				// for 307/308); it must lead nowhere.
				loc, err := url.Parse(resp.Header.Get("Location"))
				if err != nil {
					t.Fatalf("%s %s: bad Location %q", m, p, resp.Header.Get("Location"))
				}
				r2, b2 := rawRequest(t, m, loc.RequestURI())
				if r2.StatusCode != http.StatusNotFound && r2.StatusCode != http.StatusMethodNotAllowed || looksLikeAdminData(b2) {
					t.Errorf("%s %s redirects to %s, which answers %s", m, p, loc, r2.Status)
				}
			case resp.StatusCode == http.StatusOK:
				// Only an OCSP error response may answer 200 here.
				if resp.Header.Get("Content-Type") != "application/ocsp-response" {
					t.Errorf("%s %s: 200 %s", m, p, resp.Header.Get("Content-Type"))
				} else if _, err := ocsp.ParseResponse(b, nil); err == nil {
					t.Errorf("%s %s: a successful OCSP response", m, p)
				}
			case resp.StatusCode == http.StatusNotFound, resp.StatusCode == http.StatusMethodNotAllowed, resp.StatusCode == http.StatusBadRequest:
			default:
				t.Errorf("%s %s: %s", m, p, resp.Status)
			}
		}
	}
}

// TestSYS2_EnrollmentListenerIsHTTPSAndApart: the enrollment listener
// answers over TLS with a certificate from the admin CA for its host,
// serves the holders' form and EST's cacerts, requires no client
// certificate (it requests one, optional, for EST re-enrollment), and
// routes neither the admin API nor the public repository.
func TestSYS2_EnrollmentListenerIsHTTPSAndApart(t *testing.T) {
	caPEM, err := os.ReadFile(filepath.Join(install.dir, "admin", "admin-ca.pem"))
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(caPEM)
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}}
	get := func(method, path string) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequest(method, "https://"+install.enroll+path, nil)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	resp, body := get("GET", "/revoke")
	if resp.StatusCode != 200 || !strings.Contains(body, `<form method="post"`) || resp.TLS == nil {
		t.Fatalf("GET /revoke: %s %s", resp.Status, body)
	}
	// CA-4: EST (RFC 7030) is served here, without a client certificate.
	if resp, body := get("GET", "/.well-known/est/issuing/cacerts"); resp.StatusCode != 200 ||
		!strings.HasPrefix(resp.Header.Get("Content-Type"), "application/pkcs7-mime") || len(body) < 100 {
		t.Errorf("EST cacerts on the enrollment listener: %s %q", resp.Status, resp.Header.Get("Content-Type"))
	}
	if r, err := http.Get(install.base + "/.well-known/est/issuing/cacerts"); err == nil {
		r.Body.Close()
		if r.StatusCode != http.StatusNotFound {
			t.Errorf("EST on the public listener: %s", r.Status)
		}
	}
	for _, p := range []string{"/api/v1/cas", "/metrics", "/ca/root.der", "/crl/issuing.crl", "/ocsp"} {
		if resp, body := get("GET", p); resp.StatusCode != http.StatusNotFound || looksLikeAdminData([]byte(body)) {
			t.Errorf("GET %s on the enrollment listener: %s", p, resp.Status)
		}
	}
	// Plain HTTP is not served.
	if r, err := (&http.Client{Timeout: 5 * time.Second}).Get("http://" + install.enroll + "/revoke"); err == nil {
		r.Body.Close()
		if r.StatusCode < 400 {
			t.Errorf("plain HTTP to the enrollment listener: %s", r.Status)
		}
	}
}

var fingerprintLine = func(name string) func(string) string {
	return func(s string) string {
		for _, l := range strings.Split(s, "\n") {
			if v, ok := strings.CutPrefix(l, name+": "); ok {
				return strings.TrimSpace(v)
			}
		}
		return ""
	}
}

func TestPUB1_PublicServesCACertificatesAndFingerprints(t *testing.T) {
	certs := map[string]*x509.Certificate{}
	for _, id := range []string{"root", "issuing"} {
		resp, der := httpGet(t, install.base+"/ca/"+id+".der")
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/pkix-cert" {
			t.Fatalf("/ca/%s.der: %s %q", id, resp.Status, resp.Header.Get("Content-Type"))
		}
		c, err := x509.ParseCertificate(der)
		if err != nil {
			t.Fatalf("/ca/%s.der: %v", id, err)
		}
		certs[id] = c
		blk, _ := pem.Decode(mustGet(t, install.base+"/ca/"+id+".pem"))
		if blk == nil || blk.Type != "CERTIFICATE" || !bytes.Equal(blk.Bytes, der) {
			t.Errorf("/ca/%s.pem is not the PEM form of /ca/%s.der", id, id)
		}
		txt := string(mustGet(t, install.base+"/ca/"+id+".txt"))
		s1, s2 := sha1.Sum(der), sha256.Sum256(der)
		if got, want := fingerprintLine("SHA-1")(txt), hex.EncodeToString(s1[:]); !strings.EqualFold(got, want) {
			t.Errorf("/ca/%s.txt SHA-1 %q, computed %s", id, got, want)
		}
		if got, want := fingerprintLine("SHA-256")(txt), hex.EncodeToString(s2[:]); !strings.EqualFold(got, want) {
			t.Errorf("/ca/%s.txt SHA-256 %q, computed %s", id, got, want)
		}
		if !strings.Contains(txt, c.Subject.String()) {
			t.Errorf("/ca/%s.txt does not name the subject %s:\n%s", id, c.Subject, txt)
		}
	}
	root, issuing := certs["root"], certs["issuing"]
	if err := root.CheckSignatureFrom(root); err != nil {
		t.Errorf("root is not self-signed: %v", err)
	}
	if err := issuing.CheckSignatureFrom(root); err != nil {
		t.Errorf("issuing is not signed by root: %v", err)
	}

	// The people's pages: the home page links every CA, and each CA's page,
	// in French and in English, shows its fingerprints as openssl x509
	// -fingerprint prints them.
	colons := func(b []byte) string {
		h := strings.ToUpper(hex.EncodeToString(b))
		var out []string
		for i := 0; i < len(h); i += 2 {
			out = append(out, h[i:i+2])
		}
		return strings.Join(out, ":")
	}
	for _, lang := range []string{"fr", "en"} {
		home := string(mustGet(t, install.base+"/"+lang+"/"))
		for id, c := range certs {
			if !strings.Contains(home, `href="/`+lang+`/ca/`+id+`"`) {
				t.Errorf("the %s home page does not link the page of %s", lang, c.Subject)
			}
			page := string(mustGet(t, install.base+"/"+lang+"/ca/"+id))
			s1, s2 := sha1.Sum(c.Raw), sha256.Sum256(c.Raw)
			if !strings.Contains(page, colons(s2[:])) || !strings.Contains(page, colons(s1[:])) {
				t.Errorf("the %s page of %s lacks its SHA-256 or SHA-1 fingerprint", lang, c.Subject)
			}
		}
	}

	for id, signer := range map[string]*x509.Certificate{"root": root, "issuing": issuing} {
		resp, der := httpGet(t, install.base+"/crl/"+id+".crl")
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/pkix-crl" {
			t.Fatalf("/crl/%s.crl: %s %q", id, resp.Status, resp.Header.Get("Content-Type"))
		}
		crl, err := x509.ParseRevocationList(der)
		if err != nil {
			t.Fatalf("/crl/%s.crl: %v", id, err)
		}
		if err := crl.CheckSignatureFrom(signer); err != nil {
			t.Errorf("/crl/%s.crl signature: %v", id, err)
		}
		if !crl.NextUpdate.After(time.Now()) {
			t.Errorf("/crl/%s.crl is stale: nextUpdate %s", id, crl.NextUpdate)
		}
	}

	// Every URL written into a leaf, and into the issuing CA, resolves here.
	leaf, _ := issueServerCert(t, t.TempDir(), "urls.example.org")
	for _, c := range []*x509.Certificate{leaf, issuing} {
		if len(c.CRLDistributionPoints) == 0 || len(c.IssuingCertificateURL) == 0 || len(c.OCSPServer) == 0 {
			t.Fatalf("%s lacks CDP, AIA caIssuers or OCSP: %v %v %v", c.Subject, c.CRLDistributionPoints, c.IssuingCertificateURL, c.OCSPServer)
		}
		for _, u := range c.CRLDistributionPoints {
			if !strings.HasPrefix(u, install.base+"/") {
				t.Errorf("CDP %s is not on the public listener %s", u, install.base)
			}
			if _, err := x509.ParseRevocationList(mustGet(t, u)); err != nil {
				t.Errorf("CDP %s: %v", u, err)
			}
		}
		for _, u := range c.IssuingCertificateURL {
			parent, err := x509.ParseCertificate(mustGet(t, u))
			if err != nil {
				t.Fatalf("AIA caIssuers %s: %v", u, err)
			}
			if err := c.CheckSignatureFrom(parent); err != nil {
				t.Errorf("the certificate at AIA caIssuers %s did not sign %s: %v", u, c.Subject, err)
			}
		}
	}
	req, err := ocsp.CreateRequest(leaf, issuing, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range leaf.OCSPServer {
		r, err := ocsp.ParseResponseForCert(ocspPost(t, u, req), leaf, issuing)
		if err != nil || r.Status != ocsp.Good {
			t.Errorf("OCSP POST %s: %v", u, err)
		}
		resp, body := httpGet(t, u+"/"+url.QueryEscape(base64.StdEncoding.EncodeToString(req)))
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("OCSP GET under %s: %s", u, resp.Status)
		}
		if r, err := ocsp.ParseResponseForCert(body, leaf, issuing); err != nil || r.Status != ocsp.Good {
			t.Errorf("OCSP GET under %s: %v", u, err)
		}
	}
}
