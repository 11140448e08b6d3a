package teams

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/council-ict/govkit/shared/config"
)

// WebhookURL is a Workflows webhook URL. It is a credential (the query
// carries the flow's signature), so its String, GoString and MarshalJSON
// show only the scheme and host. The zero value is "not configured".
//
// The URL sits behind a pointer so that printing a struct that holds a
// WebhookURL in an unexported field shows an address, not the URL.
type WebhookURL struct {
	u *url.URL
}

// ErrInvalidWebhookURL is wrapped by [ParseWebhookURL] errors.
var ErrInvalidWebhookURL = errors.New("invalid webhook URL")

// ParseWebhookURL checks raw and returns it as a WebhookURL. It must be an
// absolute https URL without user info; http is accepted only for localhost
// and loopback addresses (tests and local runs). Errors never contain raw.
func ParseWebhookURL(raw string) (WebhookURL, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return WebhookURL{}, invalidURL("empty")
	}
	if strings.HasPrefix(raw, "@Microsoft.KeyVault(") {
		return WebhookURL{}, invalidURL("the Key Vault reference did not resolve: check the app's managed identity can read the secret")
	}
	u, err := url.Parse(raw)
	if err != nil {
		// url.Parse errors quote the input, and their reasons quote parts of
		// it (escapes, ports): say only that it failed.
		return WebhookURL{}, invalidURL("not a parseable URL")
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && config.IsLoopback(u.Hostname()):
	case u.Scheme == "http":
		return WebhookURL{}, invalidURL("must use https (http only for localhost)")
	default:
		return WebhookURL{}, invalidURL("must be an absolute https URL")
	}
	if u.Host == "" || u.Opaque != "" {
		return WebhookURL{}, invalidURL("has no host")
	}
	if u.User != nil {
		return WebhookURL{}, invalidURL("must not contain user info")
	}
	u.Fragment, u.RawFragment = "", ""
	return WebhookURL{u: u}, nil
}

func invalidURL(reason string) error {
	return fmt.Errorf("%w: %s", ErrInvalidWebhookURL, reason)
}

// IsZero reports whether w is unset.
func (w WebhookURL) IsZero() bool { return w.u == nil }

// Reveal returns the full URL, credential included. Use it only to make the
// request.
func (w WebhookURL) Reveal() string {
	if w.u == nil {
		return ""
	}
	return w.u.String()
}

// String returns "scheme://host/<redacted>".
func (w WebhookURL) String() string {
	if w.u == nil {
		return "<unset>"
	}
	return w.u.Scheme + "://" + w.u.Host + "/<redacted>"
}

// GoString is String, so that %#v redacts too.
func (w WebhookURL) GoString() string { return w.String() }

// MarshalJSON encodes the redacted form.
func (w WebhookURL) MarshalJSON() ([]byte, error) {
	return marshal(w.String())
}

// MarshalText encodes the redacted form (used by encoders and loggers that
// prefer encoding.TextMarshaler).
func (w WebhookURL) MarshalText() ([]byte, error) {
	return []byte(w.String()), nil
}

// scrub removes the URL's secret parts (path, query, each query value and
// the full URL) from s, for text that came from elsewhere (a response body).
func (w WebhookURL) scrub(s string) string {
	if w.u == nil {
		return s
	}
	secrets := []string{w.u.String(), w.u.RequestURI(), w.u.RawQuery, w.u.EscapedPath()}
	for _, vs := range w.u.Query() {
		secrets = append(secrets, vs...)
	}
	for _, sec := range secrets {
		if len(sec) >= 4 && sec != "/" {
			s = strings.ReplaceAll(s, sec, "<redacted>")
		}
	}
	return s
}
