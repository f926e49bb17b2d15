package etsi

import (
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/sceau/sceau/internal/sceau"
)

// QCStatements is the decoded qcStatements extension (RFC 3739 §3.2.6)
// with the statements of EN 319 412-5 and the EN 319 412-1 semantics
// identifier.
type QCStatements struct {
	Compliance     bool                    // QcCompliance, §4.2.1
	SSCD           bool                    // QcSSCD, §4.2.2
	Types          []asn1.ObjectIdentifier // QcType, §4.2.3
	HasType        bool
	CCLegislation  []string // QcCClegislation, §4.2.4
	HasLegislation bool
	HasLimitValue  bool          // QcLimitValue, §4.3.2 (not decoded further)
	PDS            []PDSLocation // QcPDS, §4.3.4
	HasPDS         bool
	RetentionYears int // QcRetentionPeriod, §4.3.3
	HasRetention   bool
	// Semantics are the semanticsIdentifiers of the id-qcs-pkixQCSyntax-v2
	// statements (EN 319 412-1 §5.1); NameRegistrationAuthorities says
	// whether one of them names its registration authorities.
	Semantics                   []asn1.ObjectIdentifier
	NameRegistrationAuthorities bool
	// Statements lists every statementId in order, duplicates included.
	Statements []asn1.ObjectIdentifier
}

// QCStatementsExtension builds the non-critical qcStatements extension
// (EN 319 412-5 §4.1) the profile calls for: QcCompliance when qualified,
// QcSSCD when the key is on a QSCD, QcType, QcPDS, QcRetentionPeriod and
// the semantics identifier of the kind. ok is false when the profile needs
// no statement at all. It encodes what the profile says; Validate is what
// refuses an inconsistent profile.
func QCStatementsExtension(p Profile) (ext pkix.Extension, ok bool, err error) {
	der, err := EncodeQCStatements(p)
	if err != nil || der == nil {
		return pkix.Extension{}, false, err
	}
	return pkix.Extension{Id: OIDQCStatements, Critical: false, Value: der}, true, nil
}

// EncodeQCStatements returns the DER of the profile's QCStatements, nil
// when there is none.
func EncodeQCStatements(p Profile) ([]byte, error) {
	type stmt struct {
		id   asn1.ObjectIdentifier
		info func(*cryptobyte.Builder) // nil: no statementInfo
	}
	var stmts []stmt
	if p.Qualified {
		// QcCompliance and QcSSCD have no statementInfo; zlint checks that
		// they re-encode as a bare SEQUENCE { OID }.
		stmts = append(stmts, stmt{id: OIDQcCompliance})
		if p.QSCD {
			stmts = append(stmts, stmt{id: OIDQcSSCD})
		}
		if t := p.EffectiveQcType().OID(); t != nil {
			stmts = append(stmts, stmt{OIDQcType, func(b *cryptobyte.Builder) {
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { b.AddASN1ObjectIdentifier(t) })
			}})
		}
	}
	if len(p.PDS) > 0 {
		for _, l := range p.PDS {
			if !isASCII(l.URL) || !isPrintable(l.Language) {
				return nil, sceau.Errorf(sceau.Invalid, "etsi", "pds %q (%q): the URL must be ASCII and the language printable (EN 319 412-5 §4.3.4)", l.URL, l.Language)
			}
		}
		stmts = append(stmts, stmt{OIDQcPDS, func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				for _, l := range p.PDS {
					b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
						b.AddASN1(cbasn1.IA5String, func(b *cryptobyte.Builder) { b.AddBytes([]byte(l.URL)) })
						b.AddASN1(cbasn1.PrintableString, func(b *cryptobyte.Builder) { b.AddBytes([]byte(l.Language)) })
					})
				}
			})
		}})
	}
	if p.RetentionYears != 0 {
		stmts = append(stmts, stmt{OIDQcRetentionPeriod, func(b *cryptobyte.Builder) { b.AddASN1Int64(int64(p.RetentionYears)) }})
	}
	if s := p.semantics(); s != nil {
		// RFC 3739 SemanticsInformation with only the semanticsIdentifier:
		// the §5.1.3/§5.1.4 schemes Sceau issues are not locally defined,
		// so no nameRegistrationAuthorities are needed.
		stmts = append(stmts, stmt{OIDQCSyntaxV2, func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { b.AddASN1ObjectIdentifier(s) })
		}})
	}
	if len(stmts) == 0 {
		return nil, nil
	}
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		for _, s := range stmts {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1ObjectIdentifier(s.id)
				if s.info != nil {
					s.info(b)
				}
			})
		}
	})
	der, err := b.Bytes()
	if err != nil {
		return nil, fmt.Errorf("etsi: encode qcStatements: %w", err)
	}
	return der, nil
}

var errQCS = errors.New("malformed qcStatements")

// ParseQCStatements decodes the DER value of a qcStatements extension. It
// refuses trailing data, statementInfo where EN 319 412-5 defines none, and
// any statementInfo of a known statement that does not match its ASN.1
// type; statements it does not know are listed and skipped.
func ParseQCStatements(der []byte) (QCStatements, error) {
	var q QCStatements
	fail := func(format string, args ...any) (QCStatements, error) {
		return QCStatements{}, sceau.E(sceau.Invalid, "etsi", "qcStatements: "+fmt.Sprintf(format, args...), errQCS)
	}
	in := cryptobyte.String(der)
	var seq cryptobyte.String
	if !in.ReadASN1(&seq, cbasn1.SEQUENCE) || !in.Empty() {
		return fail("not a single SEQUENCE OF QCStatement")
	}
	for !seq.Empty() {
		var st cryptobyte.String
		var id asn1.ObjectIdentifier
		if !seq.ReadASN1(&st, cbasn1.SEQUENCE) || !st.ReadASN1ObjectIdentifier(&id) {
			return fail("statement %d is not a SEQUENCE { statementId, statementInfo }", len(q.Statements)+1)
		}
		q.Statements = append(q.Statements, id)
		var info cryptobyte.String
		hasInfo := !st.Empty()
		if hasInfo {
			var tag cbasn1.Tag
			if !st.ReadAnyASN1Element(&info, &tag) || !st.Empty() {
				return fail("statement %s has more than one statementInfo", id)
			}
		}
		if err := q.decode(id, hasInfo, info); err != "" {
			return fail("statement %s: %s", id, err)
		}
	}
	return q, nil
}

// decode reads one statement's info (a full TLV) into q; it returns a
// message when the info does not match the statement's type.
func (q *QCStatements) decode(id asn1.ObjectIdentifier, hasInfo bool, info cryptobyte.String) string {
	switch {
	case id.Equal(OIDQcCompliance), id.Equal(OIDQcSSCD):
		if hasInfo {
			return "must have no statementInfo"
		}
		q.Compliance = q.Compliance || id.Equal(OIDQcCompliance)
		q.SSCD = q.SSCD || id.Equal(OIDQcSSCD)
	case id.Equal(OIDQcType):
		var seq cryptobyte.String
		if !info.ReadASN1(&seq, cbasn1.SEQUENCE) || !info.Empty() {
			return "QcType is not a SEQUENCE OF OBJECT IDENTIFIER"
		}
		for !seq.Empty() {
			var t asn1.ObjectIdentifier
			if !seq.ReadASN1ObjectIdentifier(&t) {
				return "QcType holds something other than an OBJECT IDENTIFIER"
			}
			q.Types = append(q.Types, t)
		}
		q.HasType = true
	case id.Equal(OIDQcPDS):
		var seq cryptobyte.String
		if !info.ReadASN1(&seq, cbasn1.SEQUENCE) || !info.Empty() {
			return "QcPDS is not a SEQUENCE OF PdsLocation"
		}
		for !seq.Empty() {
			var loc, u, lang cryptobyte.String
			if !seq.ReadASN1(&loc, cbasn1.SEQUENCE) ||
				!loc.ReadASN1(&u, cbasn1.IA5String) || !loc.ReadASN1(&lang, cbasn1.PrintableString) || !loc.Empty() {
				return "a PdsLocation is not SEQUENCE { url IA5String, language PrintableString }"
			}
			if !isASCII(string(u)) || !isPrintable(string(lang)) {
				return "a PdsLocation has characters its string types forbid"
			}
			q.PDS = append(q.PDS, PDSLocation{URL: string(u), Language: string(lang)})
		}
		q.HasPDS = true
	case id.Equal(OIDQcRetentionPeriod):
		var n int64
		if !info.ReadASN1Int64WithTag(&n, cbasn1.INTEGER) || !info.Empty() || n < -1<<31 || n > 1<<31-1 {
			return "QcRetentionPeriod is not a small INTEGER"
		}
		q.RetentionYears, q.HasRetention = int(n), true
	case id.Equal(OIDQcCCLegislation):
		var seq cryptobyte.String
		if !info.ReadASN1(&seq, cbasn1.SEQUENCE) || !info.Empty() {
			return "QcCClegislation is not a SEQUENCE OF CountryName"
		}
		for !seq.Empty() {
			var c cryptobyte.String
			if !seq.ReadASN1(&c, cbasn1.PrintableString) {
				return "QcCClegislation holds something other than a PrintableString"
			}
			q.CCLegislation = append(q.CCLegislation, string(c))
		}
		q.HasLegislation = true
	case id.Equal(OIDQcLimitValue):
		if !hasInfo {
			return "QcLimitValue needs a MonetaryValue"
		}
		q.HasLimitValue = true
	case id.Equal(OIDQCSyntaxV2), id.Equal(asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 11, 1}):
		if !hasInfo {
			return ""
		}
		var si cryptobyte.String
		if !info.ReadASN1(&si, cbasn1.SEQUENCE) || !info.Empty() {
			return "SemanticsInformation is not a SEQUENCE"
		}
		if si.PeekASN1Tag(cbasn1.OBJECT_IDENTIFIER) {
			var s asn1.ObjectIdentifier
			if !si.ReadASN1ObjectIdentifier(&s) {
				return "bad semanticsIdentifier"
			}
			q.Semantics = append(q.Semantics, s)
		}
		if !si.Empty() {
			var nra cryptobyte.String
			if !si.ReadASN1(&nra, cbasn1.SEQUENCE) || !si.Empty() {
				return "nameRegistrationAuthorities is not a SEQUENCE OF GeneralName"
			}
			q.NameRegistrationAuthorities = true
		}
	}
	return ""
}

func isPrintable(s string) bool {
	for _, r := range s {
		switch {
		case 'a' <= r && r <= 'z', 'A' <= r && r <= 'Z', '0' <= r && r <= '9':
		case r == ' ', r == '\'', r == '(', r == ')', r == '+', r == ',', r == '-', r == '.', r == '/', r == ':', r == '=', r == '?':
		default:
			return false
		}
	}
	return true
}
