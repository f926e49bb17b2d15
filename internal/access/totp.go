package access

import (
	"crypto/subtle"
	"io"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/sceau/sceau/internal/sceau"
)

// TOTP (RFC 6238) as authenticator apps expect it: SHA-1, 6 digits, 30 s.
const (
	totpPeriod = 30
	// totpSkew accepts the previous and the next time step, for clocks a
	// little apart.
	totpSkew = 1
)

var totpOpts = totp.ValidateOpts{Period: totpPeriod, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}

// TOTPEnrolment is a new second factor, shown once to its holder.
type TOTPEnrolment struct {
	Secret string `json:"secret"` // base32, for typing into an app
	URL    string `json:"url"`    // otpauth:// URL, for a QR code
}

func newTOTP(account string, rnd io.Reader) (TOTPEnrolment, error) {
	k, err := totp.Generate(totp.GenerateOpts{Issuer: "Sceau", AccountName: account, Period: totpPeriod,
		SecretSize: 20, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1, Rand: rnd})
	if err != nil {
		return TOTPEnrolment{}, sceau.E(sceau.Internal, "access: totp", "", err)
	}
	return TOTPEnrolment{Secret: k.Secret(), URL: k.URL()}, nil
}

// TOTPCode returns the code of secret at t: what the holder's app shows.
func TOTPCode(secret string, t time.Time) (string, error) {
	return totp.GenerateCodeCustom(secret, t, totpOpts)
}

func totpStep(t time.Time) int64 { return t.Unix() / totpPeriod }

// matchTOTP looks for code among the time steps around now and returns the
// step it belongs to. A step at or before lastStep is a replay and never
// matches (ROLE-4): each code is accepted once, and never an older one.
func matchTOTP(secret, code string, now time.Time, lastStep int64) (step int64, ok, replay bool) {
	if len(code) != 6 {
		return 0, false, false
	}
	cur := totpStep(now)
	for s := cur - totpSkew; s <= cur+totpSkew; s++ {
		want, err := totp.GenerateCodeCustom(secret, time.Unix(s*totpPeriod, 0), totpOpts)
		if err != nil {
			return 0, false, false
		}
		if subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
			if s <= lastStep {
				return s, false, true
			}
			return s, true, false
		}
	}
	return 0, false, false
}
