package server_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/sceau/sceau/internal/access"
	"github.com/sceau/sceau/internal/ca"
	"github.com/sceau/sceau/internal/keys"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/sceautest"
	"github.com/sceau/sceau/internal/store"
)

func (f *accessFixture) request(t *testing.T, who, path, body string) access.Request {
	t.Helper()
	w := f.as(t, who, "", "POST", path, body)
	if w.Code != 202 {
		t.Fatalf("request by %s: %d %s", who, w.Code, w.Body)
	}
	var rq access.Request
	json.Unmarshal(w.Body.Bytes(), &rq)
	return rq
}

func (f *accessFixture) approve(t *testing.T, who, id string) access.Request {
	t.Helper()
	w := f.as(t, who, "", "POST", "/api/v1/approvals/"+id+"/approve", "{}")
	if w.Code != 200 {
		t.Fatalf("approval by %s: %d %s", who, w.Code, w.Body)
	}
	var rq access.Request
	json.Unmarshal(w.Body.Bytes(), &rq)
	return rq
}

func (f *accessFixture) revoked(t *testing.T, serial string) bool {
	t.Helper()
	rec, err := f.h.Authority.Certificate(context.Background(), serial)
	if err != nil {
		t.Fatal(err)
	}
	return rec.RevokedAt != nil
}

// TestROLE3_MassRevocationNeedsTwoApprovers: a mass revocation waits for
// two approvers other than the requester, then revokes every unexpired
// certificate of the CA at once, each with its audit event.
func TestROLE3_MassRevocationNeedsTwoApprovers(t *testing.T) {
	sceautest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		f := newAccessFixture(t, db)
		serials := []string{f.issueDirect(t), f.issueDirect(t), f.issueDirect(t)}
		if w := f.as(t, "ra", "", "POST", "/api/v1/cas/issuing/revocations", `{"reason":"notAReason"}`); w.Code != 400 {
			t.Fatalf("unknown reason: %d %s", w.Code, w.Body)
		}
		if w := f.as(t, "ra", "", "POST", "/api/v1/cas/nowhere/revocations", `{"reason":"keyCompromise"}`); w.Code != 404 {
			t.Fatalf("unknown CA: %d %s", w.Code, w.Body)
		}
		rq := f.request(t, "ra", "/api/v1/cas/issuing/revocations", `{"reason":"keyCompromise"}`)
		if rq.Required != 2 || rq.Action != access.RevokeMass {
			t.Fatalf("request %+v", rq)
		}
		// The requester cannot approve; an Auditor is not an approver.
		for _, who := range []string{"ra", "au"} {
			if w := f.as(t, who, "", "POST", "/api/v1/approvals/"+rq.ID+"/approve", "{}"); w.Code != 403 {
				t.Fatalf("approval by %s: %d %s", who, w.Code, w.Body)
			}
		}
		if r := f.approve(t, "so", rq.ID); r.Status != access.StatusPending {
			t.Fatalf("after one approval: %s", r.Status)
		}
		for _, sn := range serials {
			if f.revoked(t, sn) {
				t.Fatalf("%s revoked after one approval", sn)
			}
		}
		r := f.approve(t, "so0", rq.ID)
		if r.Status != access.StatusExecuted || !strings.Contains(r.Result, "revoked 3 certificates") {
			t.Fatalf("after two approvals: %s %s", r.Status, r.Result)
		}
		for _, sn := range serials {
			if !f.revoked(t, sn) {
				t.Errorf("%s not revoked", sn)
			}
			st, err := f.h.Revocation.Lookup(context.Background(), db, sn)
			if err != nil || !st.Revoked || st.Reason != 1 {
				t.Errorf("OCSP status of %s: %+v %v", sn, st, err)
			}
		}
		ev := f.events(t, "certificate.revoked")
		if len(ev) != 3 || ev[0].Actor != "ra" || !strings.Contains(ev[0].Details, rq.ID) {
			t.Fatalf("certificate.revoked events: %+v", ev)
		}
		// A new certificate afterwards is not touched by the executed request.
		later := f.issueDirect(t)
		if f.revoked(t, later) {
			t.Error("a certificate issued after the mass revocation is revoked")
		}
	})
}

// TestROLE3_CATerminationStopsIssuance: once two approvers approved it,
// the CA issues nothing more; CRLs go on.
func TestROLE3_CATerminationStopsIssuance(t *testing.T) {
	sceautest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		f := newAccessFixture(t, db)
		if w := f.as(t, "aa", "", "POST", "/api/v1/cas/issuing/terminate", `{}`); w.Code != 400 {
			t.Fatalf("termination without a reason: %d %s", w.Code, w.Body)
		}
		if w := f.as(t, "ra", "", "POST", "/api/v1/cas/issuing/terminate", `{"reason":"x"}`); w.Code != 403 {
			t.Fatalf("termination requested by the RA officer: %d %s", w.Code, w.Body)
		}
		rq := f.request(t, "aa", "/api/v1/cas/issuing/terminate", `{"reason":"end of service"}`)
		f.approve(t, "so", rq.ID)
		f.issueDirect(t) // still issuing with one approval
		if r := f.approve(t, "so0", rq.ID); r.Status != access.StatusExecuted {
			t.Fatalf("after two approvals: %s %s", r.Status, r.Result)
		}
		csr := sceautest.CSR(t, sceautest.NewKey(t, keys.ECDSAP256), "www.example.org", "www.example.org")
		_, err := f.h.Authority.Prepare(context.Background(), sceau.System("test"), ca.Request{CA: "issuing", Profile: "server", CSR: csr})
		if err == nil || !strings.Contains(err.Error(), "terminated") {
			t.Fatalf("issuance after termination: %v", err)
		}
		if _, err := f.h.Revocation.IssueCRL(context.Background(), sceau.System("test"), "issuing"); err != nil {
			t.Fatalf("CRL after termination: %v", err)
		}
		if ev := f.events(t, "ca.terminated"); len(ev) != 1 || ev[0].Actor != "aa" {
			t.Fatalf("ca.terminated events: %+v", ev)
		}
		// A second termination is refused when requested.
		if w := f.as(t, "so", "", "POST", "/api/v1/cas/issuing/terminate", `{"reason":"again"}`); w.Code != 409 {
			t.Fatalf("second termination: %d %s", w.Code, w.Body)
		}
	})
}

// TestROLE3_CACreationIsAuthorisedByTwoApprovers: an Application
// Administrator's request to create a declared CA authorises nothing until
// two other people approve it; an undeclared CA cannot be requested.
func TestROLE3_CACreationIsAuthorisedByTwoApprovers(t *testing.T) {
	sceautest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		f := newAccessFixture(t, db)
		ctx := context.Background()
		if w := f.as(t, "aa", "", "POST", "/api/v1/cas/nowhere/creation", `{"reason":"x"}`); w.Code != 404 {
			t.Fatalf("creation of an undeclared CA: %d %s", w.Code, w.Body)
		}
		if w := f.as(t, "so", "", "POST", "/api/v1/cas/extra/creation", `{"reason":"x"}`); w.Code != 403 {
			t.Fatalf("creation requested by a Security Officer: %d %s", w.Code, w.Body)
		}
		if _, err := access.CreationApproval(ctx, db, "extra"); sceau.KindOf(err) != sceau.NotFound || !strings.Contains(err.Error(), "request-create") {
			t.Fatalf("authorisation before any request: %v", err)
		}
		rq := f.request(t, "aa", "/api/v1/cas/extra/creation", `{"reason":"a second issuing CA"}`)
		if w := f.as(t, "aa", "", "POST", "/api/v1/approvals/"+rq.ID+"/approve", "{}"); w.Code == 200 {
			t.Fatal("the requester approved their own CA creation")
		}
		f.approve(t, "so", rq.ID)
		if _, err := access.CreationApproval(ctx, db, "extra"); sceau.KindOf(err) != sceau.NotFound {
			t.Fatalf("authorisation after one approval: %v", err)
		}
		if r := f.approve(t, "so0", rq.ID); r.Status != access.StatusExecuted {
			t.Fatalf("after two approvals: %s %s", r.Status, r.Result)
		}
		got, err := access.CreationApproval(ctx, db, "extra")
		if err != nil || got.ID != rq.ID || got.Requester != "aa" || got.Approvals != 2 {
			t.Fatalf("authorisation after two approvals: %+v, %v", got, err)
		}
	})
}
