package ceremony

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/sceau/sceau/internal/sceau"
)

// Answer is a participant's answer to a step.
type Answer struct {
	Yes  bool
	Note string // why, for a refusal; optional
}

// Confirmer asks the participant of a step to confirm it.
type Confirmer interface {
	Confirm(ctx context.Context, st Step) (Answer, error)
}

// How confirmations were given, as the transcript records it.
const (
	ConfirmedAtTerminal = "terminal"     // typed by each participant
	ConfirmedByFile     = "pre-recorded" // read from a confirmation file
)

// Console asks at a terminal: the participant types yes or no, and for no
// an optional reason. It reads byte by byte so that it never consumes what
// a PIN prompt on the same terminal reads next.
type Console struct {
	In  io.Reader
	Out io.Writer
}

var _ Confirmer = (*Console)(nil)

// Confirm asks until the answer is yes or no. An interrupt (ctx done)
// ends the wait: the ceremony then stops there.
func (c *Console) Confirm(ctx context.Context, st Step) (Answer, error) {
	for {
		fmt.Fprint(c.Out, st.Prompt())
		line, err := c.line(ctx)
		if err != nil {
			return Answer{}, sceau.E(sceau.Unavailable, "ceremony: confirm", fmt.Sprintf("no answer from %s to step %d", st.Participant.Name, st.N), err)
		}
		switch strings.ToLower(strings.TrimSpace(line)) {
		case "yes":
			return Answer{Yes: true}, nil
		case "no":
			fmt.Fprint(c.Out, "Reason (optional, recorded in the transcript): ")
			note, err := c.line(ctx)
			if err != nil && ctx.Err() != nil {
				return Answer{}, ctx.Err()
			}
			return Answer{Note: strings.TrimSpace(note)}, nil
		}
		fmt.Fprintln(c.Out, "Please type yes or no.")
	}
}

// line reads one line, or gives up when ctx is done (the reading goroutine
// then ends with the process).
func (c *Console) line(ctx context.Context) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	type result struct {
		s   string
		err error
	}
	ch := make(chan result, 1)
	go func() {
		s, err := readLine(c.In)
		ch <- result{s, err}
	}()
	select {
	case r := <-ch:
		return r.s, r.err
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// readLine reads up to a newline, one byte at a time.
func readLine(r io.Reader) (string, error) {
	var b []byte
	var one [1]byte
	for {
		n, err := r.Read(one[:])
		if n == 1 {
			if one[0] == '\n' {
				return strings.TrimSuffix(string(b), "\r"), nil
			}
			b = append(b, one[0])
			if len(b) > 4096 {
				return "", errors.New("line too long")
			}
		}
		if err != nil {
			if err == io.EOF && len(b) > 0 {
				return string(b), nil
			}
			return "", err
		}
	}
}

// Recorded are pre-recorded confirmations, for tests and automation. The
// file has one line per step: STEP PARTICIPANT yes|no [note]; '#' starts a
// comment. The transcript says that confirmations came from it.
type Recorded struct {
	answers map[int]recordedAnswer
}

type recordedAnswer struct {
	line        int
	participant string
	Answer
}

var _ Confirmer = (*Recorded)(nil)

// ParseConfirmations reads a confirmation file.
func ParseConfirmations(b []byte) (*Recorded, error) {
	const op = "ceremony: confirmation file"
	r := &Recorded{answers: map[int]recordedAnswer{}}
	for i, line := range strings.Split(string(b), "\n") {
		if k := strings.IndexByte(line, '#'); k >= 0 {
			line = line[:k]
		}
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if len(f) < 3 {
			return nil, sceau.Errorf(sceau.Invalid, op, "line %d: want STEP PARTICIPANT yes|no [note]", i+1)
		}
		n, err := strconv.Atoi(f[0])
		if err != nil || n < 1 {
			return nil, sceau.Errorf(sceau.Invalid, op, "line %d: %q is not a step number", i+1, f[0])
		}
		if prev, dup := r.answers[n]; dup {
			return nil, sceau.Errorf(sceau.Invalid, op, "line %d: step %d is answered already on line %d", i+1, n, prev.line)
		}
		a := recordedAnswer{line: i + 1, participant: f[1], Answer: Answer{Note: strings.Join(f[3:], " ")}}
		switch strings.ToLower(f[2]) {
		case "yes":
			a.Yes = true
		case "no":
		default:
			return nil, sceau.Errorf(sceau.Invalid, op, "line %d: the answer must be yes or no, not %q", i+1, f[2])
		}
		r.answers[n] = a
	}
	return r, nil
}

// Check refuses a file that answers a step that is not in the plan, or
// answers in the name of someone other than the step's participant.
// Steps without an answer are allowed: the ceremony stops there.
func (r *Recorded) Check(plan []Step) error {
	var problems []string
	for _, n := range slices.Sorted(maps.Keys(r.answers)) {
		a := r.answers[n]
		if n > len(plan) {
			problems = append(problems, fmt.Sprintf("line %d answers step %d, but the ceremony has %d steps", a.line, n, len(plan)))
			continue
		}
		if st := plan[n-1]; st.Participant.Name != a.participant {
			problems = append(problems, fmt.Sprintf("line %d answers step %d as %s, but %s confirms it ('%s')", a.line, n, a.participant, st.Participant.Name, st.Title))
		}
	}
	if len(problems) > 0 {
		return sceau.Errorf(sceau.Invalid, "ceremony: confirmation file", "it does not match the plan (see 'sceau ceremony plan'):\n  - %s",
			strings.Join(problems, "\n  - "))
	}
	return nil
}

// Confirm returns the recorded answer of the step.
func (r *Recorded) Confirm(ctx context.Context, st Step) (Answer, error) {
	a, ok := r.answers[st.N]
	if !ok {
		return Answer{}, sceau.Errorf(sceau.Invalid, "ceremony: confirm", "the confirmation file has no answer for step %d", st.N)
	}
	if a.participant != st.Participant.Name {
		return Answer{}, sceau.Errorf(sceau.Invalid, "ceremony: confirm", "the confirmation file answers step %d as %s, not %s", st.N, a.participant, st.Participant.Name)
	}
	return a.Answer, nil
}
