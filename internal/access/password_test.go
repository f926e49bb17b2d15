package access_test

import (
	"strings"
	"testing"

	"github.com/sceau/sceau/internal/access"
)

func TestPUB4_PasswordPolicy(t *testing.T) {
	for _, tc := range []struct {
		name, account, password, msg string
	}{
		{"eleven characters", "alice", "abcdefghijk", "at least 12"},
		{"eleven characters, multibyte", "alice", "éèêëàâäôöûü", "at least 12"},
		{"few distinct characters", "alice", "abababababababab", "different characters"},
		{"contains the account name", "marie.curie", "Xq7-MARIE.CURIE-2026", "account name"},
		{"common password of 12+", "alice", "1qaz2wsx3edc", "common passwords"},
		{"common password, upper case", "alice", "LEAVEMEALONE", "common passwords"},
		{"common password dressed up", "alice", "Password2024!!", "digits or symbols around"},
		{"common password with digits in front", "alice", "123456789dragon", "digits or symbols around"},
		{"not UTF-8", "alice", "abcdefghijkl\xff", "UTF-8"},
		{"too long", "alice", strings.Repeat("abcdefghij", 200), "longer than"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := access.CheckPassword(tc.account, tc.password)
			if err == nil || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("CheckPassword(%q) = %v, want a refusal mentioning %q", tc.password, err, tc.msg)
			}
			if strings.Contains(err.Error(), tc.password) {
				t.Errorf("the refusal repeats the password: %v", err)
			}
		})
	}
	for _, ok := range []string{"correct horse battery staple", "tulip-anchor-violet-42", "Zq8#mW2!pL5$xR"} {
		if err := access.CheckPassword("alice", ok); err != nil {
			t.Errorf("CheckPassword(%q) = %v, want accepted", ok, err)
		}
	}
}

func TestPUB4_CommonPasswordListHasTenThousandEntries(t *testing.T) {
	if n := access.CommonPasswords(); n < 10000 {
		t.Fatalf("the embedded list has %d passwords, want at least 10,000", n)
	}
}
