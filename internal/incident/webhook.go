package incident

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/sceau/sceau/internal/sceau"
)

// SignatureHeader carries the webhook body's HMAC-SHA256 under the shared
// secret: "sha256=" and its hex.
const SignatureHeader = "X-Sceau-Signature"

// Webhook posts notifications as JSON, signed with a shared secret.
type Webhook struct {
	secret []byte
	client *http.Client
	clock  sceau.Clock
}

// NewWebhook returns the sender; client nil: a client with a 30s timeout.
func NewWebhook(secret []byte, client *http.Client, clock sceau.Clock) (*Webhook, error) {
	if len(secret) < 16 {
		return nil, sceau.Errorf(sceau.Invalid, "incident: webhook", "the webhook secret must hold at least 16 bytes")
	}
	if client == nil {
		client = &http.Client{Timeout: 30 * time.Second}
	}
	return &Webhook{secret: bytes.Clone(secret), client: client, clock: sceau.ClockOr(clock)}, nil
}

// Channel is "webhook".
func (w *Webhook) Channel() string { return "webhook" }

// WebhookBody is what the webhook receives.
type WebhookBody struct {
	Message
	SentAt time.Time `json:"sent_at"`
}

// Sign is the value of SignatureHeader for body under secret.
func Sign(secret, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// Verify checks a SignatureHeader value, in constant time.
func Verify(secret, body []byte, header string) bool {
	return hmac.Equal([]byte(Sign(secret, body)), []byte(header))
}

// Send posts m to the URL to; nil on a 2xx answer.
func (w *Webhook) Send(ctx context.Context, to string, m Message) error {
	const op = "incident: webhook"
	u, err := url.Parse(to)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return sceau.Errorf(sceau.Invalid, op, "the webhook's URL is not an http(s) URL")
	}
	body, err := json.Marshal(WebhookBody{Message: m, SentAt: w.clock.Now().UTC()})
	if err != nil {
		return sceau.E(sceau.Internal, op, "", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, to, bytes.NewReader(body))
	if err != nil {
		return sceau.E(sceau.Invalid, op, to, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(SignatureHeader, Sign(w.secret, body))
	resp, err := w.client.Do(req)
	if err != nil {
		// The URL may carry a token: the error names its host and path only.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return sceau.E(sceau.Unavailable, op, "cannot post to "+displayURL(u), err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	if resp.StatusCode/100 != 2 {
		return sceau.Errorf(sceau.Unavailable, op, "%s answered %s", displayURL(u), resp.Status)
	}
	return nil
}

// displayURL is u without what may be secret: user info, query, fragment.
func displayURL(u *url.URL) string { return u.Scheme + "://" + u.Host + u.Path }

// Display is a recipient as the journal and the errors name it: a URL
// without its user info, query and fragment.
func Display(channel, to string) string {
	if channel != "webhook" {
		return to
	}
	u, err := url.Parse(to)
	if err != nil {
		return "(a webhook URL)"
	}
	return displayURL(u)
}
