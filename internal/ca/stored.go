package ca

import (
	"context"
	"crypto/x509"
	"database/sql"
	"errors"

	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/store"
)

// Exists says whether CA id was created (it has a row in cas), whether or
// not it is loaded.
func Exists(ctx context.Context, q store.Querier, id string) (bool, error) {
	var n int
	err := q.QueryRowContext(ctx, qCountCA, id).Scan(&n)
	return n > 0, store.Classify("ca: lookup", err)
}

// Stored are the certificates of a created CA as the database keeps them.
type Stored struct {
	Cert     *x509.Certificate
	OCSPCert *x509.Certificate // nil when none was made
}

// LookupStored reads the certificates of CA id without loading it (its key
// is not needed); nil when the CA was never created.
func LookupStored(ctx context.Context, q store.Querier, id string) (*Stored, error) {
	const op = "ca: lookup"
	var certDER, ocspDER []byte
	err := q.QueryRowContext(ctx, qCACertificates, id).Scan(&certDER, &ocspDER)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, store.Classify(op, err)
	}
	s := &Stored{}
	if s.Cert, err = x509.ParseCertificate(certDER); err != nil {
		return nil, sceau.E(sceau.Internal, op, "the stored certificate cannot be parsed", err)
	}
	if len(ocspDER) > 0 {
		if s.OCSPCert, err = x509.ParseCertificate(ocspDER); err != nil {
			return nil, sceau.E(sceau.Internal, op, "the stored responder certificate cannot be parsed", err)
		}
	}
	return s, nil
}
