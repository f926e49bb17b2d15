package compliance

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/sceau/sceau/internal/sceau"
)

// Verdict is a clause's outcome (COMP-2: pass, fail or to confirm).
type Verdict string

const (
	Pass      Verdict = "pass"
	Fail      Verdict = "fail"
	ToConfirm Verdict = "to-confirm" // a person must confirm it, with evidence
)

// Check is one automatic check of a live installation.
type Check struct {
	ID    string   // a stable name, e.g. "roles.separation"
	Cites []string // the requirement IDs it covers (ROLE-2, …)
	Title string
	// Run returns what it found; a finding of severity Fail fails the
	// clause. An error means the check could not be made, which fails it
	// too: what cannot be shown to hold is not reported as holding.
	Run func(ctx context.Context) ([]Finding, error)
}

// Finding is one observation of a check.
type Finding struct {
	Failed  bool   `json:"failed"`
	Message string `json:"message"`
}

// OK and Bad are findings.
func OK(format string, args ...any) Finding { return Finding{Message: fmt.Sprintf(format, args...)} }
func Bad(format string, args ...any) Finding {
	return Finding{Failed: true, Message: fmt.Sprintf(format, args...)}
}

// Manual is a clause that needs human evidence (physical security,
// training, a witness at a ceremony): it is reported "to confirm" with the
// evidence recorded for it.
type Manual struct {
	ID    string
	Cites []string
	Title string
	// Wanted says what evidence an auditor expects.
	Wanted string
}

// Evidence is what was recorded for a manual clause (an archived item).
type Evidence struct {
	Clause     string    `json:"clause"`
	Item       int64     `json:"item"` // the archive item holding it
	SHA256     string    `json:"sha256"`
	RecordedAt time.Time `json:"recorded_at"`
	Note       string    `json:"note,omitempty"`
}

// Clause is one line of the report.
type Clause struct {
	ID       string     `json:"id"`
	Cites    []string   `json:"cites"`
	Title    string     `json:"title"`
	Verdict  Verdict    `json:"verdict"`
	Findings []Finding  `json:"findings,omitempty"`
	Wanted   string     `json:"wanted,omitempty"`
	Evidence []Evidence `json:"evidence,omitempty"`
	// FollowUp is when a failed clause must be put right (COMP-2).
	FollowUp *time.Time `json:"follow_up,omitempty"`
	Took     string     `json:"took,omitempty"`
}

// Report is one self-audit (COMP-1).
type Report struct {
	Installation string    `json:"installation"`
	Version      string    `json:"version"`
	At           time.Time `json:"at"`
	By           string    `json:"by"`
	Verdict      Verdict   `json:"verdict"` // fail if any clause fails, else pass
	Passed       int       `json:"passed"`
	Failed       int       `json:"failed"`
	Confirm      int       `json:"to_confirm"`
	Clauses      []Clause  `json:"clauses"`
	// Archived is the archive item of the report's JSON (COMP-2), once kept.
	Archived *int64 `json:"archived,omitempty"`
}

// Options configure a run.
type Options struct {
	Installation, Version, By string
	Now                       time.Time
	// FollowUp is how long a failure may stay open (default 30 days).
	FollowUp time.Duration
	// Evidence lists what was recorded for the manual clauses.
	Evidence []Evidence
}

// DefaultFollowUp is the deadline given to a failed clause.
const DefaultFollowUp = 30 * 24 * time.Hour

// Run makes every check and lists every manual clause with its evidence:
// COMP-1. A check that panics or errs fails its clause with the reason;
// it never stops the others.
func Run(ctx context.Context, checks []Check, manual []Manual, o Options) *Report {
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	if o.FollowUp <= 0 {
		o.FollowUp = DefaultFollowUp
	}
	r := &Report{Installation: o.Installation, Version: o.Version, By: o.By, At: o.Now.UTC()}
	for _, c := range checks {
		start := time.Now()
		fs, err := run(ctx, c)
		cl := Clause{ID: c.ID, Cites: c.Cites, Title: c.Title, Findings: fs, Verdict: Pass, Took: time.Since(start).Round(time.Millisecond).String()}
		if err != nil {
			cl.Findings = append(cl.Findings, Bad("could not be checked: %v", err))
		}
		for _, f := range cl.Findings {
			if f.Failed {
				cl.Verdict = Fail
			}
		}
		if cl.Verdict == Fail {
			due := r.At.Add(o.FollowUp)
			cl.FollowUp = &due
		}
		r.Clauses = append(r.Clauses, cl)
	}
	for _, m := range manual {
		cl := Clause{ID: m.ID, Cites: m.Cites, Title: m.Title, Verdict: ToConfirm, Wanted: m.Wanted}
		for _, e := range o.Evidence {
			if e.Clause == m.ID || slices.Contains(m.Cites, e.Clause) {
				cl.Evidence = append(cl.Evidence, e)
			}
		}
		r.Clauses = append(r.Clauses, cl)
	}
	for _, c := range r.Clauses {
		switch c.Verdict {
		case Pass:
			r.Passed++
		case Fail:
			r.Failed++
		default:
			r.Confirm++
		}
	}
	r.Verdict = Pass
	if r.Failed > 0 {
		r.Verdict = Fail
	}
	return r
}

func run(ctx context.Context, c Check) (fs []Finding, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = sceau.Errorf(sceau.Internal, "compliance: "+c.ID, "the check failed: %v", p)
		}
	}()
	return c.Run(ctx)
}

// Clause returns the report's clause id, or nil.
func (r *Report) Clause(id string) *Clause {
	for i := range r.Clauses {
		if r.Clauses[i].ID == id {
			return &r.Clauses[i]
		}
	}
	return nil
}

// FailedClauses names the clauses that failed, in order.
func (r *Report) FailedClauses() []string {
	var out []string
	for _, c := range r.Clauses {
		if c.Verdict == Fail {
			out = append(out, c.ID)
		}
	}
	return out
}

// Summary is one line for a log or a terminal.
func (r *Report) Summary() string {
	s := fmt.Sprintf("%s: %d passed, %d failed, %d to confirm", strings.ToUpper(string(r.Verdict)), r.Passed, r.Failed, r.Confirm)
	if f := r.FailedClauses(); len(f) > 0 {
		s += " (failed: " + strings.Join(f, ", ") + ")"
	}
	return s
}
