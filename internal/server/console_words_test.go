package server

import (
	"regexp"
	"testing"
)

// TestCA4_ConsoleSpeaksFrenchAndEnglish: every word of the console exists
// in both languages, and every word a template asks for exists.
func TestCA4_ConsoleSpeaksFrenchAndEnglish(t *testing.T) {
	for key := range consoleWords["en"] {
		if _, ok := consoleWords["fr"][key]; !ok {
			t.Errorf("%q has no French", key)
		}
	}
	for key := range consoleWords["fr"] {
		if _, ok := consoleWords["en"][key]; !ok {
			t.Errorf("%q has no English", key)
		}
	}
	for _, m := range regexp.MustCompile(`\.T "([^"]+)"`).FindAllStringSubmatch(consoleTemplateText, -1) {
		if _, ok := consoleWords["en"][m[1]]; !ok {
			t.Errorf("a template asks for %q, which has no words", m[1])
		}
	}
}
