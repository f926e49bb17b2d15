package server

import (
	"bytes"
	"net/http/httptest"
	"testing"

	"github.com/sceau/sceau/internal/sceau"
)

// The admin API reads JSON bodies from the network (SYS-2: authenticated,
// but never trusted): whatever the bytes, decoding into any request type
// and reading its CSR and validity never panic, and every refusal is the
// caller's fault (Invalid, a 400), never an internal error.
func FuzzSYS2_AdminJSONBody(f *testing.F) {
	for _, s := range []string{
		`{"ca":"issuing","profile":"server","csr":"-----BEGIN CERTIFICATE REQUEST-----\nAA==\n-----END CERTIFICATE REQUEST-----","validity":"720h"}`,
		`{"ca":"issuing","profile":"server","csr":"MIIB","validity":"1ns"}`,
		`{"holder":"alice","share_file":"AAAA","pin":"1234"}`,
		`{"account":"alice","password":"x","totp":"123456"}`,
		`{"kind":"physical-access","fields":{"site":"A"}}`,
		`{"reason":"keyCompromise"}{}`, `[]`, `null`, `{"ca":1}`, "{\"ca\":\"\u0000\"}",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, v := range []any{&IssueRequest{}, &PKCS12Request{}, &LoginRequest{}, &PresentShare{}, &BackupPINs{},
			&ImportShares{}, &ManualRecord{}, &RevokeRequest{}, &NewAccount{}, &PersonalCertRequest{}, &CARequest{}} {
			r := httptest.NewRequest("POST", "/api/v1/x", bytes.NewReader(body))
			err := decode(r, v)
			if err != nil {
				if k := sceau.KindOf(err); k != sceau.Invalid {
					t.Fatalf("decode(%T) refused with kind %v: %v", v, k, err)
				}
				continue
			}
			if req, ok := v.(*IssueRequest); ok {
				if _, _, err := parseCSRRequest(req.CSR, req.Validity); err != nil && sceau.KindOf(err) != sceau.Invalid {
					t.Fatalf("the csr and validity were refused with kind %v: %v", sceau.KindOf(err), err)
				}
			}
		}
	})
}
