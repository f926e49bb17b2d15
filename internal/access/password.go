package access

import (
	"crypto/rand"
	"crypto/subtle"
	_ "embed"
	"encoding/base64"
	"fmt"
	"io"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"

	"github.com/sceau/sceau/internal/sceau"
)

// Password policy (PUB-4).
const (
	MinPasswordLength = 12   // characters
	maxPasswordBytes  = 1024 // longer input is refused before hashing
	minDistinctChars  = 5
)

// commonPasswordsText is zxcvbn's list of the 30,000 most common passwords
// (see commonpasswords.LICENSE).
//
//go:embed commonpasswords.txt
var commonPasswordsText string

var commonPasswords = sync.OnceValue(func() map[string]struct{} {
	m := make(map[string]struct{}, 30000)
	for _, l := range strings.Split(commonPasswordsText, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			m[l] = struct{}{}
		}
	}
	return m
})

// CommonPasswords is the number of passwords in the embedded list.
func CommonPasswords() int { return len(commonPasswords()) }

// CheckPassword applies the password policy (PUB-4) to a password chosen
// for account: at least 12 characters, at least 5 different ones, not
// containing the account name (case-insensitive, names of 3 or more
// characters), not one of the 30,000
// most common passwords, nor one of them with digits or symbols around it.
// The message never repeats the password.
func CheckPassword(account, password string) error {
	const op = "access: password policy"
	if !utf8.ValidString(password) {
		return sceau.Errorf(sceau.Invalid, op, "the password is not valid UTF-8")
	}
	if len(password) > maxPasswordBytes {
		return sceau.Errorf(sceau.Invalid, op, "the password is longer than %d bytes", maxPasswordBytes)
	}
	if n := utf8.RuneCountInString(password); n < MinPasswordLength {
		return sceau.Errorf(sceau.Invalid, op, "the password has %d characters; at least %d are required", n, MinPasswordLength)
	}
	distinct := map[rune]bool{}
	for _, r := range password {
		distinct[r] = true
	}
	if len(distinct) < minDistinctChars {
		return sceau.Errorf(sceau.Invalid, op, "the password uses fewer than %d different characters", minDistinctChars)
	}
	lower := strings.ToLower(password)
	// A name of one or two characters would refuse almost every password.
	if len(account) >= 3 && strings.Contains(lower, strings.ToLower(account)) {
		return sceau.Errorf(sceau.Invalid, op, "the password contains the account name")
	}
	common := commonPasswords()
	if _, ok := common[lower]; ok {
		return sceau.Errorf(sceau.Invalid, op, "the password is in the list of common passwords")
	}
	// "password2024!", "!!qwertyuiop123": a common password dressed up.
	core := strings.TrimFunc(lower, func(r rune) bool { return !unicode.IsLetter(r) })
	if _, ok := common[core]; ok && core != "" {
		return sceau.Errorf(sceau.Invalid, op, "the password is a common password with digits or symbols around it")
	}
	return nil
}

// KDFParams are Argon2id's parameters (RFC 9106). Each hash carries its own,
// so they can be raised without invalidating existing passwords.
type KDFParams struct {
	Memory  uint32 // KiB
	Time    uint32 // passes
	Threads uint8
}

// DefaultKDF is RFC 9106's second recommended option (64 MiB, 3 passes),
// with 2 lanes.
var DefaultKDF = KDFParams{Memory: 64 * 1024, Time: 3, Threads: 2}

// Bounds on stored parameters, so that a tampered row cannot make a login
// allocate gigabytes.
const (
	maxKDFMemory  = 1 << 20 // 1 GiB
	maxKDFTime    = 16
	maxKDFThreads = 16
	saltLen       = 16
	hashLen       = 32
)

// Valid tells whether p is within the bounds Sceau accepts in a stored hash.
func (p KDFParams) Valid() bool {
	return p.Threads >= 1 && p.Threads <= maxKDFThreads && p.Memory >= 8*uint32(p.Threads) && p.Memory <= maxKDFMemory &&
		p.Time >= 1 && p.Time <= maxKDFTime
}

// hashPassword returns the PHC string of password under params:
// $argon2id$v=19$m=65536,t=3,p=2$<salt>$<hash>, base64 without padding.
func hashPassword(password string, params KDFParams, rnd io.Reader) (string, error) {
	salt := make([]byte, saltLen)
	if _, err := io.ReadFull(rnd, salt); err != nil {
		return "", sceau.E(sceau.Internal, "access: password", "no randomness", err)
	}
	h := argon2.IDKey([]byte(password), salt, params.Time, params.Memory, params.Threads, hashLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, params.Memory, params.Time, params.Threads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(h)), nil
}

// verifyPassword tells whether password matches the PHC string encoded, in
// constant time with respect to the hash.
func verifyPassword(encoded, password string) (bool, error) {
	params, salt, want, err := parsePHC(encoded)
	if err != nil {
		return false, err
	}
	got := argon2.IDKey([]byte(password), salt, params.Time, params.Memory, params.Threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

func parsePHC(s string) (KDFParams, []byte, []byte, error) {
	bad := func(why string) (KDFParams, []byte, []byte, error) {
		return KDFParams{}, nil, nil, sceau.Errorf(sceau.Internal, "access: password", "stored password hash: %s", why)
	}
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return bad("not an argon2id PHC string")
	}
	var v int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &v); err != nil || v != argon2.Version {
		return bad("unsupported version")
	}
	var p KDFParams
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &p.Threads); err != nil {
		return bad("bad parameters")
	}
	if !p.Valid() {
		return bad("parameters out of bounds")
	}
	salt, err := base64.RawStdEncoding.DecodeString(parts[4])
	if err != nil || len(salt) < 8 {
		return bad("bad salt")
	}
	h, err := base64.RawStdEncoding.DecodeString(parts[5])
	if err != nil || len(h) < 16 || len(h) > 64 {
		return bad("bad hash")
	}
	return p, salt, h, nil
}

// initialPasswordAlphabet has no look-alike characters.
const initialPasswordAlphabet = "abcdefghjkmnpqrstuvwxyz23456789"

// newInitialPassword returns a random password of 4 groups of 5 characters
// (about 98 bits), for a person to use once and change.
func newInitialPassword(account string, rnd io.Reader) (string, error) {
	if rnd == nil {
		rnd = rand.Reader
	}
	n := len(initialPasswordAlphabet)
	limit := 256 - 256%n // rejection sampling: no character is favoured
	for {
		var s strings.Builder
		var one [1]byte
		for count := 0; count < 20; {
			if _, err := io.ReadFull(rnd, one[:]); err != nil {
				return "", sceau.E(sceau.Internal, "access: password", "no randomness", err)
			}
			if int(one[0]) >= limit {
				continue
			}
			if count > 0 && count%5 == 0 {
				s.WriteByte('-')
			}
			s.WriteByte(initialPasswordAlphabet[int(one[0])%n])
			count++
		}
		if CheckPassword(account, s.String()) == nil {
			return s.String(), nil
		}
	}
}
