package store

import (
	"context"
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/sceau/sceau/internal/sceau"
)

// LostMessage is the one reason given, everywhere, when the database server
// cannot be reached: refused, reset, closed mid-answer or shutting down.
// Every such error is Unavailable (503): the request was fine and the
// service will take it again once the database is back (AUD-7: fail closed,
// say why). A "500 internal error" would hide an outage an operator can fix
// and that a load balancer must see.
const LostMessage = "the database cannot be reached"

// outage marks the errors that say the store itself is out of service
// (lost, full, read-only, unreadable), as opposed to one request's
// trouble (a conflict, a cancelled request, a busy lock): those are what
// the health check reports.
type outage struct{ err error }

func (o *outage) Error() string { return o.err.Error() }
func (o *outage) Unwrap() error { return o.err }

func down(op, msg string, err error) error {
	return sceau.E(sceau.Unavailable, op, msg, &outage{err})
}

// Lost reports whether err, anywhere in its chain, says the connection to
// the database server is gone or cannot be made.
func Lost(err error) bool {
	if err == nil {
		return false
	}
	var ce *pgconn.ConnectError
	var ne net.Error
	var pe *pgconn.PgError
	switch {
	case errors.As(err, &pe):
		return strings.HasPrefix(pe.Code, "08") || strings.HasPrefix(pe.Code, "57P")
	case errors.As(err, &ce), errors.As(err, &ne),
		errors.Is(err, driver.ErrBadConn), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE),
		pgconn.SafeToRetry(err):
		return true
	}
	msg := err.Error()
	for _, s := range []string{"connection refused", "connection reset", "conn closed", "broken pipe", "database is closed", "unexpected EOF"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

// Unclassified turns an error that reached an answer as Internal but that,
// underneath, is a lost database into the one Unavailable error for it.
// The server applies it last, so that a path which wrapped a driver error
// without Classify still answers 503 with the reason.
func Unclassified(op string, err error) error {
	if sceau.KindOf(err) == sceau.Internal && Lost(err) {
		return down(op, LostMessage, err)
	}
	return err
}

// healthWindow is how long a failed write marks the store unhealthy when
// nothing has committed since: long enough for a load balancer's probes
// to see a full disk, short enough that a node whose disk was freed comes
// back without a write of its own.
const healthWindow = 30 * time.Second

type failure struct {
	at  time.Time
	err error
}

// noteOutcome records the outcome of a commit for Health.
func (db *DB) noteOutcome(err error) {
	if err == nil {
		if db.lastFailure.Load() != nil {
			db.lastFailure.Store(nil)
		}
		return
	}
	var o *outage
	if errors.As(err, &o) {
		db.lastFailure.Store(&failure{at: time.Now(), err: err})
	}
}

// Health reports whether the store can serve: the server answers a ping
// within two seconds, and no write has failed for want of the store (a
// full disk, a read-only file, a lost server) in the last 30 s without a
// commit since. The error is Unavailable with the reason.
func (db *DB) Health(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if err := db.sql.PingContext(ctx); err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return down("store: health", LostMessage+" (no answer within 2 s)", err)
		}
		if err := Classify("store: health", err); sceau.KindOf(err) != sceau.Internal {
			return err
		}
		return down("store: health", LostMessage, err)
	}
	if f := db.lastFailure.Load(); f != nil && time.Since(f.at) < healthWindow {
		return f.err
	}
	return nil
}
