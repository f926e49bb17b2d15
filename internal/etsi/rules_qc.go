package etsi

import (
	"encoding/asn1"
	"fmt"
	"slices"
)

// qcsOK returns the decoded statements, or nil when there are none or they
// are malformed (qcsWellFormed reports that once).
func (v *view) qcsOK() *QCStatements {
	if !v.hasQCS || v.qcsErr != nil {
		return nil
	}
	return &v.qcs
}

// EN 319 412-5 §4.1 (QCS-4.1-02, -02A): non-critical, so relying parties
// that do not know a statement still accept the certificate; each
// statement once.
func qcsWellFormed(v *view, _ Profile) []string {
	if !v.hasQCS {
		return nil
	}
	if v.qcsErr != nil {
		return []string{msgOf(v.qcsErr)}
	}
	var out []string
	if v.critical[OIDQCStatements.String()] {
		out = append(out, "qcStatements: the extension is critical")
	}
	for i, id := range v.qcs.Statements {
		if slices.IndexFunc(v.qcs.Statements[:i], id.Equal) >= 0 && slices.IndexFunc(v.qcs.Statements[i+1:], id.Equal) < 0 {
			out = append(out, fmt.Sprintf("qcStatements: statement %s appears more than once", id))
		}
	}
	return out
}

// qcsBroken: the extension is there but malformed; qcsWellFormed says so
// once, and the rules that read statements stay silent rather than repeat
// it as missing statements.
func (v *view) qcsBroken() bool { return v.hasQCS && v.qcsErr != nil }

func present(q *QCStatements, f func(*QCStatements) bool) bool { return q != nil && f(q) }

// EN 319 412-5 §4.2.1: the claim that the certificate is an EU qualified
// certificate must match the profile, both ways.
func qcCompliance(v *view, p Profile) []string {
	if v.qcsBroken() {
		return nil
	}
	has := present(v.qcsOK(), func(q *QCStatements) bool { return q.Compliance })
	switch {
	case p.Qualified && !has:
		return []string{"qcStatements: QcCompliance is missing from a qualified certificate"}
	case !p.Qualified && has:
		return []string{"qcStatements: QcCompliance claims a qualified certificate, but the profile is not qualified"}
	}
	return nil
}

// EN 319 412-5 §4.2.2.
func qcSSCD(v *view, p Profile) []string {
	if v.qcsBroken() {
		return nil
	}
	has := present(v.qcsOK(), func(q *QCStatements) bool { return q.SSCD })
	switch {
	case p.QSCD && !has:
		return []string{"qcStatements: QcSSCD is missing, but the key is on a QSCD"}
	case !p.QSCD && has:
		return []string{"qcStatements: QcSSCD claims a QSCD, but the profile's key is not on one"}
	}
	return nil
}

// EN 319 412-5 §4.2.3: one and only one type since V2.5.1 (zlint's
// e_qcstatem_qctype_oneonly); it must be the kind's.
func qcType(v *view, p Profile) []string {
	if v.qcsBroken() {
		return nil
	}
	q := v.qcsOK()
	if !p.Qualified {
		return nil
	}
	if q == nil || !q.HasType {
		return []string{"qcStatements: QcType is missing from a qualified certificate"}
	}
	want := p.EffectiveQcType().OID()
	switch {
	case len(q.Types) != 1:
		return []string{fmt.Sprintf("qcStatements: QcType holds %d types %v, want exactly %s", len(q.Types), q.Types, want)}
	case !q.Types[0].Equal(want):
		return []string{fmt.Sprintf("qcStatements: QcType is %s, a %s needs %s (%s)", q.Types[0], p.Kind, want, p.EffectiveQcType())}
	}
	return nil
}

// EN 319 412-5 §5 table 2: QcCClegislation is for qualified certificates
// under a non-EU legislation.
func qcNoLegislation(v *view, p Profile) []string {
	if v.qcsBroken() {
		return nil
	}
	if p.Qualified && present(v.qcsOK(), func(q *QCStatements) bool { return q.HasLegislation }) {
		return []string{fmt.Sprintf("qcStatements: QcCClegislation %v in an EU qualified certificate", v.qcs.CCLegislation)}
	}
	return nil
}

// EN 319 412-5 §4.3.4. Sceau requires QcPDS in every qualified
// certificate because EN 319 411-2 requires a PDS; whether table 2 of
// EN 319 412-5 makes the statement itself mandatory could not be
// confirmed, so the presence half cites §4.3.4 as Sceau's reading.
func qcPDS(v *view, p Profile) []string {
	if v.qcsBroken() {
		return nil
	}
	q := v.qcsOK()
	has := q != nil && q.HasPDS
	if !has {
		if p.Qualified {
			return []string{"qcStatements: QcPDS is missing from a qualified certificate"}
		}
		return nil
	}
	var out []string
	if len(q.PDS) == 0 {
		out = append(out, "qcStatements: QcPDS is empty")
	}
	for _, msg := range pdsProblems(q.PDS) {
		out = append(out, "qcStatements: QcPDS: "+msg)
	}
	for _, want := range p.PDS {
		if !slices.Contains(q.PDS, want) {
			out = append(out, fmt.Sprintf("qcStatements: QcPDS lacks the profile's %s (%s)", want.URL, want.Language))
		}
	}
	return out
}

// EN 319 412-5 §4.3.3: a number of years after expiry.
func qcRetention(v *view, p Profile) []string {
	if v.qcsBroken() {
		return nil
	}
	q := v.qcsOK()
	has := q != nil && q.HasRetention
	switch {
	case has && q.RetentionYears <= 0:
		return []string{fmt.Sprintf("qcStatements: QcRetentionPeriod is %d years, not positive", q.RetentionYears)}
	case p.RetentionYears > 0 && !has:
		return []string{fmt.Sprintf("qcStatements: QcRetentionPeriod of %d years is missing", p.RetentionYears)}
	case has && p.RetentionYears > 0 && q.RetentionYears != p.RetentionYears:
		return []string{fmt.Sprintf("qcStatements: QcRetentionPeriod is %d years, the profile says %d", q.RetentionYears, p.RetentionYears)}
	case has && p.RetentionYears == 0:
		return []string{fmt.Sprintf("qcStatements: QcRetentionPeriod of %d years, but the profile declares none", q.RetentionYears)}
	}
	return nil
}

// EN 319 412-1 §5.1 (semantics identifiers, defined in §5.1.3 and §5.1.4):
// a relying party reads serialNumber or organizationIdentifier with the
// semantics the certificate declares, so the declaration must be the
// profile's.
func semanticsStatement(v *view, p Profile) []string {
	if v.qcsBroken() {
		return nil
	}
	var got []asn1.ObjectIdentifier
	if q := v.qcsOK(); q != nil {
		got = q.Semantics
	}
	want := p.semantics()
	var out []string
	if want != nil && !hasOID(got, want) {
		out = append(out, fmt.Sprintf("qcStatements: the semantics identifier %s is missing", want))
	}
	for _, s := range got {
		if (s.Equal(OIDSemanticsNatural) || s.Equal(OIDSemanticsLegal)) && !s.Equal(want) {
			out = append(out, fmt.Sprintf("qcStatements: semantics identifier %s does not fit a %s profile", s, p.Kind))
		}
	}
	return out
}
