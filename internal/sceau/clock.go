package sceau

import "time"

// Clock tells the time. Every package takes one so tests can move time; nil
// means the real clock.
type Clock interface {
	Now() time.Time
}

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

// RealClock is the wall clock.
var RealClock Clock = realClock{}

// ClockOr returns c, or the real clock when c is nil.
func ClockOr(c Clock) Clock {
	if c == nil {
		return RealClock
	}
	return c
}

// Actor is who performs an operation: an account or a component of Sceau
// itself. Every audit event names one (ROLE-5).
type Actor struct {
	ID   string // "operator", "system:scheduler", a person's account
	Role string // the role under which the action is taken, "" for system actors
}

// System returns the actor for work Sceau does on its own (schedules, recovery).
func System(component string) Actor { return Actor{ID: "system:" + component} }

func (a Actor) String() string {
	if a.Role == "" {
		return a.ID
	}
	return a.ID + " (" + a.Role + ")"
}
