package config_test

import (
	"strings"
	"testing"

	"github.com/sceau/sceau/internal/config"
)

// TestCA2_ConfigRefusesProfileValidityBelowTheMinimum (issue 11, defect
// 4): a profile whose lifetime is below the shortest certificate the CA
// issues could issue nothing, so the configuration is refused.
func TestCA2_ConfigRefusesProfileValidityBelowTheMinimum(t *testing.T) {
	_, err := config.Parse([]byte(strings.Replace(minimal, "validity: 397d", "validity: 30m", 1)))
	if err == nil || !strings.Contains(err.Error(), "shorter than the minimum") {
		t.Fatalf("profile validity 30m: %v", err)
	}
	if _, err := config.Parse([]byte(strings.Replace(minimal, "validity: 397d", "validity: 1h", 1))); err != nil {
		t.Fatalf("profile validity 1h: %v", err)
	}
}
