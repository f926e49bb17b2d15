package config_test

import (
	"strings"
	"testing"

	"github.com/sceau/sceau/internal/config"
)

// TestSYS2_EnrollmentListenerIsOffByDefaultAndApart: no enrollment
// listener unless asked; when asked, it is HTTPS and on an address of its
// own, never the public or admin one.
func TestSYS2_EnrollmentListenerIsOffByDefaultAndApart(t *testing.T) {
	c, err := config.Parse([]byte(minimal))
	if err != nil {
		t.Fatal(err)
	}
	if c.Enroll.Enabled() {
		t.Fatal("an enrollment listener is on by default")
	}
	c, err = config.Parse([]byte(minimal + "enroll: {listen: \"127.0.0.1:8444\"}\n"))
	if err != nil || c.Enroll.BaseURL != "https://127.0.0.1:8444" {
		t.Fatalf("%v, base URL %q", err, c.Enroll.BaseURL)
	}
	for yaml, says := range map[string]string{
		`enroll: {listen: "127.0.0.1:8080"}`:                       "must differ from public.listen",
		`enroll: {listen: "127.0.0.1:8443"}`:                       "must differ from public.listen and admin.listen",
		`enroll: {listen: "127.0.0.1:8444", base_url: "http://x"}`: "is not an https URL",
		`enroll: {listen: "127.0.0.1:8444", cert_file: "c.pem"}`:   "give both or neither",
		`enroll: {listen: "nowhere"}`:                              "is not host:port",
	} {
		_, err := config.Parse([]byte(minimal + yaml + "\n"))
		if err == nil || !strings.Contains(err.Error(), says) {
			t.Errorf("%s: %v, want %q", yaml, err, says)
		}
	}
}
