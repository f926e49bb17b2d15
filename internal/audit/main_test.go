package audit_test

import (
	"flag"
	"os"
	"testing"

	"github.com/sceau/sceau/internal/audit"
)

func TestMain(m *testing.M) {
	flag.Parse()
	// Tests verify journals of thousands of events: small chunks make them
	// go through the parallel verification and its joins. Benchmarks keep
	// the production size.
	if f := flag.Lookup("test.bench"); f == nil || f.Value.String() == "" {
		audit.SetVerifyChunk(512)
		audit.SetSegmentMax(3000)
	}
	code := m.Run()
	if fixtureDir != "" {
		os.RemoveAll(fixtureDir)
	}
	os.Exit(code)
}
