package access_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sceau/sceau/internal/access"
	"github.com/sceau/sceau/internal/audit"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/sceautest"
	"github.com/sceau/sceau/internal/store"
)

func detail(t *testing.T, r audit.Record, key string) any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(r.Details), &m); err != nil {
		t.Fatal(err)
	}
	return m[key]
}

func TestPUB4_LockoutAfterFiveFailuresForFifteenMinutes(t *testing.T) {
	sceautest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, access.Options{})
		ctx := context.Background()
		for i := 1; i <= 5; i++ {
			_, err := f.svc.Login(ctx, f.term, "ra1", "not the password at all", f.code("ra1"))
			if !errors.Is(err, sceau.ErrDenied) || !strings.Contains(err.Error(), "wrong account, password or TOTP code") {
				t.Fatalf("attempt %d: %v, want the generic refusal", i, err)
			}
		}
		if got := len(f.events("login.failed")); got != 5 {
			t.Errorf("%d login.failed events, want 5", got)
		}
		locked := f.events("account.locked")
		if len(locked) != 1 || locked[0].Object != "account:ra1" {
			t.Fatalf("account.locked events: %+v", locked)
		}
		// Locked: even the right password and code are refused, and say why.
		f.clock.Advance(30 * time.Second)
		_, err := f.svc.Login(ctx, f.term, "ra1", fixturePassword, f.code("ra1"))
		if !errors.Is(err, sceau.ErrDenied) || !strings.Contains(err.Error(), "locked until") {
			t.Fatalf("login while locked: %v", err)
		}
		if ev := f.events("login.refused"); len(ev) != 1 || detail(t, ev[0], "reason") != "account locked" {
			t.Errorf("login.refused events: %+v", ev)
		}
		// Another account is not affected.
		f.login("so1")
		// 15 minutes after the lock, the right credentials open a session.
		f.clock.Advance(13 * time.Minute)
		if _, err := f.svc.Login(ctx, f.term, "ra1", fixturePassword, f.code("ra1")); err == nil {
			t.Fatal("login accepted 14 minutes into the lockout")
		}
		f.clock.Advance(time.Minute)
		f.login("ra1")
		// The counter starts again from zero after a success.
		for i := 0; i < 4; i++ {
			f.svc.Login(ctx, f.term, "ra1", "still not the password", "000000")
		}
		f.login("ra1")
		if got := len(f.events("account.locked")); got != 1 {
			t.Errorf("%d locks, want still 1: failures before a success must not add up", got)
		}
	})
}

func TestROLE4_TOTPCodeIsAcceptedOnce(t *testing.T) {
	sceautest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, access.Options{})
		ctx := context.Background()
		code := f.code("so1")
		s, err := f.svc.Login(ctx, f.term, "so1", fixturePassword, code)
		if err != nil {
			t.Fatal(err)
		}
		// The same code again, within its window, from another terminal too.
		for _, term := range []string{"terminal-1", "terminal-2"} {
			_, err := f.svc.Login(ctx, terminalCert(t, term), "so1", fixturePassword, code)
			if !errors.Is(err, sceau.ErrDenied) {
				t.Fatalf("replayed code from %s accepted", term)
			}
		}
		failed := f.events("login.failed")
		if len(failed) != 2 || detail(t, failed[0], "reason") != "TOTP code replayed" {
			t.Fatalf("login.failed events %+v, want two replays", failed)
		}
		// The code of the step before the one used is refused too, though
		// within the skew.
		prev, _ := access.TOTPCode(f.creds["so1"].TOTP.Secret, f.clock.Now().Add(-30*time.Second))
		if _, err := f.svc.Login(ctx, f.term, "so1", fixturePassword, prev); err == nil {
			t.Fatal("an older code than the last accepted was accepted")
		}
		// A wrong code, and no code, are refused (on another account: five
		// failures would lock so1).
		for _, c := range []string{"123456", "", "12345", "1234567"} {
			if _, err := f.svc.Login(ctx, f.term, "au1", fixturePassword, c); err == nil {
				t.Fatalf("code %q accepted", c)
			}
		}
		// The next step's code works.
		f.clock.Advance(30 * time.Second)
		if _, err := f.svc.Login(ctx, f.term, "so1", fixturePassword, f.code("so1")); err != nil {
			t.Fatalf("next code: %v", err)
		}
		if s.Token == "" || !strings.HasPrefix(s.Token, "sceau_") || len(s.Token) < 40 {
			t.Errorf("token %q is not a 256-bit sceau_ token", s.Token)
		}
		// The token is not stored.
		var n int
		if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM sessions WHERE token_hash = ?`, []byte(s.Token)).Scan(&n); err != nil || n != 0 {
			t.Errorf("the token is stored in clear (%d, %v)", n, err)
		}
		// The unknown account takes the same path and says the same thing.
		if _, err := f.svc.Login(ctx, f.term, "mallory", fixturePassword, "123456"); err == nil ||
			!strings.Contains(err.Error(), "wrong account, password or TOTP code") {
			t.Errorf("unknown account: %v", err)
		}
		ev := f.events("login.failed")
		if last := ev[len(ev)-1]; last.Actor != "cert:terminal-1" || detail(t, last, "reason") != "unknown account" {
			t.Errorf("unknown account event %+v", last)
		}
	})
}

func TestROLE4_SessionsExpireIdleAndAbsolute(t *testing.T) {
	sceautest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, access.Options{})
		ctx := context.Background()
		_, idle := f.login("au1")
		f.clock.Advance(14 * time.Minute)
		if _, err := f.svc.Authenticate(ctx, f.term, idle); err != nil {
			t.Fatalf("after 14 idle minutes: %v", err)
		}
		f.clock.Advance(15 * time.Minute)
		_, err := f.svc.Authenticate(ctx, f.term, idle)
		if !errors.Is(err, sceau.ErrDenied) || !strings.Contains(err.Error(), "idle") {
			t.Fatalf("after 15 idle minutes: %v", err)
		}

		_, busy := f.login("au1")
		for elapsed := time.Duration(0); elapsed < 8*time.Hour-10*time.Minute; elapsed += 10 * time.Minute {
			f.clock.Advance(10 * time.Minute)
			if _, err := f.svc.Authenticate(ctx, f.term, busy); err != nil {
				t.Fatalf("active session refused after %v: %v", elapsed+10*time.Minute, err)
			}
		}
		f.clock.Advance(11 * time.Minute)
		if _, err := f.svc.Authenticate(ctx, f.term, busy); err == nil || !strings.Contains(err.Error(), "8-hour") {
			t.Fatalf("session older than 8 hours: %v", err)
		}

		// Bound to its terminal; ended by logout; unknown tokens refused.
		p, tok := f.login("au1")
		if _, err := f.svc.Authenticate(ctx, terminalCert(t, "terminal-1"), tok); err == nil || !strings.Contains(err.Error(), "another terminal") {
			t.Fatalf("token from another terminal: %v", err)
		}
		if err := f.svc.Logout(ctx, p); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Authenticate(ctx, f.term, tok); err == nil || !strings.Contains(err.Error(), "ended") {
			t.Fatalf("token after logout: %v", err)
		}
		if _, err := f.svc.Authenticate(ctx, f.term, "sceau_forged"); !errors.Is(err, sceau.ErrDenied) {
			t.Fatalf("forged token: %v", err)
		}
		if got := len(f.events("session.refused")); got != 5 {
			t.Errorf("%d session.refused events, want 5", got)
		}
		if got := len(f.events("logout")); got != 1 {
			t.Errorf("%d logout events, want 1", got)
		}
	})
}

func TestROLE4_CertificateStandsInForPasswordAndTOTP(t *testing.T) {
	sceautest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		clock := sceautest.NewClock(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
		svc := access.New(db, audit.NewJournal(clock), access.Options{Clock: clock, KDF: cheapKDF})
		cert := terminalCert(t, "operator")
		ctx := context.Background()
		creds, err := svc.Bootstrap(ctx, sceau.System("init"), []access.Person{
			{Name: "operator", Roles: []access.Role{access.RegistrationOfficer}, CertificateOnly: true, Certificate: cert},
			{Name: "so1", Roles: []access.Role{access.SecurityOfficer}},
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(creds) != 1 || creds[0].Account != "so1" || !creds[0].MustChangePassword || creds[0].TOTP == nil {
			t.Fatalf("credentials %+v, want so1's initial ones only", creds)
		}
		p, err := svc.Authenticate(ctx, cert, "")
		if err != nil {
			t.Fatal(err)
		}
		if p.Account != "operator" || p.Method != access.MethodCertificate || !p.Has(access.RegistrationOfficer) {
			t.Fatalf("certificate principal %+v", p)
		}
		// Another certificate of the same CA is a terminal, nobody.
		p, err = svc.Authenticate(ctx, terminalCert(t, "operator"), "")
		if err != nil || p.Account != "" || p.Terminal != "operator" {
			t.Fatalf("unbound certificate: %+v, %v", p, err)
		}
		// A certificate-only account cannot log in with a password.
		if _, err := svc.Login(ctx, cert, "operator", "", "123456"); err == nil {
			t.Fatal("password login of a certificate-only account")
		}
		// Bootstrap works once.
		if _, err := svc.Bootstrap(ctx, sceau.System("init"), []access.Person{{Name: "so2", Roles: []access.Role{access.SecurityOfficer}}}); !errors.Is(err, sceau.ErrConflict) {
			t.Fatalf("second bootstrap: %v", err)
		}
		// The initial password must be changed before anything needing a role.
		code, _ := access.TOTPCode(creds[0].TOTP.Secret, clock.Now())
		s, err := svc.Login(ctx, cert, "so1", creds[0].Password, code)
		if err != nil || !s.MustChangePassword {
			t.Fatalf("first login: %+v %v", s, err)
		}
		p, _ = svc.Authenticate(ctx, cert, s.Token)
		if _, err := svc.CreateAccount(ctx, p, "bob", "Bob"); err == nil || !strings.Contains(err.Error(), "initial password") {
			t.Fatalf("account creation before the password change: %v", err)
		}
		if err := svc.ChangePassword(ctx, p, "wrong current password", "tulip-anchor-violet-42"); err == nil {
			t.Fatal("password changed with a wrong current password")
		}
		if err := svc.ChangePassword(ctx, p, creds[0].Password, "password123456"); err == nil {
			t.Fatal("common new password accepted")
		}
		if err := svc.ChangePassword(ctx, p, creds[0].Password, "tulip-anchor-violet-42"); err != nil {
			t.Fatal(err)
		}
		p, _ = svc.Authenticate(ctx, cert, s.Token)
		if _, err := svc.CreateAccount(ctx, p, "bob", "Bob"); err != nil {
			t.Fatalf("account creation after the password change: %v", err)
		}
	})
}

func TestPUB4_PasswordHashIsArgon2idWithItsParameters(t *testing.T) {
	db := sceautest.OpenSQLite(t)
	clock := sceautest.NewClock(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	strong := access.KDFParams{Memory: 4096, Time: 2, Threads: 1}
	key := make([]byte, access.TOTPKeySize) // both services share the installation's TOTP key
	svc := access.New(db, audit.NewJournal(clock), access.Options{Clock: clock, KDF: strong, TOTPKey: key})
	ctx := context.Background()
	creds, err := svc.Bootstrap(ctx, sceau.System("test"), []access.Person{{Name: "so1", Roles: []access.Role{access.SecurityOfficer}, Password: fixturePassword}})
	if err != nil {
		t.Fatal(err)
	}
	var hash string
	if err := db.QueryRowContext(ctx, `SELECT password_hash FROM accounts WHERE name = 'so1'`).Scan(&hash); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(hash, "$argon2id$v=19$m=4096,t=2,p=1$") || strings.Contains(hash, fixturePassword) {
		t.Fatalf("stored hash %q", hash)
	}
	// A service with other parameters still verifies the stored hash.
	other := access.New(db, audit.NewJournal(clock), access.Options{Clock: clock, KDF: cheapKDF, TOTPKey: key})
	code, _ := access.TOTPCode(creds[0].TOTP.Secret, clock.Now())
	if _, err := other.Login(ctx, terminalCert(t, "t"), "so1", fixturePassword, code); err != nil {
		t.Fatalf("login with the stored parameters: %v", err)
	}
	// A tampered hash (absurd parameters) is an internal error, not a crash.
	if _, err := db.ExecContext(ctx, `UPDATE accounts SET password_hash = '$argon2id$v=19$m=99999999,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA' WHERE name = 'so1'`); err != nil {
		t.Fatal(err)
	}
	if _, err := other.Login(ctx, terminalCert(t, "t"), "so1", fixturePassword, "123456"); err == nil || sceau.KindOf(err) != sceau.Internal {
		t.Fatalf("login against a tampered hash: %v", err)
	}
	if !access.DefaultKDF.Valid() {
		t.Error("the default parameters are outside the accepted bounds")
	}
}

// TestAUD1_PeopleEventsAreJournaled: account creation, authentication data
// changes, logins (failed too), logouts and personnel changes are journal
// events naming the account and the role (AUD-1, ROLE-5).
func TestAUD1_PeopleEventsAreJournaled(t *testing.T) {
	sceautest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, access.Options{ApprovalsFor: map[access.Action]int{access.RoleGrant: 1}})
		ctx := context.Background()
		so1 := f.principal("so1")
		if _, err := f.svc.Login(ctx, f.term, "so1", "wrong password 123", "000000"); err == nil {
			t.Fatal("wrong password accepted")
		}
		p, _ := f.login("so1")
		if _, err := f.svc.CreateAccount(ctx, so1, "dora", "Dora Martin"); err != nil {
			t.Fatal(err)
		}
		req, _ := f.svc.RequestRoleGrant(ctx, so1, "dora", access.RegistrationOfficer)
		if _, err := f.svc.Approvals().Approve(ctx, f.principal("au1"), req.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Attest(ctx, so1, "dora", access.Training, "2026-02-01", "trainer", ""); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.ChangePassword(ctx, p, fixturePassword, "another fine passphrase"); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.Logout(ctx, p); err != nil {
			t.Fatal(err)
		}
		for _, want := range []struct{ action, actor, role, object string }{
			{"login.failed", "so1", "", "account:so1"},
			{"login.succeeded", "so1", "security-officer", "account:so1"},
			{"account.created", "so1", "security-officer", "account:dora"},
			{"approval.requested", "so1", "security-officer", "approval:" + req.ID},
			{"approval.approved", "au1", "system-auditor", "approval:" + req.ID},
			{"role.granted", "so1", "security-officer", "account:dora"},
			{"person.attested", "so1", "security-officer", "account:dora"},
			{"account.password_changed", "so1", "security-officer", "account:so1"},
			{"logout", "so1", "security-officer", "session:" + p.Session},
		} {
			evs := f.events(want.action)
			if len(evs) == 0 {
				t.Errorf("no %s event", want.action)
				continue
			}
			e := evs[len(evs)-1]
			if e.Actor != want.actor || e.Role != want.role || e.Object != want.object {
				t.Errorf("%s: actor %q role %q object %q, want %+v", want.action, e.Actor, e.Role, e.Object, want)
			}
			if strings.Contains(e.Details, fixturePassword) || strings.Contains(e.Details, "another fine passphrase") {
				t.Errorf("%s details hold a password: %s", want.action, e.Details)
			}
		}
	})
}
