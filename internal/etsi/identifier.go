package etsi

import (
	"fmt"
	"strings"

	"github.com/sceau/sceau/internal/sceau"
)

// Clauses that define the semantics identifiers' string structure.
const (
	ClauseNaturalSemantics = "EN 319 412-1 §5.1.3"
	ClauseLegalSemantics   = "EN 319 412-1 §5.1.4"
)

// Identifier is a parsed EN 319 412-1 semantics identifier: the value of a
// natural person's serialNumber (§5.1.3) or of a legal person's
// organizationIdentifier (§5.1.4), such as "NTRFR-552032534".
type Identifier struct {
	// Type is the 3-letter identity type reference ("IDC", "VAT", …) or,
	// for a locally defined scheme, its 2 characters without the colon.
	Type string
	// Local is true for a locally defined scheme ("EI:SE-…"), which the
	// clause allows only with nameRegistrationAuthorities in the
	// semantics statement.
	Local bool
	// Country is the ISO 3166-1 alpha-2 code ("XG" for LEI, "EL" and "XI"
	// for VAT, "EU" for the VAT OSS scheme).
	Country string
	// Value is what follows the hyphen-minus.
	Value string
	// Deprecated is set for "TAX", which §5.1.3 deprecates for "TIN".
	Deprecated bool
}

// String gives the identifier back in its certificate form.
func (id Identifier) String() string {
	if id.Local {
		return id.Type + ":" + id.Country + "-" + id.Value
	}
	return id.Type + id.Country + "-" + id.Value
}

// Identity type references of §5.1.3 (natural) and §5.1.4 (legal).
var (
	naturalTypes = []string{"PAS", "IDC", "PNO", "TAX", "TIN"}
	legalTypes   = []string{"VAT", "NTR", "PSD", "LEI"}
)

// ParseNaturalIdentifier parses and validates a natural person's
// serialNumber written with the EN 319 412-1 §5.1.3 semantics. The error is
// sceau.Invalid and names the field, the value and the broken rule.
func ParseNaturalIdentifier(s string) (Identifier, error) {
	return parseIdentifier("serialNumber", ClauseNaturalSemantics, s, naturalTypes)
}

// ParseLegalIdentifier parses and validates a legal person's
// organizationIdentifier written with the EN 319 412-1 §5.1.4 semantics,
// including the check digits Sceau knows (French SIREN and VAT key, LEI).
func ParseLegalIdentifier(s string) (Identifier, error) {
	return parseIdentifier("organizationIdentifier", ClauseLegalSemantics, s, legalTypes)
}

func parseIdentifier(field, clause, s string, types []string) (Identifier, error) {
	fail := func(format string, args ...any) (Identifier, error) {
		return Identifier{}, sceau.Errorf(sceau.Invalid, "etsi", "%s %q: %s (%s)", field, s, fmt.Sprintf(format, args...), clause)
	}
	var id Identifier
	var rest string
	switch {
	case len(s) >= 3 && s[2] == ':':
		// "Two characters according to local definition … followed by
		// the character ':'".
		id.Type, id.Local, rest = s[:2], true, s[3:]
		if !isUpperAlnum(id.Type) {
			return fail("the local identity type reference must be 2 upper-case letters or digits before ':'")
		}
	case len(s) >= 3:
		id.Type, rest = s[:3], s[3:]
		if !contains(types, id.Type) {
			return fail("the identity type reference %q is not one of %s", id.Type, strings.Join(types, ", "))
		}
	default:
		return fail("too short for type, country, '-' and identifier")
	}
	if len(rest) < 3 || rest[2] != '-' {
		return fail("a 2-letter country code and '-' must follow the identity type reference")
	}
	id.Country, id.Value = rest[:2], rest[3:]
	if !countryAllowed(id.Type, id.Country) {
		if id.Type == "LEI" {
			return fail("the country code of an LEI must be XG")
		}
		return fail("%q is not an ISO 3166-1 alpha-2 country code", id.Country)
	}
	if id.Value == "" {
		return fail("the identifier after '-' is empty")
	}
	if strings.TrimSpace(id.Value) != id.Value || strings.ContainsAny(id.Value, " \t\r\n") {
		return fail("the identifier contains white space")
	}
	id.Deprecated = id.Type == "TAX"
	if id.Local {
		return id, nil
	}
	if msg := checkValue(id); msg != "" {
		return fail("%s", msg)
	}
	return id, nil
}

func countryAllowed(typ, country string) bool {
	switch {
	case typ == "LEI":
		// §5.1.4 item 4: "The 2 character ISO 3166 country code shall be
		// set to 'XG'".
		return country == "XG"
	case typ == "VAT" && (country == "EL" || country == "XI" || country == "EU"):
		// §5.1.4 (V1.4.1): Directive 2006/112/EC art. 215 prefixes for
		// Greece and Northern Ireland, and "EU" for the OSS scheme.
		return true
	}
	return isCountry(country)
}

// checkValue applies the per-scheme format and check digits; the message
// is empty when the value is acceptable. Only schemes whose format is
// published are checked; others need a non-empty printable value.
func checkValue(id Identifier) string {
	v := id.Value
	switch {
	case id.Type == "LEI":
		return checkLEI(v)
	case id.Type == "PSD":
		// TS 119 495 §5.2.1: PSD<CC>-<NCA id>-<authorisation number>.
		nca, num, ok := strings.Cut(v, "-")
		if !ok || nca == "" || num == "" || !isUpperAlnum(nca) {
			return "a PSD identifier must read PSD<CC>-<NCA>-<authorisation number> (ETSI TS 119 495 §5.2.1)"
		}
	case id.Type == "NTR" && id.Country == "FR":
		return checkSIREN(v)
	case id.Type == "VAT" && id.Country == "FR":
		return checkFrenchVAT(v)
	case (id.Type == "TIN" || id.Type == "TAX") && id.Country == "FR":
		// The French numéro fiscal de référence (SPI): 13 digits, the
		// first 0 to 3. Its check key is not published as a standard,
		// so only the format is checked.
		if len(v) != 13 || !isDigits(v) || v[0] > '3' {
			return "a French tax identification number has 13 digits, the first one 0 to 3"
		}
	case id.Type == "IDC" && id.Country == "FR":
		// Carte nationale d'identité: 12 digits (before 2021) or 9
		// letters and digits (since 2021).
		if !(len(v) == 12 && isDigits(v)) && !(len(v) == 9 && isUpperAlnum(v)) {
			return "a French identity card number has 12 digits or 9 upper-case letters and digits"
		}
	case id.Type == "PAS" && id.Country == "FR":
		// French passport number: 2 digits, 2 letters, 5 digits.
		if len(v) != 9 || !isDigits(v[:2]) || !isUpper(v[2:4]) || !isDigits(v[4:]) {
			return "a French passport number reads 2 digits, 2 upper-case letters, 5 digits"
		}
	case id.Type == "PNO" && id.Country == "FR":
		// France has no civic registration number that may be published
		// (the NIR is restricted by the CNIL): refuse rather than leak it.
		return "France has no personal number that may appear in a certificate; use IDC, PAS or TIN"
	}
	for _, r := range v {
		if r < 0x20 || r > 0x7e {
			return "the identifier must be printable ASCII"
		}
	}
	return ""
}

// checkSIREN: a SIREN is 9 digits whose last is a Luhn check digit (INSEE).
func checkSIREN(v string) string {
	if len(v) != 9 || !isDigits(v) {
		return "a SIREN has exactly 9 digits"
	}
	if !luhn(v) {
		return "the SIREN check digit is wrong"
	}
	return ""
}

// checkFrenchVAT: the French VAT number is a 2-digit key and the SIREN,
// key = (12 + 3 × (SIREN mod 97)) mod 97. §5.1.4's example
// "VATBE-0876866142" leaves the country prefix out of the value; the
// prefixed form "VATFR-FRkk…" is common too and is accepted.
func checkFrenchVAT(v string) string {
	v = strings.TrimPrefix(v, "FR")
	if len(v) != 11 || !isDigits(v) {
		return "a French VAT number is a 2-digit key and a 9-digit SIREN"
	}
	if msg := checkSIREN(v[2:]); msg != "" {
		return "in the VAT number, " + msg
	}
	if v[:2] != FrenchVATKey(v[2:]) {
		return fmt.Sprintf("the VAT key %s does not match the SIREN (expected %s)", v[:2], FrenchVATKey(v[2:]))
	}
	return ""
}

// FrenchVATKey returns the 2-digit key of the French VAT number of a
// 9-digit SIREN, or "" if siren is not 9 digits.
func FrenchVATKey(siren string) string {
	if len(siren) != 9 || !isDigits(siren) {
		return ""
	}
	n := 0
	for _, d := range siren {
		n = (n*10 + int(d-'0')) % 97
	}
	return fmt.Sprintf("%02d", (12+3*n)%97)
}

// checkLEI: ISO 17442, 20 characters (18 upper-case letters or digits and 2
// check digits) verified with ISO 7064 MOD 97-10, letters counting A=10 …
// Z=35, as for an IBAN.
func checkLEI(v string) string {
	if len(v) != 20 || !isUpperAlnum(v) || !isDigits(v[18:]) {
		return "an LEI has 18 upper-case letters or digits and 2 check digits (ISO 17442)"
	}
	n := 0
	for _, r := range v {
		d := int(r - '0')
		if r >= 'A' {
			d = int(r-'A') + 10
			n = (n*10 + d/10) % 97
			d %= 10
		}
		n = (n*10 + d) % 97
	}
	if n != 1 {
		return "the LEI check digits are wrong (ISO 7064 MOD 97-10)"
	}
	return ""
}

func luhn(v string) bool {
	sum := 0
	for i := range len(v) {
		d := int(v[len(v)-1-i] - '0')
		if i%2 == 1 {
			if d *= 2; d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return sum%10 == 0
}

func isDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}

func isUpper(s string) bool {
	for _, r := range s {
		if r < 'A' || r > 'Z' {
			return false
		}
	}
	return s != ""
}

func isUpperAlnum(s string) bool {
	for _, r := range s {
		if (r < 'A' || r > 'Z') && (r < '0' || r > '9') {
			return false
		}
	}
	return s != ""
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// isoCountries are the officially assigned ISO 3166-1 alpha-2 codes.
const isoCountries = "" +
	"AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ " +
	"CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR " +
	"GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP " +
	"KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT " +
	"MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW " +
	"SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG " +
	"UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW"

func isCountry(c string) bool {
	return len(c) == 2 && isUpper(c) && strings.Contains(isoCountries, c)
}
