package acme

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"time"

	"github.com/sceau/sceau/internal/audit"
	"github.com/sceau/sceau/internal/store"
)

// Rate limits. They are counted from the database (acme_orders and
// acme_authorizations, indexed by migration 0019), not kept in memory,
// so that they hold across the nodes sharing a PostgreSQL database and
// across restarts. Counting stops at the limit, so that a check reads at
// most that many rows. The count is read before the order is written:
// orders made at the same instant may pass a limit by the few in flight.
//
//   - Options.OrdersPerAccountPerHour: the orders an account made in the
//     last hour, checked at newOrder.
//   - Options.FailedValidationsPerAccountPerHour: the account's challenges
//     that failed in the last hour, checked at newOrder (a failed
//     challenge ends its order, so no new order means no new failure
//     beyond the orders already pending): a client retrying a broken
//     setup in a loop is stopped.
//   - Options.CertificatesPerIdentifierPerWeek: the certificates issued
//     for an identifier (a DNS name, or "*.name" for a wildcard) in the
//     last 7 days, whatever the account, checked at newOrder and again at
//     finalize. Certificates are counted rather than orders so that an
//     account cannot use up a name's allowance with orders it cannot
//     validate. An order replacing (RFC 9773 "replaces") a certificate
//     whose renewal window has begun, or which is revoked, is not held to
//     it: each such renewal uses up a certificate, and a mass revocation
//     must be renewable at once.
//
// A refusal answers 429 rateLimited with Retry-After (when the oldest
// counted order leaves the window), is journaled (acme.rate_limited) and
// counted by Observe("problem", "rateLimited").

const (
	probRateLimited = "rateLimited"

	defaultOrdersPerAccountPerHour            = 300
	defaultCertificatesPerIdentifierPerWeek   = 50
	defaultFailedValidationsPerAccountPerHour = 30

	accountWindow    = time.Hour
	identifierWindow = 7 * 24 * time.Hour
)

// limitsDefaults fills the limits' defaults: 0 takes the default, a
// negative value lifts the limit.
func limitsDefaults(o *Options) {
	if o.OrdersPerAccountPerHour == 0 {
		o.OrdersPerAccountPerHour = defaultOrdersPerAccountPerHour
	}
	if o.CertificatesPerIdentifierPerWeek == 0 {
		o.CertificatesPerIdentifierPerWeek = defaultCertificatesPerIdentifierPerWeek
	}
	if o.FailedValidationsPerAccountPerHour == 0 {
		o.FailedValidationsPerAccountPerHour = defaultFailedValidationsPerAccountPerHour
	}
}

// limitNewOrder checks the limits a new order for names is held to.
func (s *Service) limitNewOrder(ctx context.Context, dir Directory, a *Account, names []string, rep *replacement) *problem {
	now := s.now()
	if max := s.opts.OrdersPerAccountPerHour; max > 0 {
		n, oldest, err := s.countSince(ctx, qCountAccountOrders, qOldestAccountOrder, a.ID, now.Add(-accountWindow), max)
		if err != nil {
			return problemOf(err, probMalformed)
		}
		if n >= max {
			return s.refuseRate(ctx, dir, a, "orders_per_account_per_hour", "", n, max, oldest.Add(accountWindow), now)
		}
	}
	if max := s.opts.FailedValidationsPerAccountPerHour; max > 0 {
		n, oldest, err := s.countSince(ctx, qCountFailedValidations, qOldestFailedValidation, a.ID, now.Add(-accountWindow), max)
		if err != nil {
			return problemOf(err, probMalformed)
		}
		if n >= max {
			return s.refuseRate(ctx, dir, a, "failed_validations_per_account_per_hour", "", n, max, oldest.Add(accountWindow), now)
		}
	}
	if rep != nil && rep.Due {
		return nil
	}
	return s.limitIdentifiers(ctx, dir, a, names, now)
}

// limitFinalize checks the identifier limit again before a certificate
// is made: orders made before the limit was reached are held to it too.
func (s *Service) limitFinalize(ctx context.Context, dir Directory, a *Account, o *Order) *problem {
	if s.opts.CertificatesPerIdentifierPerWeek <= 0 {
		return nil
	}
	var serial sql.NullString
	if err := s.db.QueryRowContext(ctx, qOrderReplaces, o.ID).Scan(&serial); err != nil {
		return problemOf(store.Classify("acme: rate limit", err), probMalformed)
	}
	now := s.now()
	if serial.Valid {
		if rec, err := s.ca.Certificate(ctx, serial.String); err == nil {
			if c, err := issuedOf(rec); err == nil {
				if start, _ := s.window(c, now); !now.Before(start) {
					return nil
				}
			}
		}
	}
	return s.limitIdentifiers(ctx, dir, a, o.Identifiers, now)
}

func (s *Service) limitIdentifiers(ctx context.Context, dir Directory, a *Account, names []string, now time.Time) *problem {
	max := s.opts.CertificatesPerIdentifierPerWeek
	if max <= 0 {
		return nil
	}
	for _, name := range names {
		n, oldest, err := s.countSince(ctx, qCountIdentifierCerts, qOldestIdentifierCert, name, now.Add(-identifierWindow), max)
		if err != nil {
			return problemOf(err, probMalformed)
		}
		if n >= max {
			return s.refuseRate(ctx, dir, a, "certificates_per_identifier_per_week", name, n, max, oldest.Add(identifierWindow), now)
		}
	}
	return nil
}

// countSince counts the rows of key since a time, up to max; when max
// is reached it also returns the oldest time counted (else since).
func (s *Service) countSince(ctx context.Context, count, oldestQ string, key any, since time.Time, max int) (int, time.Time, error) {
	const op = "acme: rate limit"
	var n int
	if err := s.db.QueryRowContext(ctx, count, key, store.FormatTime(since), max).Scan(&n); err != nil {
		return 0, time.Time{}, store.Classify(op, err)
	}
	if n < max {
		return n, since, nil
	}
	var oldest sql.NullString
	if err := s.db.QueryRowContext(ctx, oldestQ, key, store.FormatTime(since)).Scan(&oldest); err != nil {
		return 0, time.Time{}, store.Classify(op, err)
	}
	if !oldest.Valid {
		return n, since, nil
	}
	t, err := store.ParseTime(oldest.String)
	if err != nil {
		return 0, time.Time{}, store.Classify(op, err)
	}
	return n, t, nil
}

// refuseRate journals the refusal and returns the rateLimited problem,
// with Retry-After the time until the oldest counted order leaves the
// window.
func (s *Service) refuseRate(ctx context.Context, dir Directory, a *Account, limit, identifier string, n, max int, until, now time.Time) *problem {
	wait := until.Sub(now)
	if wait < time.Second {
		wait = time.Second
	}
	details := map[string]any{"limit": limit, "count": n, "max": max, "retry_after": until.Format(time.RFC3339), "directory": dir.Name}
	detail := fmt.Sprintf("%d orders of this account in the last hour (at most %d)", n, max)
	if limit == "failed_validations_per_account_per_hour" {
		detail = fmt.Sprintf("%d failed validations of this account in the last hour (at most %d)", n, max)
	}
	if identifier != "" {
		details["identifier"] = identifier
		detail = fmt.Sprintf("%d certificates for %q in the last 7 days (at most %d)", n, identifier, max)
	}
	if err := s.write(ctx, func(ctx context.Context, tx *store.Tx) ([]audit.Event, error) {
		return []audit.Event{{Actor: a.actor(), Action: audit.ActionACMERateLimited, Object: "acme-account:" + itoa(a.ID), Details: details}}, nil
	}); err != nil {
		return problemOf(err, probMalformed)
	}
	p := prob(probRateLimited, http.StatusTooManyRequests, detail+": retry after "+until.Format(time.RFC3339))
	p.retryAfter = int((wait + time.Second - 1) / time.Second)
	return p
}
