package bench

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// rawClient is a minimal HTTP/1.1 client over one keep-alive connection
// (TLS for the admin listener). A load generator should take as little of
// the shared CPU as it can: net/http's client spends two goroutines and
// their hand-offs per connection, this one only writes each pre-built
// request and reads the response.
type rawClient struct {
	dial func() (net.Conn, error)
	conn net.Conn
	br   *bufio.Reader
}

// newClients makes n clients that connect with dial on their first request.
func newClients(n int, dial func() (net.Conn, error)) []*rawClient {
	out := make([]*rawClient, n)
	for i := range out {
		out[i] = &rawClient{dial: dial}
	}
	return out
}

func closeClients(cs []*rawClient) {
	for _, c := range cs {
		c.Close()
	}
}

// do sends a complete request and returns the status and body of the
// response. A connection the server closed is redialled once.
func (c *rawClient) do(req []byte) (int, []byte, error) {
	resp, body, err := c.roundTrip(req)
	if err != nil {
		return 0, nil, err
	}
	return resp.StatusCode, body, nil
}

// roundTrip is do with the whole response head.
func (c *rawClient) roundTrip(req []byte) (*http.Response, []byte, error) {
	for attempt := 0; ; attempt++ {
		reused := c.conn != nil
		if !reused {
			conn, err := c.dial()
			if err != nil {
				return nil, nil, err
			}
			c.conn, c.br = conn, bufio.NewReaderSize(conn, 16<<10)
		}
		resp, body, err := c.exchange(req)
		if err == nil {
			return resp, body, nil
		}
		c.Close()
		if !reused || attempt > 0 {
			return nil, nil, err
		}
	}
}

func (c *rawClient) exchange(req []byte) (*http.Response, []byte, error) {
	if _, err := c.conn.Write(req); err != nil {
		return nil, nil, err
	}
	resp, err := http.ReadResponse(c.br, nil)
	if err != nil {
		return nil, nil, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, nil, err
	}
	if resp.Close {
		c.Close()
	}
	return resp, body, nil
}

// Close drops the connection.
func (c *rawClient) Close() {
	if c.conn != nil {
		c.conn.Close()
		c.conn, c.br = nil, nil
	}
}

// postRequest is a complete HTTP/1.1 POST of body to host and path.
func postRequest(host, path, contentType string, body []byte) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n", path, host, contentType, len(body))
	b.Write(body)
	return b.Bytes()
}

// getRequest is a complete HTTP/1.1 GET of path on host.
func getRequest(host, path string) []byte {
	return []byte("GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\n\r\n")
}

// issueOnce posts one issuance request; it returns the response body.
func issueOnce(c *rawClient, req []byte) ([]byte, error) {
	status, body, err := c.do(req)
	if err != nil {
		return nil, err
	}
	if status != http.StatusCreated {
		return nil, fmt.Errorf("%d %s: %s", status, http.StatusText(status), bytes.TrimSpace(body))
	}
	return body, nil
}

// ocspOnce posts one DER request and checks the answer is a successful
// OCSP response.
func ocspOnce(c *rawClient, req []byte) ([]byte, error) {
	status, b, err := c.do(req)
	if err != nil {
		return nil, err
	}
	if status != http.StatusOK {
		return nil, fmt.Errorf("%d %s: %s", status, http.StatusText(status), bytes.TrimSpace(b))
	}
	if err := checkOCSPStatus(b); err != nil {
		return nil, err
	}
	return b, nil
}

// checkOCSPStatus reads only the responseStatus of a DER OCSP response
// (RFC 6960, 4.2.1) and requires it to be successful (0).
func checkOCSPStatus(b []byte) error {
	// OCSPResponse ::= SEQUENCE { responseStatus ENUMERATED, ... }
	s := cryptobyte.String(b)
	var seq cryptobyte.String
	var rs int
	if !s.ReadASN1(&seq, cbasn1.SEQUENCE) || !seq.ReadASN1Enum(&rs) {
		return errors.New("the answer is not an OCSP response")
	}
	if rs != 0 {
		return fmt.Errorf("OCSP response status %d, not successful", rs)
	}
	return nil
}
