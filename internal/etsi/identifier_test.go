package etsi

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sceau/sceau/internal/sceau"
)

// Public identifiers of well-known French companies (SIREN from the
// Sirene register, VAT numbers as printed on their invoices, LEIs from
// GLEIF), and corrupted copies of them.
func TestCA2_OrganizationIdentifierChecksums(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    Identifier
		wantErr string // substring of the refusal; "" for acceptance
	}{
		{in: "NTRFR-542051180", want: Identifier{Type: "NTR", Country: "FR", Value: "542051180"}},     // TotalEnergies SE
		{in: "NTRFR-552032534", want: Identifier{Type: "NTR", Country: "FR", Value: "552032534"}},     // Danone
		{in: "NTRFR-348623562", want: Identifier{Type: "NTR", Country: "FR", Value: "348623562"}},     // ETSI (Siret 348 623 562 00017)
		{in: "NTRFR-356000000", want: Identifier{Type: "NTR", Country: "FR", Value: "356000000"}},     // La Poste
		{in: "VATFR-59542051180", want: Identifier{Type: "VAT", Country: "FR", Value: "59542051180"}}, // TotalEnergies, FR59542051180
		{in: "VATFR-27552032534", want: Identifier{Type: "VAT", Country: "FR", Value: "27552032534"}}, // Danone, FR27552032534
		{in: "VATFR-FR59542051180", want: Identifier{Type: "VAT", Country: "FR", Value: "FR59542051180"}},
		{in: "VATBE-0876866142", want: Identifier{Type: "VAT", Country: "BE", Value: "0876866142"}}, // §5.1.4 example
		{in: "VATEL-123456789", want: Identifier{Type: "VAT", Country: "EL", Value: "123456789"}},
		{in: "LEIXG-R0MUWSFPU8MPRO8K5P83", want: Identifier{Type: "LEI", Country: "XG", Value: "R0MUWSFPU8MPRO8K5P83"}}, // BNP Paribas
		{in: "LEIXG-O2RNE8IBXP4R0TD8PU41", want: Identifier{Type: "LEI", Country: "XG", Value: "O2RNE8IBXP4R0TD8PU41"}}, // Société Générale
		{in: "PSDNO-FSA-918713867", want: Identifier{Type: "PSD", Country: "NO", Value: "FSA-918713867"}},
		{in: "EI:SE-5567971433", want: Identifier{Type: "EI", Local: true, Country: "SE", Value: "5567971433"}}, // §5.1.4 example

		{in: "NTRFR-542051181", wantErr: `organizationIdentifier "NTRFR-542051181": the SIREN check digit is wrong (EN 319 412-1 §5.1.4)`},
		{in: "NTRFR-54205118", wantErr: "a SIREN has exactly 9 digits"},
		{in: "NTRFR-5420511800", wantErr: "a SIREN has exactly 9 digits"},
		{in: "VATFR-58542051180", wantErr: "the VAT key 58 does not match the SIREN (expected 59)"},
		{in: "VATFR-59542051181", wantErr: "in the VAT number, the SIREN check digit is wrong"},
		{in: "VATFR-5954205118", wantErr: "a French VAT number is a 2-digit key and a 9-digit SIREN"},
		{in: "LEIXG-R0MUWSFPU8MPRO8K5P84", wantErr: "the LEI check digits are wrong"},
		{in: "LEIXG-R0MUWSFPU8MPR08K5P83", wantErr: "the LEI check digits are wrong"}, // O read as 0
		{in: "LEIFR-R0MUWSFPU8MPRO8K5P83", wantErr: "the country code of an LEI must be XG"},
		{in: "LEIXG-r0muwsfpu8mpro8k5p83", wantErr: "an LEI has 18 upper-case letters or digits"},
		{in: "SIRFR-542051180", wantErr: `the identity type reference "SIR" is not one of VAT, NTR, PSD, LEI`},
		{in: "NTRZZ-542051180", wantErr: `"ZZ" is not an ISO 3166-1 alpha-2 country code`},
		{in: "NTRFR542051180", wantErr: "a 2-letter country code and '-' must follow"},
		{in: "NTRFR-", wantErr: "the identifier after '-' is empty"},
		{in: "NTRFR- 542051180", wantErr: "white space"},
		{in: "NT", wantErr: "too short"},
		{in: "PSDFR-ACPR", wantErr: "PSD<CC>-<NCA>-<authorisation number>"},
		{in: "TotalEnergies SE", wantErr: "is not one of"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseLegalIdentifier(tc.in)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("ParseLegalIdentifier(%q): %v", tc.in, err)
				}
				if diff := cmp.Diff(tc.want, got); diff != "" {
					t.Errorf("ParseLegalIdentifier(%q) (-want +got):\n%s", tc.in, diff)
				}
				if got.String() != tc.in {
					t.Errorf("String() = %q, want %q", got.String(), tc.in)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("ParseLegalIdentifier(%q) = %v, want an error containing %q", tc.in, err, tc.wantErr)
			}
			if sceau.KindOf(err) != sceau.Invalid || !strings.Contains(err.Error(), ClauseLegalSemantics) {
				t.Errorf("error %q: want kind invalid and the clause %s", err, ClauseLegalSemantics)
			}
		})
	}
}

func TestCA2_NaturalPersonSerialNumberSemantics(t *testing.T) {
	for _, tc := range []struct {
		in      string
		wantErr string
	}{
		{in: "IDCFR-880692310285"},
		{in: "IDCFR-X4RTBPFW4"},
		{in: "PASFR-12AB34567"},
		{in: "TINFR-1234567890123"},
		{in: "TAXFR-1234567890123"},
		{in: "PASSK-P3000180"},     // §5.1.3 example
		{in: "IDCBE-590082394654"}, // §5.1.3 example
		{in: "EI:SE-200007292386"}, // §5.1.3 example
		{in: "PNOSE-197001011234"},

		{in: "IDCFR-88069231028", wantErr: "a French identity card number has 12 digits or 9"},
		{in: "PASFR-123B34567", wantErr: "a French passport number reads"},
		{in: "TINFR-4234567890123", wantErr: "13 digits, the first one 0 to 3"},
		{in: "PNOFR-180017512345678", wantErr: "France has no personal number"},
		{in: "NTRFR-542051180", wantErr: `"NTR" is not one of PAS, IDC, PNO, TAX, TIN`},
		{in: "IDCXX-123", wantErr: "not an ISO 3166-1 alpha-2 country code"},
		{in: "IDCfr-880692310285", wantErr: "not an ISO 3166-1 alpha-2 country code"},
		{in: "ei:SE-1", wantErr: "2 upper-case letters or digits before ':'"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			id, err := ParseNaturalIdentifier(tc.in)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("ParseNaturalIdentifier(%q): %v", tc.in, err)
				}
				if id.String() != tc.in || id.Deprecated != strings.HasPrefix(tc.in, "TAX") {
					t.Errorf("got %+v", id)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), `serialNumber "`+tc.in+`"`) {
				t.Fatalf("ParseNaturalIdentifier(%q) = %v, want an error naming serialNumber and containing %q", tc.in, err, tc.wantErr)
			}
		})
	}
}

func TestCA2_FrenchVATKey(t *testing.T) {
	for siren, want := range map[string]string{"542051180": "59", "552032534": "27", "12": "", "54205118x": ""} {
		if got := FrenchVATKey(siren); got != want {
			t.Errorf("FrenchVATKey(%q) = %q, want %q", siren, got, want)
		}
	}
}
