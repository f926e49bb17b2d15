package revocation

import (
	"context"
	"crypto/x509"
	"crypto/x509/pkix"
	"database/sql"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"sync"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/sceau/sceau/internal/audit"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/store"
)

// FullCRL is the shard number of a CA's complete CRL; partitions are 1..n.
const FullCRL = 0

// CRL is a signed CRL as published.
type CRL struct {
	CAID       string
	Shard      int
	Number     int64
	ThisUpdate time.Time
	NextUpdate time.Time
	Entries    int
	DER        []byte
}

// Entry is one revoked certificate.
type Entry struct {
	Serial    *big.Int
	RevokedAt time.Time
	Reason    int
}

var oidIssuingDistributionPoint = asn1.ObjectIdentifier{2, 5, 29, 28}

// ShardOf returns the partition (1..shards) a serial belongs to; the
// issuance path writes the matching URL into the certificate's CDP.
func ShardOf(serial *big.Int, shards int) int {
	if shards <= 0 {
		return FullCRL
	}
	return int(new(big.Int).Mod(serial, big.NewInt(int64(shards))).Int64()) + 1
}

func (s *Service) crlLock(caID string) *sync.Mutex {
	m, _ := s.crlMu.LoadOrStore(caID, &sync.Mutex{})
	return m.(*sync.Mutex)
}

// IssueCRL builds, signs and stores a new CRL for the CA (and its partitions
// when the CA is sharded). The CRL number is reserved and recorded with an
// audit event before signing; the signed CRLs are stored with a second event.
func (s *Service) IssueCRL(ctx context.Context, actor sceau.Actor, caID string) ([]*CRL, error) {
	return s.issueCRL(ctx, actor, caID, false)
}

// FinalNextUpdate is the nextUpdate of a terminated CA's last CRL:
// 9999-12-31 23:59:59 UTC, GeneralizedTime 99991231235959Z (END-1, RFC 5280
// §4.1.2.5: no next update is intended). Go encodes years after 2049 as
// GeneralizedTime.
var FinalNextUpdate = time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)

// IssueFinalCRL issues a terminated CA's last CRL (and its shards), whose
// nextUpdate is FinalNextUpdate (END-1); no CRL of the CA follows it.
func (s *Service) IssueFinalCRL(ctx context.Context, actor sceau.Actor, caID string) ([]*CRL, error) {
	return s.issueCRL(ctx, actor, caID, true)
}

// Final says whether CA caID issued its final CRL, and its number.
func (s *Service) Final(ctx context.Context, q store.Querier, caID string) (int64, bool, error) {
	var (
		number int64
		next   string
	)
	err := q.QueryRowContext(ctx, qLatestCRLNext, caID).Scan(&number, &next)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, store.Classify("revocation: final crl", err)
	}
	return number, next == store.FormatTime(FinalNextUpdate), nil
}

func (s *Service) issueCRL(ctx context.Context, actor sceau.Actor, caID string, final bool) ([]*CRL, error) {
	const op = "revocation: issue crl"
	iss, err := s.Issuer(caID)
	if err != nil {
		return nil, err
	}
	// SYS-4: no CRL number is reserved, and no CRL signed, on a clock that
	// is not trusted: its thisUpdate and nextUpdate would be wrong.
	if err := s.clockErr(op); err != nil {
		return nil, err
	}
	mu := s.crlLock(caID)
	mu.Lock()
	defer mu.Unlock()

	// Read outside the transaction: a million entries would hold the
	// database's write lock meanwhile (SQLite).
	entries, err := s.revokedEntries(ctx, s.db, caID)
	if err != nil {
		return nil, err
	}
	if s.afterCRLRead != nil {
		s.afterCRLRead()
	}
	shards := []int{FullCRL}
	for k := 1; k <= iss.CRL.Shards; k++ {
		shards = append(shards, k)
	}
	var (
		number    int64
		now, next time.Time
		parts     map[int][]x509.RevocationListEntry
	)
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		// One statement takes the next number: on PostgreSQL the upsert
		// locks the row, so two nodes issuing at once get consecutive
		// numbers instead of a conflict; on SQLite the write lock does the
		// same (RFC 5280 §5.2.3: CRL numbers only increase).
		// END-1: nothing follows a terminated CA's final CRL.
		if n, done, err := s.Final(ctx, tx, caID); err != nil {
			return err
		} else if done {
			return sceau.Errorf(sceau.Conflict, op, "CA %q is terminated: its final CRL %d (nextUpdate 99991231235959Z) stays the last", caID, n)
		}
		err := tx.QueryRowContext(ctx, qNextCRLNumber, caID).Scan(&number)
		if err != nil {
			return store.Classify(op, err)
		}
		// CA-3, several nodes: the number was taken after the previous
		// CRL's transaction committed, and that CRL listed what was revoked
		// before it committed. The entries read above may predate a
		// revocation made meanwhile on another node (the mutex above is
		// this process's only), which would let a higher number list less.
		// A revocation is never undone, so the same count means the same
		// set; otherwise the entries are read again, here.
		var revoked int
		if err := tx.QueryRowContext(ctx, qCountRevoked, caID).Scan(&revoked); err != nil {
			return store.Classify(op, err)
		}
		if revoked != len(entries) {
			if entries, err = s.revokedEntries(ctx, tx, caID); err != nil {
				return err
			}
		}
		// thisUpdate after the number: on one clock, a higher number
		// never carries an earlier thisUpdate.
		now = s.clock.Now().UTC().Truncate(time.Second)
		next = now.Add(iss.CRL.Validity)
		if next.After(iss.Cert.NotAfter) {
			next = iss.Cert.NotAfter
		}
		if final {
			next = FinalNextUpdate
		}
		parts = partition(entries, iss.CRL.Shards)
		if err := checkShards(ctx, tx, caID, number-1, iss.CRL.Shards); err != nil {
			return err
		}
		for _, k := range shards {
			if _, err := tx.ExecContext(ctx, qInsertCRLShard, caID, k, number, store.FormatTime(now), store.FormatTime(next), len(parts[k])); err != nil {
				return store.Classify(op, err)
			}
		}
		return s.journal.Append(ctx, tx, audit.Event{Actor: actor, Action: "crl.prepared", Object: "ca:" + caID,
			Details: map[string]any{"number": number, "entries": len(entries), "shards": iss.CRL.Shards,
				"this_update": now, "next_update": next}})
	})
	if err != nil {
		return nil, err
	}

	out := make([]*CRL, 0, len(shards))
	for _, k := range shards {
		tmpl := &x509.RevocationList{
			Number:                    big.NewInt(number),
			ThisUpdate:                now,
			NextUpdate:                next,
			RevokedCertificateEntries: parts[k],
		}
		expired, err := expiredCertsOnCRL(iss.Cert.NotBefore)
		if err != nil {
			return nil, sceau.E(sceau.Internal, op, "", err)
		}
		tmpl.ExtraExtensions = []pkix.Extension{expired}
		if k != FullCRL {
			idp, err := issuingDistributionPoint(iss.ShardURL(k))
			if err != nil {
				return nil, sceau.E(sceau.Internal, op, "", err)
			}
			tmpl.ExtraExtensions = append(tmpl.ExtraExtensions, idp)
		}
		if err := s.clockErr(op); err != nil { // SYS-4: it changed since; the number stays unused
			return nil, err
		}
		der, err := createCRL(tmpl, iss.Cert, iss.Signer) // crlencode.go
		if err != nil {
			msg := fmt.Sprintf("CA %q cannot sign its CRL", caID)
			if sceau.KindOf(err) == sceau.NotFound { // KEY-6: a destroyed key says so
				msg += ": " + sceau.Message(err)
			}
			return nil, sceau.E(sceau.Unavailable, op, msg, err)
		}
		out = append(out, &CRL{CAID: caID, Shard: k, Number: number, ThisUpdate: now, NextUpdate: next, Entries: len(parts[k]), DER: der})
	}
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		for _, c := range out {
			if _, err := tx.ExecContext(ctx, qSetCRLDER,
				c.DER, caID, number, c.Shard); err != nil {
				return store.Classify(op, err)
			}
		}
		if s.opts.OnCRLIssued != nil {
			if err := s.opts.OnCRLIssued(ctx, tx, out); err != nil {
				return err
			}
		}
		return s.journal.Append(ctx, tx, audit.Event{Actor: actor, Action: "crl.issued", Object: "ca:" + caID,
			Details: map[string]any{"number": number, "entries": len(entries), "crls": len(out)}})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// partition splits entries among the full CRL and the CA's shards.
func partition(entries []x509.RevocationListEntry, shards int) map[int][]x509.RevocationListEntry {
	parts := make(map[int][]x509.RevocationListEntry, shards+1)
	parts[FullCRL] = entries
	if shards > 0 {
		for _, e := range entries {
			k := ShardOf(e.SerialNumber, shards)
			parts[k] = append(parts[k], e)
		}
	}
	return parts
}

// revokedEntries returns every revoked serial of the CA. A CRL may list a
// million of them: the entries are counted first and allocated at once,
// serials are decoded into one slab of words, and stored dates (fixed
// width, store.FormatTime) are read without time.Parse; anything unusual
// takes the general path (big.Int.SetString, store.ParseTime).
func (s *Service) revokedEntries(ctx context.Context, q store.Querier, caID string) ([]x509.RevocationListEntry, error) {
	const op = "revocation: read revoked"
	// A size hint only: revocations committed in between are still read.
	var n int
	if err := q.QueryRowContext(ctx, qCountRevoked, caID).
		Scan(&n); err != nil {
		return nil, store.Classify(op, err)
	}
	rows, err := q.QueryContext(ctx, qRevokedEntries, caID)
	if err != nil {
		return nil, store.Classify(op, err)
	}
	defer rows.Close()

	const wordHex = 2 * (32 << (^big.Word(0) >> 63) / 8) // hex digits per big.Word
	out := make([]x509.RevocationListEntry, 0, n)
	ints := make([]big.Int, n)
	words := make([]big.Word, 0, n*((32+wordHex-1)/wordHex)) // 128-bit serials
	var hexDigit [256]byte
	for c := range hexDigit {
		switch {
		case '0' <= c && c <= '9':
			hexDigit[c] = byte(c - '0')
		case 'a' <= c && c <= 'f':
			hexDigit[c] = byte(c - 'a' + 10)
		case 'A' <= c && c <= 'F':
			hexDigit[c] = byte(c - 'A' + 10)
		default:
			hexDigit[c] = 0xff
		}
	}
	// serial decodes lower- or upper-case hex into words carved from the
	// slab, least significant first (big.Int.SetBits).
	serial := func(sn string, z *big.Int) bool {
		k := (len(sn) + wordHex - 1) / wordHex
		if k == 0 {
			return false
		}
		if cap(words)-len(words) < k {
			words = make([]big.Word, 0, max(k, 4096))
		}
		w := words[len(words) : len(words)+k : len(words)+k]
		words = words[:len(words)+k]
		for i := range w {
			end := len(sn) - i*wordHex
			var v big.Word
			for _, c := range []byte(sn[max(0, end-wordHex):end]) {
				d := hexDigit[c]
				if d > 15 {
					return false
				}
				v = v<<4 | big.Word(d)
			}
			w[i] = v
		}
		z.SetBits(w)
		return true
	}
	// date reads store.FormatTime's 2006-01-02T15:04:05.000000000Z.
	date := func(at string) (time.Time, bool) {
		if len(at) != 30 || at[4] != '-' || at[7] != '-' || at[10] != 'T' || at[13] != ':' || at[16] != ':' ||
			at[19] != '.' || at[29] != 'Z' {
			return time.Time{}, false
		}
		num := func(from, to int) (int, bool) {
			v := 0
			for _, c := range []byte(at[from:to]) {
				if c < '0' || c > '9' {
					return 0, false
				}
				v = v*10 + int(c-'0')
			}
			return v, true
		}
		y, ok1 := num(0, 4)
		mo, ok2 := num(5, 7)
		d, ok3 := num(8, 10)
		h, ok4 := num(11, 13)
		mi, ok5 := num(14, 16)
		sec, ok6 := num(17, 19)
		ns, ok7 := num(20, 29)
		if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6 && ok7) || mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || sec > 59 {
			return time.Time{}, false
		}
		if d > 28 && d > time.Date(y, time.Month(mo)+1, 0, 0, 0, 0, 0, time.UTC).Day() {
			return time.Time{}, false
		}
		return time.Date(y, time.Month(mo), d, h, mi, sec, ns, time.UTC), true
	}

	var (
		sn, at string // outside the loop: Scan makes them escape
		reason sql.NullInt64
	)
	for rows.Next() {
		if err := rows.Scan(&sn, &at, &reason); err != nil {
			return nil, store.Classify(op, err)
		}
		var z *big.Int
		if i := len(out); i < len(ints) {
			z = &ints[i]
		} else {
			z = new(big.Int)
		}
		if !serial(sn, z) {
			if _, ok := z.SetString(sn, 16); !ok {
				return nil, sceau.Errorf(sceau.Internal, op, "stored serial %q is not hexadecimal", sn)
			}
		}
		t, ok := date(at)
		if !ok {
			if t, err = store.ParseTime(at); err != nil {
				return nil, err
			}
		}
		out = append(out, x509.RevocationListEntry{SerialNumber: z, RevocationTime: t, ReasonCode: int(reason.Int64)})
	}
	return out, store.Classify(op, rows.Err())
}

// Latest returns the newest signed CRL of the CA for the shard.
func (s *Service) Latest(ctx context.Context, caID string, shard int) (*CRL, error) {
	const op = "revocation: latest crl"
	c := &CRL{CAID: caID, Shard: shard}
	var this, next string
	err := s.db.QueryRowContext(ctx, qLatestCRL, caID, shard).
		Scan(&c.Number, &this, &next, &c.Entries, &c.DER)
	if err == sql.ErrNoRows {
		return nil, sceau.Errorf(sceau.NotFound, op, "CA %q has no CRL yet", caID)
	}
	if err != nil {
		return nil, store.Classify(op, err)
	}
	if c.ThisUpdate, err = store.ParseTime(this); err != nil {
		return nil, err
	}
	if c.NextUpdate, err = store.ParseTime(next); err != nil {
		return nil, err
	}
	return c, nil
}

// issuingDistributionPoint encodes the RFC 5280 §5.2.5 extension naming the
// partition's URL, with onlyContainsUserCerts.
func issuingDistributionPoint(uri string) (pkix.Extension, error) {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.Tag(0).ContextSpecific().Constructed(), func(b *cryptobyte.Builder) { // distributionPoint
			b.AddASN1(cbasn1.Tag(0).ContextSpecific().Constructed(), func(b *cryptobyte.Builder) { // fullName
				b.AddASN1(cbasn1.Tag(6).ContextSpecific(), func(b *cryptobyte.Builder) { // uniformResourceIdentifier
					b.AddBytes([]byte(uri))
				})
			})
		})
		b.AddASN1(cbasn1.Tag(1).ContextSpecific(), func(b *cryptobyte.Builder) { // onlyContainsUserCerts
			b.AddUint8(0xff)
		})
	})
	der, err := b.Bytes()
	return pkix.Extension{Id: oidIssuingDistributionPoint, Critical: true, Value: der}, err
}

// RunScheduler reissues each CA's CRL when it is older than its refresh
// period or after a revocation (kick), and refreshes pre-signed OCSP
// responses, until ctx ends.
func (s *Service) RunScheduler(ctx context.Context, kick <-chan string, every time.Duration, logf func(msg string, args ...any)) {
	actor := sceau.System("scheduler")
	t := time.NewTicker(every)
	defer t.Stop()
	check := func() { s.schedulerPass(ctx, actor, logf) }
	check()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			check()
		case id := <-kick:
			// A burst of revocations kicks many times: every kick queued
			// now was sent after its revocation committed, so one CRL per
			// CA, read after this drain, lists them all (CA-3).
			ids := []string{id}
			for drained := false; !drained; {
				select {
				case more := <-kick:
					if !slices.Contains(ids, more) {
						ids = append(ids, more)
					}
				default:
					drained = true
				}
			}
			for _, id := range ids {
				if _, err := s.IssueCRL(ctx, actor, id); err != nil && ctx.Err() == nil {
					logf("crl issuance failed", "ca", id, "err", err)
				}
			}
		}
	}
}

// schedulerPass issues the CRLs that are due: those older than their
// refresh, and those owed a revocation made since (CA-3); then it re-signs
// the OCSP responses that expire soon.
func (s *Service) schedulerPass(ctx context.Context, actor sceau.Actor, logf func(msg string, args ...any)) {
	// SYS-4: nothing is signed while the clock is not trusted; said once
	// per pass, and what is owed is issued at the first pass after.
	if err := s.clockErr("revocation: scheduler"); err != nil {
		logf("crl issuance and ocsp refresh wait for the clock", "err", err)
		return
	}
	s.mu.RLock()
	ids := make([]string, 0, len(s.issuers))
	for id := range s.issuers {
		ids = append(ids, id)
	}
	s.mu.RUnlock()
	for _, id := range ids {
		iss, _ := s.Issuer(id)
		if _, final, err := s.Final(ctx, s.db, id); err == nil && final {
			continue // END-1: the final CRL stays the last
		}
		c, err := s.Latest(ctx, id, FullCRL)
		if err == nil && s.clock.Now().Sub(c.ThisUpdate) < iss.CRL.Refresh {
			// CA-3: a revocation acknowledged after this CRL is owed
			// now, not at the next refresh (owed.go).
			if owed, oerr := s.owesCRL(ctx, id, c); oerr != nil || !owed {
				if oerr != nil && ctx.Err() == nil {
					logf("owed crl check failed", "ca", id, "err", oerr)
				}
				continue
			}
		}
		if _, err := s.IssueCRL(ctx, actor, id); err != nil && ctx.Err() == nil {
			logf("crl issuance failed", "ca", id, "err", err)
		}
	}
	if n, err := s.Refresh(ctx, 10000); err != nil && ctx.Err() == nil {
		logf("ocsp refresh failed", "err", err)
	} else if n > 0 {
		logf("ocsp responses refreshed", "count", n)
	}
}

// checkShards refuses a partition count that differs from the one of the
// CA's previous CRL: certificates issued before name the partition URL of
// the old count in their CRL distribution point, and a partition that is no
// longer reissued would let its revocations go stale. Going from no
// partitions to some is safe, since earlier certificates name the full CRL,
// which is always published.
func checkShards(ctx context.Context, q store.Querier, caID string, previous int64, shards int) error {
	if previous < 1 {
		return nil
	}
	var had int
	if err := q.QueryRowContext(ctx, qCountPartitions,
		caID, previous).Scan(&had); err != nil {
		return store.Classify("revocation: crl partitions", err)
	}
	if had > 0 && had != shards {
		return sceau.Errorf(sceau.Invalid, "revocation: crl partitions",
			"CA %q has published %d CRL partitions and certificates name them in their distribution points; crl.shards is now %d: set it back to %d",
			caID, had, shards, had)
	}
	return nil
}

// CheckShards checks every CA's configured partition count against its
// published CRLs, so a changed crl.shards stops the node at start with the
// reason rather than at the next CRL.
func (s *Service) CheckShards(ctx context.Context) error {
	s.mu.RLock()
	issuers := make([]*Issuer, 0, len(s.issuers))
	for _, iss := range s.issuers {
		issuers = append(issuers, iss)
	}
	s.mu.RUnlock()
	for _, iss := range issuers {
		var last int64
		err := s.db.QueryRowContext(ctx, qLastCRLNumber, iss.ID).Scan(&last)
		if err == sql.ErrNoRows {
			continue
		}
		if err != nil {
			return store.Classify("revocation: crl partitions", err)
		}
		if err := checkShards(ctx, s.db, iss.ID, last, iss.CRL.Shards); err != nil {
			return err
		}
	}
	return nil
}

// oidExpiredCertsOnCRL is X.509's expiredCertsOnCRL (ITU-T X.509 §9.6.2.7).
var oidExpiredCertsOnCRL = asn1.ObjectIdentifier{2, 5, 29, 60}

// expiredCertsOnCRL says that the CRL keeps every certificate revoked since
// the CA's own start, expired or not (CA-3). EN 319 411-2 asks that
// revocation status stay available after a certificate expires; Sceau never
// drops a revoked entry, so its CRLs say so with this extension, which
// covers CRL and OCSP users alike (an OCSP archiveCutoff would speak for the
// responder only). See docs/profiles.md.
func expiredCertsOnCRL(since time.Time) (pkix.Extension, error) {
	v, err := asn1.MarshalWithParams(since.UTC(), "generalized")
	return pkix.Extension{Id: oidExpiredCertsOnCRL, Value: v}, err
}
