package server_test

import (
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/sceau/sceau/internal/access"
	"github.com/sceau/sceau/internal/sceautest"
	"github.com/sceau/sceau/internal/server"
	"github.com/sceau/sceau/internal/store"
)

// TestROLE4_PersonalCertificateStandsInForPasswordAndTOTP: a Security
// Officer has the admin CA certify a key made by the person's client; the
// certificate authenticates that person, and only them.
func TestROLE4_PersonalCertificateStandsInForPasswordAndTOTP(t *testing.T) {
	sceautest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		f := newAccessFixture(t, db)
		w := f.as(t, "so", "", "POST", "/api/v1/accounts/walker/certificates", jsonBody(t, server.PersonalCertRequest{CSR: personalCSR(t)}))
		if w.Code != 201 {
			t.Fatalf("issue: %d %s", w.Code, w.Body)
		}
		var ic access.IssuedCertificate
		json.Unmarshal(w.Body.Bytes(), &ic)
		blk, _ := pem.Decode([]byte(ic.Certificate))
		c, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		caBlk, _ := pem.Decode([]byte(ic.AdminCA))
		ca, _ := x509.ParseCertificate(caBlk.Bytes)
		pool := x509.NewCertPool()
		pool.AddCert(ca)
		if _, err := c.Verify(x509.VerifyOptions{Roots: pool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
			t.Fatalf("the certificate does not chain to the admin CA: %v", err)
		}
		if c.Subject.CommonName != "walker" || ic.Serial != fmt.Sprintf("%x", c.SerialNumber) || ic.BoundBy != "so" {
			t.Errorf("certificate %s serial %s bound by %s", c.Subject, ic.Serial, ic.BoundBy)
		}
		f.certs["walker-cert"] = c
		w = f.as(t, "walker-cert", "", "GET", "/api/v1/whoami", "")
		var who access.Whoami
		json.Unmarshal(w.Body.Bytes(), &who)
		if who.Account != "walker" || who.Method != access.MethodCertificate {
			t.Fatalf("whoami with the personal certificate: %+v", who)
		}
		if w := f.as(t, "walker-cert", "", "GET", "/api/v1/certificates", ""); w.Code != 200 {
			t.Fatalf("walker's role through the certificate: %d %s", w.Code, w.Body)
		}
		if ev := f.events(t, "account.certificate_bound"); len(ev) == 0 || ev[len(ev)-1].Actor != "so" ||
			!strings.Contains(ev[len(ev)-1].Details, ic.Serial) {
			t.Errorf("no account.certificate_bound event by so naming the serial: %+v", ev)
		}
		// The list shows it, to the Auditor too.
		w = f.as(t, "au", "", "GET", "/api/v1/accounts/walker/certificates", "")
		var list []access.BoundCertificate
		json.Unmarshal(w.Body.Bytes(), &list)
		if w.Code != 200 || len(list) != 1 || list[0].Serial != ic.Serial {
			t.Fatalf("list: %d %s", w.Code, w.Body)
		}

		// Refusals.
		for _, tc := range []struct {
			name, who, path, body string
			code                  int
			msg                   string
		}{
			{"for oneself", "so", "/api/v1/accounts/so/certificates", jsonBody(t, server.PersonalCertRequest{CSR: personalCSR(t)}), 403, "own account"},
			{"not a Security Officer", "au", "/api/v1/accounts/walker/certificates", jsonBody(t, server.PersonalCertRequest{CSR: personalCSR(t)}), 403, "Security Officer"},
			{"no CSR", "so", "/api/v1/accounts/walker/certificates", `{"csr":""}`, 400, "csr"},
			{"garbage CSR", "so", "/api/v1/accounts/walker/certificates", `{"csr":"AAAA"}`, 400, "CSR"},
			{"too long", "so", "/api/v1/accounts/walker/certificates", jsonBody(t, server.PersonalCertRequest{CSR: personalCSR(t), Validity: "17520h"}), 400, "validity"},
			{"unknown account", "so", "/api/v1/accounts/ghost/certificates", jsonBody(t, server.PersonalCertRequest{CSR: personalCSR(t)}), 404, "ghost"},
		} {
			w := f.as(t, tc.who, "", "POST", tc.path, tc.body)
			if w.Code != tc.code || !strings.Contains(errorOf(t, w).Error, tc.msg) {
				t.Errorf("%s: %d %s, want %d with %q", tc.name, w.Code, w.Body, tc.code, tc.msg)
			}
		}
	})
}

// TestROLE4_RevokedAdminCertificateIsRefused: once revoked, a personal
// certificate is refused on the very next request, as a person and as a
// terminal, with an audit event.
func TestROLE4_RevokedAdminCertificateIsRefused(t *testing.T) {
	sceautest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		f := newAccessFixture(t, db)
		c := f.personalCert(t, "walker")
		f.certs["walker-cert"] = c
		if w := f.as(t, "walker-cert", "", "GET", "/api/v1/certificates", ""); w.Code != 200 {
			t.Fatalf("before: %d %s", w.Code, w.Body)
		}
		serial := fmt.Sprintf("%x", c.SerialNumber)
		// Only a Security Officer revokes.
		if w := f.as(t, "walker-cert", "", "POST", "/api/v1/accounts/walker/certificates/"+serial+"/revoke", `{"reason":"x"}`); w.Code != 403 {
			t.Fatalf("revocation by its holder: %d %s", w.Code, w.Body)
		}
		w := f.as(t, "so", "", "POST", "/api/v1/accounts/walker/certificates/"+serial+"/revoke", `{"reason":"laptop stolen"}`)
		if w.Code != 200 {
			t.Fatalf("revoke: %d %s", w.Code, w.Body)
		}
		before := len(f.events(t, "session.refused"))
		for _, path := range []string{"/api/v1/certificates", "/api/v1/whoami"} {
			w = f.as(t, "walker-cert", "", "GET", path, "")
			if w.Code != 403 || !strings.Contains(errorOf(t, w).Error, "revoked") {
				t.Fatalf("%s after revocation: %d %s", path, w.Code, w.Body)
			}
		}
		if after := len(f.events(t, "session.refused")); after != before+2 {
			t.Errorf("session.refused events: %d, want %d", after, before+2)
		}
		if ev := f.events(t, "account.certificate_revoked"); len(ev) != 1 || ev[0].Actor != "so" || !strings.Contains(ev[0].Details, "laptop stolen") {
			t.Errorf("account.certificate_revoked events: %+v", ev)
		}
		// Twice, or an unknown serial: refused.
		if w := f.as(t, "so", "", "POST", "/api/v1/accounts/walker/certificates/"+serial+"/revoke", `{}`); w.Code != 409 {
			t.Errorf("second revocation: %d %s", w.Code, w.Body)
		}
		if w := f.as(t, "so", "", "POST", "/api/v1/accounts/walker/certificates/abcdef/revoke", `{}`); w.Code != 404 {
			t.Errorf("unknown serial: %d %s", w.Code, w.Body)
		}
		// The certificate of another person is not revoked through walker's record.
		other := fmt.Sprintf("%x", f.certs["ra"].SerialNumber)
		if w := f.as(t, "so", "", "POST", "/api/v1/accounts/walker/certificates/"+other+"/revoke", `{}`); w.Code != 404 {
			t.Errorf("another account's certificate: %d %s", w.Code, w.Body)
		}
	})
}

// TestROLE4_SuspendedAccountIsRefusedOnNextRequest: a suspension by one
// Security Officer ends the person's sessions and certificates at once;
// resuming gives the account back.
func TestROLE4_SuspendedAccountIsRefusedOnNextRequest(t *testing.T) {
	sceautest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		f := newAccessFixture(t, db)
		login := func() *httptest.ResponseRecorder {
			f.clock.Advance(30 * time.Second)
			code, _ := access.TOTPCode(f.creds["walker"].TOTP.Secret, f.clock.Now())
			return f.as(t, "terminal", "", "POST", "/api/v1/login", jsonBody(t, server.LoginRequest{Account: "walker", Password: testPassword, TOTP: code}))
		}
		w := login()
		var s access.Session
		json.Unmarshal(w.Body.Bytes(), &s)
		if w := f.as(t, "terminal", s.Token, "GET", "/api/v1/certificates", ""); w.Code != 200 {
			t.Fatalf("before: %d %s", w.Code, w.Body)
		}
		if w := f.as(t, "so", "", "POST", "/api/v1/accounts/walker/suspend", `{}`); w.Code != 400 || !strings.Contains(errorOf(t, w).Error, "reason") {
			t.Fatalf("suspension without a reason: %d %s", w.Code, w.Body)
		}
		if w := f.as(t, "ra", "", "POST", "/api/v1/accounts/walker/suspend", `{"reason":"x"}`); w.Code != 403 {
			t.Fatalf("suspension by a non Security Officer: %d %s", w.Code, w.Body)
		}
		w = f.as(t, "so", "", "POST", "/api/v1/accounts/walker/suspend", `{"reason":"under investigation"}`)
		var a access.Account
		json.Unmarshal(w.Body.Bytes(), &a)
		if w.Code != 200 || a.Status != access.AccountSuspended || a.StatusBy != "so" {
			t.Fatalf("suspend: %d %s", w.Code, w.Body)
		}
		if w := f.as(t, "terminal", s.Token, "GET", "/api/v1/certificates", ""); w.Code != 403 {
			t.Fatalf("session after the suspension: %d %s", w.Code, w.Body)
		}
		if w := login(); w.Code != 403 {
			t.Fatalf("login while suspended: %d %s", w.Code, w.Body)
		}
		if ev := f.events(t, "login.refused"); len(ev) == 0 || !strings.Contains(ev[len(ev)-1].Details, "suspended") {
			t.Errorf("login.refused events: %+v", ev)
		}
		// A person authenticated by certificate is refused too.
		f.as(t, "so", "", "POST", "/api/v1/accounts/ra/suspend", `{"reason":"leave"}`)
		if w := f.as(t, "ra", "", "GET", "/api/v1/certificates", ""); w.Code != 403 || !strings.Contains(errorOf(t, w).Error, "suspended") {
			t.Fatalf("certificate of a suspended account: %d %s", w.Code, w.Body)
		}
		if w := f.as(t, "so", "", "POST", "/api/v1/accounts/walker/suspend", `{"reason":"again"}`); w.Code != 409 {
			t.Errorf("second suspension: %d %s", w.Code, w.Body)
		}
		// Resume: never oneself; then the person logs in again.
		if w := f.as(t, "so", "", "POST", "/api/v1/accounts/so/resume", `{}`); w.Code != 403 {
			t.Errorf("resuming oneself: %d %s", w.Code, w.Body)
		}
		if w := f.as(t, "so0", "", "POST", "/api/v1/accounts/walker/resume", `{"reason":"cleared"}`); w.Code != 200 {
			t.Fatalf("resume: %d %s", w.Code, w.Body)
		}
		if w := f.as(t, "terminal", s.Token, "GET", "/api/v1/certificates", ""); w.Code != 403 {
			t.Errorf("the old session after resuming: %d %s", w.Code, w.Body)
		}
		if w := login(); w.Code != 201 {
			t.Fatalf("login after resuming: %d %s", w.Code, w.Body)
		}
		for _, ev := range []string{"account.suspended", "account.resumed"} {
			if len(f.events(t, ev)) == 0 {
				t.Errorf("no %s event", ev)
			}
		}
	})
}

// TestROLE4_LastSecurityOfficerIsNeverDisabled: suspension and deletion
// refuse the last active Security Officer.
func TestROLE4_LastSecurityOfficerIsNeverDisabled(t *testing.T) {
	sceautest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		f := newAccessFixture(t, db)
		if w := f.as(t, "so", "", "POST", "/api/v1/accounts/so0/suspend", `{"reason":"x"}`); w.Code != 200 {
			t.Fatalf("suspending one of two officers: %d %s", w.Code, w.Body)
		}
		for _, path := range []string{"/api/v1/accounts/so/suspend"} {
			if w := f.as(t, "so", "", "POST", path, `{"reason":"x"}`); w.Code != 409 || !strings.Contains(errorOf(t, w).Error, "last active Security Officer") {
				t.Errorf("%s: %d %s", path, w.Code, w.Body)
			}
		}
		if w := f.as(t, "so", "", "DELETE", "/api/v1/accounts/so", `{"reason":"x"}`); w.Code != 409 || !strings.Contains(errorOf(t, w).Error, "last active Security Officer") {
			t.Errorf("deleting the last officer: %d %s", w.Code, w.Body)
		}
	})
}

// TestROLE4_DeletedAccountIsDisabledAndItsHistoryKept: deletion disables
// for good and closes the roles, and every record stays.
func TestROLE4_DeletedAccountIsDisabledAndItsHistoryKept(t *testing.T) {
	sceautest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		f := newAccessFixture(t, db)
		if w := f.as(t, "so", "", "DELETE", "/api/v1/accounts/ra", `{}`); w.Code != 400 {
			t.Fatalf("deletion without a reason: %d %s", w.Code, w.Body)
		}
		w := f.as(t, "so", "", "DELETE", "/api/v1/accounts/ra", `{"reason":"left the company"}`)
		var a access.Account
		json.Unmarshal(w.Body.Bytes(), &a)
		if w.Code != 200 || a.Status != access.AccountDeleted || len(a.Roles) != 0 || a.Password || a.TOTP {
			t.Fatalf("delete: %d %s", w.Code, w.Body)
		}
		if len(a.Certificates) != 1 || a.Certificates[0].RevokedAt == nil {
			t.Errorf("certificates after deletion: %+v", a.Certificates)
		}
		if w := f.as(t, "ra", "", "GET", "/api/v1/whoami", ""); w.Code != 403 {
			t.Errorf("the deleted person's certificate: %d %s", w.Code, w.Body)
		}
		w = f.as(t, "au", "", "GET", "/api/v1/people/ra", "")
		var rec access.PersonRecord
		json.Unmarshal(w.Body.Bytes(), &rec)
		if w.Code != 200 || len(rec.Assignments) != 1 || rec.Assignments[0].RemovedAt == nil {
			t.Fatalf("the personnel record is kept, its role closed: %d %s", w.Code, w.Body)
		}
		if len(f.events(t, "account.deleted")) != 1 || len(f.events(t, "role.removed")) != 1 {
			t.Error("no account.deleted and role.removed events")
		}
		for _, tc := range []struct{ method, path, body string }{
			{"DELETE", "/api/v1/accounts/ra", `{"reason":"again"}`},
			{"POST", "/api/v1/accounts/ra/suspend", `{"reason":"x"}`},
			{"POST", "/api/v1/accounts/ra/resume", `{}`},
			{"PATCH", "/api/v1/accounts/ra", `{"full_name":"Back Again"}`},
			{"POST", "/api/v1/accounts/ra/certificates", jsonBody(t, server.PersonalCertRequest{CSR: personalCSR(t)})},
			{"POST", "/api/v1/accounts", `{"name":"ra","full_name":"Same Name"}`},
		} {
			if w := f.as(t, "so", "", tc.method, tc.path, tc.body); w.Code != 409 {
				t.Errorf("%s %s on a deleted account: %d %s", tc.method, tc.path, w.Code, w.Body)
			}
		}
	})
}

// TestROLE4_AccountChangeIsJournaled: the change names the old and new
// values; an unchanged or invalid name is refused.
func TestROLE4_AccountChangeIsJournaled(t *testing.T) {
	f := newAccessFixture(t, sceautest.OpenSQLite(t))
	if w := f.as(t, "so", "", "PATCH", "/api/v1/accounts/walker", `{"full_name":"Wanda Walker"}`); w.Code != 200 {
		t.Fatalf("change: %d %s", w.Code, w.Body)
	}
	ev := f.events(t, "account.changed")
	if len(ev) != 1 || ev[0].Actor != "so" || ev[0].Role != "security-officer" || !strings.Contains(ev[0].Details, "Wanda Walker") {
		t.Fatalf("account.changed: %+v", ev)
	}
	for body, code := range map[string]int{`{"full_name":"Wanda Walker"}`: 409, `{"full_name":""}`: 400, `{"full_name":"a\u0007b"}`: 400} {
		if w := f.as(t, "so", "", "PATCH", "/api/v1/accounts/walker", body); w.Code != code {
			t.Errorf("%s: %d, want %d", body, w.Code, code)
		}
	}
	if w := f.as(t, "au", "", "PATCH", "/api/v1/accounts/walker", `{"full_name":"Other"}`); w.Code != 403 {
		t.Errorf("change by the Auditor: %d", w.Code)
	}
}
