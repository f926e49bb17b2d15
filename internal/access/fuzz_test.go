package access

import (
	"strings"
	"testing"
)

// FuzzPUB4_CheckPassword: any input is judged without panicking, and a
// refusal never repeats the password.
func FuzzPUB4_CheckPassword(f *testing.F) {
	for _, s := range []string{"", "password", "correct horse battery staple", "Password2024!", "\xff\xfe", strings.Repeat("a", 2000)} {
		f.Add("alice", s)
	}
	// Every refusal is one of these, numbers aside: nothing of the input
	// flows into a message.
	digits := strings.NewReplacer("0", "", "1", "", "2", "", "3", "", "4", "", "5", "", "6", "", "7", "", "8", "", "9", "")
	known := map[string]bool{}
	for _, m := range []string{"the password is not valid UTF-8", "the password is longer than  bytes",
		"the password has  characters; at least  are required", "the password uses fewer than  different characters",
		"the password contains the account name", "the password is in the list of common passwords",
		"the password is a common password with digits or symbols around it"} {
		known[digits.Replace("access: password policy: "+m)] = true
	}
	f.Fuzz(func(t *testing.T, account, password string) {
		if err := CheckPassword(account, password); err != nil && !known[digits.Replace(err.Error())] {
			t.Fatalf("unexpected refusal %q", err)
		}
	})
}

// FuzzPUB4_StoredHashNeverPanics: a damaged or tampered password hash in
// the database is an error, never a crash or a huge allocation.
func FuzzPUB4_StoredHashNeverPanics(f *testing.F) {
	good, _ := hashPassword("tulip-anchor-violet-42", KDFParams{Memory: 64, Time: 1, Threads: 1}, strings.NewReader(strings.Repeat("s", 64)))
	for _, s := range []string{good, "", "$argon2id$", "$argon2id$v=19$m=99999999,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
		"$argon2i$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA", "$argon2id$v=19$m=64,t=1,p=0$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, encoded string) {
		if p, _, _, err := parsePHC(encoded); err == nil && (p.Memory > maxKDFMemory || p.Time > maxKDFTime) {
			t.Fatalf("parameters out of bounds accepted: %+v", p)
		}
	})
}
