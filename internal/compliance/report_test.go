package compliance_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sceau/sceau/internal/compliance"
)

// COMP-1: a failed finding, an error or a panic fails exactly its clause
// and never stops the others; manual clauses are "to confirm" with the
// evidence recorded for them.
func TestCOMP1_EachCheckDecidesItsOwnClause(t *testing.T) {
	now := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	checks := []compliance.Check{
		{ID: "a", Cites: []string{"ROLE-2"}, Title: "A", Run: func(context.Context) ([]compliance.Finding, error) {
			return []compliance.Finding{compliance.OK("fine")}, nil
		}},
		{ID: "b", Cites: []string{"PUB-3"}, Title: "B", Run: func(context.Context) ([]compliance.Finding, error) {
			return []compliance.Finding{compliance.OK("fine"), compliance.Bad("stale CRL")}, nil
		}},
		{ID: "c", Cites: []string{"AUD-2"}, Title: "C", Run: func(context.Context) ([]compliance.Finding, error) {
			return nil, errors.New("database down")
		}},
		{ID: "d", Cites: []string{"SYS-4"}, Title: "D", Run: func(context.Context) ([]compliance.Finding, error) { panic("boom") }},
	}
	ev := []compliance.Evidence{{Clause: "ROLE-6", Item: 12, SHA256: "ab", RecordedAt: now}}
	r := compliance.Run(context.Background(), checks, compliance.ManualClauses(), compliance.Options{Now: now, Evidence: ev})
	if got := strings.Join(r.FailedClauses(), ","); got != "b,c,d" {
		t.Fatalf("failed clauses %q, want b,c,d", got)
	}
	if r.Verdict != compliance.Fail || r.Passed != 1 || r.Failed != 3 || r.Confirm != len(compliance.ManualClauses()) {
		t.Fatalf("counts: %+v", r)
	}
	if c := r.Clause("b"); c.FollowUp == nil || !c.FollowUp.Equal(now.Add(compliance.DefaultFollowUp)) {
		t.Errorf("follow-up of a failure: %v", c.FollowUp)
	}
	if c := r.Clause("a"); c.FollowUp != nil {
		t.Errorf("a passing clause has a follow-up date")
	}
	if c := r.Clause("c"); !strings.Contains(c.Findings[len(c.Findings)-1].Message, "could not be checked: database down") {
		t.Errorf("an error is not reported: %+v", c.Findings)
	}
	if c := r.Clause("personnel.vetting"); c.Verdict != compliance.ToConfirm || len(c.Evidence) != 1 || c.Evidence[0].Item != 12 {
		t.Errorf("manual clause with evidence: %+v", c)
	}
	if c := r.Clause("physical.security"); len(c.Evidence) != 0 {
		t.Errorf("evidence given to the wrong clause: %+v", c)
	}
	healthy := compliance.Run(context.Background(), checks[:1], nil, compliance.Options{Now: now})
	if healthy.Verdict != compliance.Pass || healthy.Summary() != "PASS: 1 passed, 0 failed, 0 to confirm" {
		t.Errorf("healthy: %s", healthy.Summary())
	}
}

// COMP-1, COMP-2: the HTML report shows each clause's verdict, its
// deadline and its evidence, and what the checks found is escaped.
func TestCOMP2_HTMLReportCarriesVerdictsAndDeadlines(t *testing.T) {
	now := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	checks := []compliance.Check{{ID: "crl", Cites: []string{"PUB-3"}, Title: "CRLs are fresh", Run: func(context.Context) ([]compliance.Finding, error) {
		return []compliance.Finding{compliance.Bad("CA <script>x</script> is stale")}, nil
	}}}
	r := compliance.Run(context.Background(), checks, compliance.ManualClauses(), compliance.Options{Now: now, Installation: "Test TSP"})
	var b bytes.Buffer
	if err := compliance.WriteHTML(&b, r, []byte("body{}")); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{`id="verdict">fail<`, "put right by 2027-01-06", "PUB-3", "&lt;script&gt;", "No evidence recorded yet.", "body{}"} {
		if !strings.Contains(out, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	if strings.Contains(out, "<script>") {
		t.Error("a finding was not escaped")
	}
}
