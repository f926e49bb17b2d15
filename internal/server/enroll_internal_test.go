package server

import (
	"maps"
	"slices"
	"testing"
)

// Every word of the enrollment pages exists in both languages.
func TestEnrollPagesSayEverythingInBothLanguages(t *testing.T) {
	en, fr := slices.Sorted(maps.Keys(enrollWords["en"])), slices.Sorted(maps.Keys(enrollWords["fr"]))
	if !slices.Equal(en, fr) {
		t.Fatalf("en %v\nfr %v", en, fr)
	}
	for _, r := range holderReasons {
		if _, ok := enrollWords["en"]["r."+r]; !ok {
			t.Errorf("reason %s has no words", r)
		}
	}
}
