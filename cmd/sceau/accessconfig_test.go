package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/sceau/sceau/internal/access"
	"github.com/sceau/sceau/internal/audit"
	"github.com/sceau/sceau/internal/config"
	"github.com/sceau/sceau/internal/node"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/sceautest"
)

func accessConfig(t *testing.T, section string) (*config.Config, error) {
	t.Helper()
	text := string(node.RenderConfig(node.ConfigValues{Org: "Test", PublicListen: "127.0.0.1:18080", AdminListen: "127.0.0.1:18443",
		BaseURL: "http://127.0.0.1:18080"}))
	start := strings.Index(text, "access:\n")
	end := strings.Index(text, "# The CA hierarchy")
	if start < 0 || end < start {
		t.Fatal("the template has no access section")
	}
	return config.Parse([]byte(text[:start] + section + "\n" + text[end:]))
}

// TestROLE3_ApprovalCountFromConfig: access.approvals, approvals_for and
// approval_lifetime of sceau.yaml reach the dual control.
func TestROLE3_ApprovalCountFromConfig(t *testing.T) {
	cfg, err := accessConfig(t, "access:\n  approvals: 3\n  approval_lifetime: 2h\n  approvals_for: {key.destroy: 4}\n  totp_key_file: secrets/totp.key\n")
	if err != nil {
		t.Fatal(err)
	}
	cfg.DataDir = t.TempDir()
	db := sceautest.OpenSQLite(t)
	ctx := context.Background()
	o, err := node.AccessOptions(ctx, cfg, db)
	if err != nil {
		t.Fatal(err)
	}
	clock := sceautest.NewClock(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	o.Clock, o.KDF = clock, access.KDFParams{Memory: 1024, Time: 1, Threads: 1}
	svc := access.New(db, audit.NewJournal(clock), o)
	if n := svc.Approvals().Required(access.KeyDestroy); n != 4 {
		t.Errorf("key.destroy needs %d approvals, want 4", n)
	}
	var people []access.Person
	for _, n := range []string{"so1", "so2", "so3", "so4"} {
		people = append(people, access.Person{Name: n, Roles: []access.Role{access.SecurityOfficer}, Password: "tulip-anchor-violet-42"})
	}
	people = append(people, access.Person{Name: "dora", Password: "tulip-anchor-violet-42"})
	if _, err := svc.Bootstrap(ctx, sceau.System("test"), people); err != nil {
		t.Fatal(err)
	}
	so := func(n string) access.Principal {
		return access.Principal{Account: n, Roles: []access.Role{access.SecurityOfficer}, Method: access.MethodCertificate, Terminal: n}
	}
	rq, err := svc.RequestRoleGrant(ctx, so("so1"), "dora", access.RegistrationOfficer)
	if err != nil {
		t.Fatal(err)
	}
	if rq.Required != 3 || !rq.ExpiresAt.Equal(clock.Now().Add(2*time.Hour)) {
		t.Fatalf("request needs %d approvals until %s", rq.Required, rq.ExpiresAt)
	}
	for i, n := range []string{"so2", "so3", "so4"} {
		r, err := svc.Approvals().Approve(ctx, so(n), rq.ID)
		if err != nil {
			t.Fatal(err)
		}
		want := access.StatusPending
		if i == 2 {
			want = access.StatusExecuted
		}
		if r.Status != want {
			t.Fatalf("after %d approvals: %s, want %s", i+1, r.Status, want)
		}
	}
}

// TestROLE3_ApprovalConfigIsValidated: fewer than one approval, a lifetime
// out of range, or an override of an action not under dual control are
// refused before the service starts.
func TestROLE3_ApprovalConfigIsValidated(t *testing.T) {
	for section, want := range map[string]string{
		"access:\n  approvals: 0\n":                          "access.approvals",
		"access:\n  approval_lifetime: 1m\n":                 "access.approval_lifetime",
		"access:\n  approvals_for: {key.destroy: 0}\n":       "access.approvals_for.key.destroy",
		"access:\n  approvals_for: {Destroy: 2}\n":           "access.approvals_for",
		"access:\n  totp_key_file: \"\"\n":                   "access.totp_key_file",
		"access:\n  approvals: 2\n  approvers: 3\n":          "approvers",
		"access:\n  approvals_for: {role.grant: 17}\n":       "1..16",
		"access:\n  approvals: 2\n  approval_lifetime: 2x\n": "bad duration",
	} {
		if _, err := accessConfig(t, section); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want an error naming %s", section, err, want)
		}
	}
	cfg, err := accessConfig(t, "access:\n  approvals_for: {cert.issue: 2}\n")
	if err != nil {
		t.Fatal(err)
	}
	cfg.DataDir = t.TempDir()
	if _, err := node.AccessOptions(context.Background(), cfg, sceautest.OpenSQLite(t)); err == nil || !strings.Contains(err.Error(), "not an action under dual control") {
		t.Errorf("cert.issue override: %v", err)
	}
	// The defaults: 2 approvals, 24 hours.
	cfg, err = accessConfig(t, "")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Access.Approvals != 2 || cfg.Access.ApprovalLifetime.Duration != 24*time.Hour || cfg.Access.TOTPKeyFile != "secrets/totp.key" {
		t.Errorf("defaults: %+v", cfg.Access)
	}
}
