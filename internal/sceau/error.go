package sceau

import (
	"errors"
	"fmt"
)

// Kind classifies an error so that callers (and only the server package, for
// HTTP) can decide what to do without parsing messages.
type Kind int

// The error kinds. The zero value is Internal so that an unclassified error is
// never mistaken for the caller's fault.
const (
	Internal    Kind = iota // a fault of Sceau or its environment
	Invalid                 // the request is malformed or breaks a rule
	NotFound                // the named thing does not exist
	Conflict                // the request clashes with the current state
	Denied                  // the actor may not do this
	Unavailable             // a dependency is down or a resource is exhausted
)

func (k Kind) String() string {
	switch k {
	case Invalid:
		return "invalid"
	case NotFound:
		return "not found"
	case Conflict:
		return "conflict"
	case Denied:
		return "denied"
	case Unavailable:
		return "unavailable"
	default:
		return "internal"
	}
}

// ParseKind is the inverse of Kind.String: a client reads the kind the
// server named in an error answer.
func ParseKind(s string) (Kind, bool) {
	for k := Internal; k <= Unavailable; k++ {
		if k.String() == s {
			return k, true
		}
	}
	return Internal, false
}

// Error is Sceau's error: a kind, the operation that failed, a message safe to
// show to the requester, and the underlying cause.
type Error struct {
	Kind Kind
	Op   string // "ca: prepare", lower case, package-prefixed
	Msg  string // safe for clients; never holds a secret
	Err  error  // the cause, for logs and errors.Is
}

func (e *Error) Error() string {
	switch {
	case e.Msg != "" && e.Err != nil:
		return fmt.Sprintf("%s: %s: %v", e.Op, e.Msg, e.Err)
	case e.Msg != "":
		return fmt.Sprintf("%s: %s", e.Op, e.Msg)
	case e.Err != nil:
		return fmt.Sprintf("%s: %v", e.Op, e.Err)
	default:
		return e.Op + ": " + e.Kind.String()
	}
}

func (e *Error) Unwrap() error { return e.Err }

// Is lets errors.Is test the kind of any Error in the chain against the
// sentinels below: errors.Is(err, sceau.ErrDenied). sceau.KindOf(err) gives
// the kind of the first one.
func (e *Error) Is(target error) bool {
	if k, ok := target.(kindError); ok {
		return e.Kind == Kind(k)
	}
	return false
}

type kindError Kind

func (k kindError) Error() string { return Kind(k).String() }

// Sentinels for errors.Is: errors.Is(err, sceau.ErrNotFound).
var (
	ErrInvalid     error = kindError(Invalid)
	ErrNotFound    error = kindError(NotFound)
	ErrConflict    error = kindError(Conflict)
	ErrDenied      error = kindError(Denied)
	ErrUnavailable error = kindError(Unavailable)
)

// E builds an Error.
func E(kind Kind, op, msg string, err error) *Error {
	return &Error{Kind: kind, Op: op, Msg: msg, Err: err}
}

// Errorf builds an Error whose message is formatted; the message must not
// contain secrets.
func Errorf(kind Kind, op, format string, args ...any) *Error {
	return &Error{Kind: kind, Op: op, Msg: fmt.Sprintf(format, args...)}
}

// KindOf returns the kind of the first Error in err's chain, Internal if none.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return Internal
}

// Message returns the client-safe message of err: the Op and Msg of the first
// Error in the chain, or "internal error" for anything unclassified.
func Message(err error) string {
	var e *Error
	if errors.As(err, &e) && e.Kind != Internal {
		if e.Msg == "" {
			return e.Op + ": " + e.Kind.String()
		}
		return e.Op + ": " + e.Msg
	}
	return "internal error"
}
