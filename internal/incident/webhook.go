package incident

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
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
		return sceau.Errorf(sceau.Invalid, op, "%q is not an http(s) URL", to)
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
		return sceau.E(sceau.Unavailable, op, "cannot post to "+u.Redacted(), err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	if resp.StatusCode/100 != 2 {
		return sceau.Errorf(sceau.Unavailable, op, "%s answered %s", u.Redacted(), resp.Status)
	}
	return nil
}
