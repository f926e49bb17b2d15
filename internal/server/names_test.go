package server_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/sceau/sceau/internal/keys"
	"github.com/sceau/sceau/internal/sceautest"
	"github.com/sceau/sceau/internal/server"
)

// TestCA2_AdminRefusesBareWildcardIPDNSNameAndTinyValidity (issue 11,
// defect 4): through the API, a CSR with DNS:* or DNS:127.0.0.1 and a
// validity of 1ns are refused with 400 and a message naming the value,
// on the CSR path and the PKCS#12 path, and nothing is recorded.
func TestCA2_AdminRefusesBareWildcardIPDNSNameAndTinyValidity(t *testing.T) {
	db := sceautest.OpenSQLite(t)
	f := newFixture(t, db)
	key := sceautest.NewKey(t, keys.ECDSAP256)
	csr := func(dns ...string) string { return csrPEM(sceautest.CSR(t, key, "www.example.org", dns...)) }
	tests := []struct {
		name, path, body, msg string
	}{
		{"DNS:*", "/api/v1/certificates", jsonBody(t, server.IssueRequest{CA: "issuing", Profile: "server", CSR: csr("*")}), `dNSName "*"`},
		{"DNS:127.0.0.1", "/api/v1/certificates", jsonBody(t, server.IssueRequest{CA: "issuing", Profile: "server", CSR: csr("127.0.0.1")}),
			`dNSName "127.0.0.1"`},
		{"validity 1ns", "/api/v1/certificates", jsonBody(t, server.IssueRequest{CA: "issuing", Profile: "server", CSR: csr("www.example.org"),
			Validity: "1ns"}), `server: validity: "1ns" is shorter than the minimum 1h0m0s`},
		{"PKCS#12 DNS:*", "/api/v1/certificates/pkcs12", jsonBody(t, server.PKCS12Request{CA: "issuing", Profile: "server", KeyType: "ecdsa-p256",
			Subject: server.Subject{CommonName: "x"}, DNS: []string{"*"}}), `dNSName "*"`},
		{"PKCS#12 validity 1ns", "/api/v1/certificates/pkcs12", jsonBody(t, server.PKCS12Request{CA: "issuing", Profile: "server",
			KeyType: "ecdsa-p256", Subject: server.Subject{CommonName: "x"}, DNS: []string{"www.example.org"}, Validity: "1ns"}), `"1ns"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := countCertificates(t, db)
			w := f.call(t, http.MethodPost, tc.path, tc.body)
			if w.Code != http.StatusBadRequest {
				t.Fatalf("status %d, want 400: %s", w.Code, w.Body)
			}
			if eb := errorOf(t, w); !strings.Contains(eb.Error, tc.msg) || eb.Kind != "invalid" {
				t.Errorf("error %+v, want an invalid error containing %q", eb, tc.msg)
			}
			if after := countCertificates(t, db); after != before {
				t.Errorf("certificates: %d rows before, %d after a refused request", before, after)
			}
		})
	}
}
