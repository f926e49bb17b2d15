package access_test

import (
	"context"
	"encoding/base32"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sceau/sceau/internal/access"
	"github.com/sceau/sceau/internal/audit"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/sceautest"
	"github.com/sceau/sceau/internal/store"
)

func storedSecret(t *testing.T, db *store.DB, account string) string {
	t.Helper()
	var s string
	if err := db.QueryRowContext(context.Background(), `SELECT totp_secret FROM accounts WHERE name = ?`, account).Scan(&s); err != nil {
		t.Fatal(err)
	}
	return s
}

// TestROLE4_TOTPSecretEncryptedAtRest: the database holds no TOTP secret
// in clear, and a sealed value copied to another account does not open.
func TestROLE4_TOTPSecretEncryptedAtRest(t *testing.T) {
	sceautest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, access.Options{})
		ctx := context.Background()
		for _, name := range []string{"so1", "au1", "ra1"} {
			secret := f.creds[name].TOTP.Secret
			raw, _ := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(secret)
			stored := storedSecret(t, db, name)
			if !strings.HasPrefix(stored, "v1:") || strings.Contains(stored, secret) || len(raw) == 0 || strings.Contains(stored, string(raw)) {
				t.Fatalf("%s: the stored value %q holds the secret or is not sealed", name, stored)
			}
		}
		// The sealed secret opens: a login works.
		f.login("au1")
		// ra1's sealed secret copied onto au1: au1's login fails, even
		// with ra1's code, and the journal says why.
		if _, err := db.ExecContext(ctx, `UPDATE accounts SET totp_secret = ? WHERE name = 'au1'`, storedSecret(t, db, "ra1")); err != nil {
			t.Fatal(err)
		}
		f.clock.Advance(time.Minute)
		for _, codeOf := range []string{"au1", "ra1"} {
			if _, err := f.svc.Login(ctx, f.term, "au1", fixturePassword, f.code(codeOf)); sceau.KindOf(err) != sceau.Denied {
				t.Fatalf("login of au1 with a secret copied from ra1 (code of %s): %v", codeOf, err)
			}
		}
		ev := f.events("login.failed")
		if len(ev) == 0 || !strings.Contains(ev[len(ev)-1].Details, "does not open") {
			t.Fatalf("login.failed: %+v", ev)
		}
		// A recovery seals the new secret too.
		creds, err := f.svc.ResetCredentials(ctx, sceau.System("recovery"), "au1", []string{"w1", "w2"})
		if err != nil {
			t.Fatal(err)
		}
		if s := storedSecret(t, db, "au1"); !strings.HasPrefix(s, "v1:") || strings.Contains(s, creds.TOTP.Secret) {
			t.Fatalf("recovered secret stored as %q", s)
		}
	})
}

// TestROLE4_ClearTOTPSecretsAreSealedOnOpen: secrets written in clear by an
// older version are sealed when the service opens, with an audit event;
// a service with another key refuses to start over them.
func TestROLE4_ClearTOTPSecretsAreSealedOnOpen(t *testing.T) {
	sceautest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		key := make([]byte, access.TOTPKeySize)
		key[0] = 1
		f := newFixture(t, db, access.Options{TOTPKey: key})
		ctx := context.Background()
		clearSecret := f.creds["ra1"].TOTP.Secret
		if _, err := db.ExecContext(ctx, `UPDATE accounts SET totp_secret = ? WHERE name = 'ra1'`, clearSecret); err != nil {
			t.Fatal(err)
		}
		svc := access.New(db, audit.NewJournal(f.clock), access.Options{Clock: f.clock, KDF: cheapKDF, TOTPKey: key})
		n, err := svc.SealTOTPSecrets(ctx)
		if err != nil || n != 1 {
			t.Fatalf("seal: %d, %v", n, err)
		}
		if s := storedSecret(t, db, "ra1"); !strings.HasPrefix(s, "v1:") || strings.Contains(s, clearSecret) {
			t.Fatalf("after sealing: %q", s)
		}
		if len(f.events("access.totp_sealed")) != 1 {
			t.Error("no access.totp_sealed event")
		}
		f.svc = svc
		f.login("ra1")
		if n, err := svc.SealTOTPSecrets(ctx); err != nil || n != 0 {
			t.Fatalf("second run: %d, %v", n, err)
		}
		other := access.New(db, audit.NewJournal(f.clock), access.Options{Clock: f.clock, KDF: cheapKDF, TOTPKey: make([]byte, access.TOTPKeySize)})
		if _, err := other.SealTOTPSecrets(ctx); sceau.KindOf(err) != sceau.Unavailable {
			t.Fatalf("another key over sealed secrets: %v", err)
		}
	})
}

// TestROLE4_TOTPKeyFile: created once, mode 0600, read back the same; a
// file others can read is refused; a missing file over sealed secrets is
// an error rather than a new key.
func TestROLE4_TOTPKeyFile(t *testing.T) {
	db := sceautest.OpenSQLite(t)
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "secrets", "totp.key")
	k1, err := access.OpenTOTPKey(ctx, db, path)
	if err != nil || len(k1) != access.TOTPKeySize {
		t.Fatalf("create: %d bytes, %v", len(k1), err)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %o", fi.Mode().Perm())
	}
	k2, err := access.OpenTOTPKey(ctx, db, path)
	if err != nil || string(k1) != string(k2) {
		t.Fatalf("read back: %v", err)
	}
	os.Chmod(path, 0o644)
	if _, err := access.OpenTOTPKey(ctx, db, path); sceau.KindOf(err) != sceau.Invalid {
		t.Errorf("a key file others can read: %v", err)
	}
	os.Chmod(path, 0o600)
	f := newFixture(t, db, access.Options{TOTPKey: k1})
	_ = f
	os.Remove(path)
	if _, err := access.OpenTOTPKey(ctx, db, path); sceau.KindOf(err) != sceau.Unavailable || !strings.Contains(err.Error(), "restore") {
		t.Errorf("missing key over sealed secrets: %v", err)
	}
	if _, err := os.Stat(path); err == nil {
		t.Error("a new key file was made over sealed secrets")
	}
	os.WriteFile(path, []byte("short\n"), 0o600)
	if _, err := access.OpenTOTPKey(ctx, db, path); sceau.KindOf(err) != sceau.Invalid {
		t.Errorf("a malformed key file: %v", err)
	}
}
