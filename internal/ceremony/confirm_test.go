package ceremony

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
)

func TestKEY8_ConsoleAsksUntilYesOrNo(t *testing.T) {
	st := Step{N: 3, Title: "do it", Participant: Participant{Name: "alice", Role: KeyShareHolder}}
	tests := []struct {
		in      string
		want    Answer
		wantErr bool
	}{
		{"yes\n", Answer{Yes: true}, false},
		{"maybe\nYES\r\n", Answer{Yes: true}, false},
		{"no\nnot today\n", Answer{Note: "not today"}, false},
		{"", Answer{}, true},
		{"perhaps\n", Answer{}, true}, // then the input ends: no answer
	}
	for _, tc := range tests {
		var out bytes.Buffer
		got, err := (&Console{In: strings.NewReader(tc.in), Out: &out}).Confirm(context.Background(), st)
		if (err != nil) != tc.wantErr || got != tc.want {
			t.Errorf("%q: got %+v, %v", tc.in, got, err)
		}
		if !strings.Contains(out.String(), "alice (key-share-holder): confirm step 3 'do it' [yes/no]") {
			t.Errorf("prompt: %q", out.String())
		}
	}
}

func TestKEY8_ConfirmationFileMatchesThePlan(t *testing.T) {
	plan := Plan(exampleScript(t), exampleDeclaration(t))
	rec, err := ParseConfirmations([]byte(ConfirmationTemplate(plan)))
	if err != nil {
		t.Fatal(err)
	}
	if err := rec.Check(plan); err != nil {
		t.Fatal(err)
	}
	if a, err := rec.Confirm(context.Background(), plan[6]); err != nil || !a.Yes {
		t.Fatalf("step 7: %+v %v", a, err)
	}
	for _, tc := range []struct{ text, want string }{
		{"1 sophie maybe", "must be yes or no"},
		{"x sophie yes", "not a step number"},
		{"1 sophie", "want STEP PARTICIPANT"},
		{"1 sophie yes\n1 sophie no", "answered already on line 1"},
	} {
		if _, err := ParseConfirmations([]byte(tc.text)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v", tc.text, err)
		}
	}
	for _, tc := range []struct{ text, want string }{
		{"1 martin yes", "answers step 1 as martin, but sophie confirms it"},
		{"99 sophie yes", "answers step 99, but the ceremony has 29 steps"},
	} {
		rec, err := ParseConfirmations([]byte(tc.text))
		if err != nil {
			t.Fatal(err)
		}
		if err := rec.Check(plan); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v", tc.text, err)
		}
	}
	rec, _ = ParseConfirmations([]byte("1 sophie no wrong configuration # a comment"))
	if a, err := rec.Confirm(context.Background(), plan[0]); err != nil || a.Yes || a.Note != "wrong configuration" {
		t.Errorf("refusal: %+v %v", a, err)
	}
	if _, err := rec.Confirm(context.Background(), plan[1]); err == nil {
		t.Error("a step without a recorded answer was confirmed")
	}
}

// An interrupt ends the wait for an answer.
func TestKEY8_ConsoleStopsOnInterrupt(t *testing.T) {
	r, w := io.Pipe()
	defer w.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := (&Console{In: r, Out: io.Discard}).Confirm(ctx, Step{N: 1, Participant: Participant{Name: "sophie"}})
		done <- err
	}()
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v", err)
	}
}
