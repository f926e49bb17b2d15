package revocation_test

import (
	"bytes"
	"crypto"
	"encoding/base64"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/sceau/sceau/internal/sceautest"
	"github.com/sceau/sceau/internal/store"
)

// ocspGet sends req over real HTTP as RFC 6960 §A.1 GET, with the given
// extra headers.
func ocspGet(t *testing.T, base string, der []byte, hdr map[string]string) (*http.Response, []byte) {
	t.Helper()
	return ocspDo(t, http.MethodGet, base+"/ocsp/"+url.PathEscape(base64.StdEncoding.EncodeToString(der)), nil, hdr)
}

func ocspDo(t *testing.T, method, u string, body []byte, hdr map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, u, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/ocsp-request")
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

// CA-3 (RFC 5019 §6.2): a successful answer to a GET carries Last-Modified
// (thisUpdate), Expires (nextUpdate), max-age up to nextUpdate and an ETag,
// and answers conditional requests with 304; a POST, an error and an
// unknown serial are never cacheable.
func TestCA3_OCSPGetCachingHeaders(t *testing.T) {
	sceautest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		srv := httptest.NewServer(f.rs)
		defer srv.Close()
		good, revoked := f.issue(t), f.issue(t)
		if err := f.h.Revocation.Revoke(t.Context(), testActor, revoked.Serial, 1); err != nil {
			t.Fatal(err)
		}
		f.clock.Advance(time.Hour)

		checkCached := func(t *testing.T, resp *http.Response, body []byte, status int) {
			t.Helper()
			if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/ocsp-response" {
				t.Fatalf("%d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
			}
			p := f.parse(t, body)
			if p.Status != status {
				t.Errorf("OCSP status %d, want %d", p.Status, status)
			}
			if got, want := resp.Header.Get("Last-Modified"), p.ThisUpdate.UTC().Format(http.TimeFormat); got != want {
				t.Errorf("Last-Modified %q, want thisUpdate %q", got, want)
			}
			if got, want := resp.Header.Get("Expires"), p.NextUpdate.UTC().Format(http.TimeFormat); got != want {
				t.Errorf("Expires %q, want nextUpdate %q", got, want)
			}
			cc := resp.Header.Get("Cache-Control")
			age, rest, _ := strings.Cut(strings.TrimPrefix(cc, "max-age="), ",")
			secs, err := strconv.ParseInt(age, 10, 64)
			left := int64(p.NextUpdate.Sub(f.clock.Now()).Seconds())
			if !strings.HasPrefix(cc, "max-age=") || err != nil || secs < left-5 || secs > left {
				t.Errorf("Cache-Control %q: max-age should be within seconds of %d (nextUpdate - now)", cc, left)
			}
			if rest != " public, no-transform, must-revalidate" {
				t.Errorf("Cache-Control %q, want max-age, public, no-transform, must-revalidate", cc)
			}
			if etag := resp.Header.Get("ETag"); len(etag) < 3 || etag[0] != '"' {
				t.Errorf("ETag %q", etag)
			}
		}

		for _, tc := range []struct {
			name   string
			der    []byte
			status int
			stored bool // the same bytes each time, hence the same ETag
		}{
			{"pre-signed good", requestDER(t, nil, certID(f.issuing, crypto.SHA1, good.Cert.SerialNumber)), ocsp.Good, true},
			{"pre-signed revoked", requestDER(t, nil, certID(f.issuing, crypto.SHA1, revoked.Cert.SerialNumber)), ocsp.Revoked, true},
			{"signed on demand (SHA-256 CertID)", requestDER(t, nil, certID(f.issuing, crypto.SHA256, good.Cert.SerialNumber)), ocsp.Good, false},
		} {
			t.Run(tc.name, func(t *testing.T) {
				resp, body := ocspGet(t, srv.URL, tc.der, nil)
				checkCached(t, resp, body, tc.status)
				etag, lm := resp.Header.Get("ETag"), resp.Header.Get("Last-Modified")
				conds := map[string]map[string]string{"If-Modified-Since": {"If-Modified-Since": lm}}
				if tc.stored {
					conds["If-None-Match"] = map[string]string{"If-None-Match": etag}
				}
				for name, hdr := range conds {
					r304, b := ocspGet(t, srv.URL, tc.der, hdr)
					if r304.StatusCode != http.StatusNotModified || len(b) != 0 || tc.stored && r304.Header.Get("ETag") != etag {
						t.Errorf("%s: %d with %d bytes, ETag %q; want 304, empty, %q", name, r304.StatusCode, len(b), r304.Header.Get("ETag"), etag)
					}
				}
				stale := map[string]string{"If-None-Match": `"0000"`, "If-Modified-Since": lm}
				if r, _ := ocspGet(t, srv.URL, tc.der, stale); r.StatusCode != http.StatusOK {
					t.Errorf("another ETag: %d, want 200 (If-None-Match decides over If-Modified-Since)", r.StatusCode)
				}
				post, body := ocspDo(t, http.MethodPost, srv.URL+"/ocsp", tc.der, nil)
				if post.StatusCode != http.StatusOK || f.parse(t, body).Status != tc.status {
					t.Fatalf("POST: %d", post.StatusCode)
				}
				checkNotCached(t, "POST", post)
			})
		}

		t.Run("a GET the responder refreshed", func(t *testing.T) {
			f.clock.Advance(2*24*time.Hour + time.Hour)
			if _, err := f.h.Revocation.Refresh(t.Context(), 100); err != nil {
				t.Fatal(err)
			}
			st, err := f.h.Revocation.Lookup(t.Context(), db, good.Serial)
			if err != nil {
				t.Fatal(err)
			}
			resp, body := ocspGet(t, srv.URL, requestDER(t, nil, certID(f.issuing, crypto.SHA1, good.Cert.SerialNumber)), nil)
			if !bytes.Equal(body, st.Response) {
				t.Fatal("the refreshed response is not the one served")
			}
			checkCached(t, resp, body, ocsp.Good)
		})

		unknown := new(big.Int).Add(good.Cert.SerialNumber, big.NewInt(1<<20))
		for name, u := range map[string]string{
			"malformed":    srv.URL + "/ocsp/" + url.PathEscape(base64.StdEncoding.EncodeToString([]byte("not a request"))),
			"not base64":   srv.URL + "/ocsp/%21%21%21",
			"unauthorized": srv.URL + "/ocsp/" + url.PathEscape(base64.StdEncoding.EncodeToString(requestDER(t, nil, certID(f.root, crypto.SHA1, good.Cert.SerialNumber)))),
			"unknown":      srv.URL + "/ocsp/" + url.PathEscape(base64.StdEncoding.EncodeToString(requestDER(t, nil, certID(f.issuing, crypto.SHA1, unknown)))),
		} {
			t.Run(name, func(t *testing.T) {
				resp, _ := ocspDo(t, http.MethodGet, u, nil, nil)
				checkNotCached(t, name, resp)
			})
		}
	})
}

func checkNotCached(t *testing.T, name string, resp *http.Response) {
	t.Helper()
	for _, h := range []string{"Expires", "Last-Modified", "ETag"} {
		if v := resp.Header.Get(h); v != "" {
			t.Errorf("%s: %s %q, want none", name, h, v)
		}
	}
	if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("%s: Cache-Control %q, want no-store", name, cc)
	}
}
