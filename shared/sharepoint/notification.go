package sharepoint

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/council-ict/govkit/shared/config"
)

// MaxBody bounds a notification request body. SharePoint batches
// notifications, but each is a few hundred bytes.
const MaxBody = 1 << 20

// MaxNotifications bounds the notifications of one request.
const MaxNotifications = 1000

// QueueName is the queue between the webhook and SharePointSync.
const QueueName = "sharepoint-changes"

// Notification is one entry of a webhook body. SharePoint list webhooks
// send subscriptionId, clientState, expirationDateTime, resource (the list
// id), tenantId, siteUrl and webId; Graph change notifications send
// subscriptionId, clientState, resource (sites/{id}/lists/{id}),
// changeType and tenantId. Neither says what changed.
type Notification struct {
	SubscriptionID     string `json:"subscriptionId"`
	ClientState        string `json:"clientState"`
	ExpirationDateTime string `json:"expirationDateTime,omitempty"`
	Resource           string `json:"resource"`
	TenantID           string `json:"tenantId,omitempty"`
	SiteURL            string `json:"siteUrl,omitempty"`
	WebID              string `json:"webId,omitempty"`
	ChangeType         string `json:"changeType,omitempty"`
}

// ParseNotifications decodes {"value":[…]}. Anything else (not JSON, no
// value array, an entry without subscriptionId or resource, too many
// entries, trailing data) is an error.
func ParseNotifications(body []byte) ([]Notification, error) {
	if len(body) > MaxBody {
		return nil, fmt.Errorf("body is larger than %d bytes", MaxBody)
	}
	var doc struct {
		Value *[]json.RawMessage `json:"value"`
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&doc); err != nil {
		return nil, errors.New("body is not a JSON object")
	}
	if dec.More() {
		return nil, errors.New("body has trailing data after the JSON object")
	}
	if doc.Value == nil {
		return nil, errors.New(`body has no "value" array`)
	}
	if len(*doc.Value) > MaxNotifications {
		return nil, fmt.Errorf("more than %d notifications", MaxNotifications)
	}
	out := make([]Notification, 0, len(*doc.Value))
	for i, raw := range *doc.Value {
		var n Notification
		if err := json.Unmarshal(raw, &n); err != nil {
			return nil, fmt.Errorf("value[%d] is not a notification object", i)
		}
		if strings.TrimSpace(n.SubscriptionID) == "" || strings.TrimSpace(n.Resource) == "" {
			return nil, fmt.Errorf("value[%d] needs subscriptionId and resource", i)
		}
		out = append(out, n)
	}
	return out, nil
}

// ClientStateMatches compares a notification's clientState with the
// secret in constant time (digests, so the length does not leak either).
// A zero secret matches nothing.
func ClientStateMatches(got string, want config.Secret) bool {
	if want.IsZero() {
		return false
	}
	a := sha256.Sum256([]byte(got))
	b := sha256.Sum256([]byte(want.Value()))
	return subtle.ConstantTimeCompare(a[:], b[:]) == 1
}

// ValidationToken returns the validation token of a subscription
// handshake: the query parameter validationtoken (SharePoint) or
// validationToken (Graph), matched case-insensitively.
func ValidationToken(query map[string]string) (string, bool) {
	for k, v := range query {
		if strings.EqualFold(k, "validationtoken") {
			return v, true
		}
	}
	return "", false
}

// Change is the message on the sharepoint-changes queue: which list to
// synchronise. It holds no item data.
type Change struct {
	List           string    `json:"list"`
	SubscriptionID string    `json:"subscriptionId,omitempty"`
	ReceivedAt     time.Time `json:"receivedAt"`
}

// DecodeChange parses a queue message.
func DecodeChange(body []byte) (Change, error) {
	var c Change
	if err := json.Unmarshal(body, &c); err != nil {
		return Change{}, fmt.Errorf("sharepoint change message is not JSON: %w", err)
	}
	if c.List == "" {
		return Change{}, errors.New(`sharepoint change message has no "list"`)
	}
	return c, nil
}
