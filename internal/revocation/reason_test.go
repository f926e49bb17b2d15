package revocation_test

import (
	"strings"
	"testing"

	"github.com/sceau/sceau/internal/revocation"
	"github.com/sceau/sceau/internal/sceau"
)

// CA-3 (issue 12): certificateHold and removeFromCRL are refused by name,
// since Sceau does not suspend: a hold that can never be lifted is not a
// hold. Every other RFC 5280 reason is accepted.
func TestCA3_CertificateHoldIsRefused(t *testing.T) {
	for _, name := range []string{"certificateHold", "removeFromCRL"} {
		if _, err := revocation.ParseReason("test", name); sceau.KindOf(err) != sceau.Invalid || !strings.Contains(err.Error(), "does not suspend") {
			t.Errorf("%s: %v; want invalid, saying Sceau does not suspend", name, err)
		}
	}
	if _, err := revocation.ParseReason("test", "KeyCompromise"); sceau.KindOf(err) != sceau.Invalid || !strings.Contains(err.Error(), "keyCompromise") {
		t.Errorf("a misspelt reason: %v; want invalid, listing the accepted names", err)
	}
	for name, code := range map[string]int{"unspecified": 0, "keyCompromise": 1, "cACompromise": 2, "affiliationChanged": 3,
		"superseded": 4, "cessationOfOperation": 5, "privilegeWithdrawn": 9, "aACompromise": 10} {
		if got, err := revocation.ParseReason("test", name); err != nil || got != code {
			t.Errorf("%s: %d, %v; want %d", name, got, err, code)
		}
	}
}
