// Package teamsnotify is the TeamsNotify function: it takes notifications
// from the Service Bus queue "notifications" (locally, the Azurite queue that
// stands in for it), renders them as Adaptive Cards (schema 1.5) and posts
// them to the route's Teams Workflows webhook.
//
// Delivery is recorded per card in the delivery ledger (table
// teamsdeliveries: partition = notification ID, row = "card" or
// "part-1-of-2"), so a redelivered or duplicated message is a no-op for the
// cards already delivered. Outcomes, and the status code returned to the
// host (the only retry signal):
//
//   - malformed message: logged with its message id, 2xx (permanent);
//   - route unknown or without a webhook (the local default): the card JSON
//     is written to blob teams-outbox/<route>/<id>[.<part>].json, 2xx;
//   - 2xx from the webhook: recorded delivered, 2xx;
//   - 429 or 5xx: the wait the webhook asks for (Retry-After, fractional
//     seconds too) is honoured within the invocation up to MaxWaits times,
//     each capped at MaxWait; then a plain error, so the queue redelivers
//     and, after maxDeliveryCount, dead-letters;
//   - any other 4xx: permanent; recorded failed with its status code, 2xx.
//
// Requests to one webhook are paced in-process (about 4 a second, the
// documented Teams limit). A webhook URL is a credential: it is never logged.
// The window between a successful post and its ledger write is the one
// place a crash can post a card twice.
package teamsnotify

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/council-ict/govkit/shared/funcapp"
	"github.com/council-ict/govkit/shared/notify"
	"github.com/council-ict/govkit/shared/store"
	"github.com/council-ict/govkit/shared/teams"
	"github.com/rs/zerolog"
)

// OutboxContainer is the blob container for cards without a webhook.
const OutboxContainer = "teams-outbox"

// DeliveryTable is the default delivery ledger table.
const DeliveryTable = "teamsdeliveries"

// Delivery statuses.
const (
	StatusDelivered = "delivered" // the webhook accepted it
	StatusOutbox    = "outbox"    // written to the teams-outbox container
	StatusFailed    = "failed"    // permanently refused (4xx); see StatusCode
)

// Delivery is one card's row in the delivery ledger.
type Delivery struct {
	PartitionKey string `json:"PartitionKey"` // notification ID
	RowKey       string `json:"RowKey"`       // part key
	Route        string `json:"route"`
	Source       string `json:"source"`
	Status       string `json:"status"`
	StatusCode   int    `json:"statusCode"`
	Attempts     int    `json:"attempts"`
	Blob         string `json:"blob,omitempty"`
	At           string `json:"at"`
}

// Ledger records deliveries.
type Ledger interface {
	Get(ctx context.Context, id, part string) (Delivery, bool, error)
	Put(ctx context.Context, d Delivery) error
}

// TableLedger is the Ledger in Azure Tables.
type TableLedger struct{ t *store.Table[Delivery] }

// NewTableLedger returns the ledger in table (DeliveryTable when empty).
func NewTableLedger(svc *store.Service, table string) *TableLedger {
	if table == "" {
		table = DeliveryTable
	}
	return &TableLedger{t: store.NewTable[Delivery](svc, table)}
}

// Table returns the table name.
func (l *TableLedger) Table() string { return l.t.Name() }

// Get reads a card's delivery; ok is false when there is none.
func (l *TableLedger) Get(ctx context.Context, id, part string) (Delivery, bool, error) {
	r, err := l.t.Get(ctx, id, part)
	if errors.Is(err, store.ErrNotFound) {
		return Delivery{}, false, nil
	}
	return r.Value, err == nil, err
}

// Put records a delivery.
func (l *TableLedger) Put(ctx context.Context, d Delivery) error {
	_, err := l.t.Upsert(ctx, d)
	return err
}

// Sender posts a card (*teams.Sender).
type Sender interface {
	Send(ctx context.Context, to teams.WebhookURL, msg teams.Message) error
}

// BlobWriter writes the outbox blobs.
type BlobWriter interface {
	PutBlob(ctx context.Context, container, name string, body []byte, contentType string) error
}

// Config configures the function.
type Config struct {
	Routes teams.Routes
	// MaxBytes is the card size limit (teams.DefaultMaxBytes when 0).
	MaxBytes int
	// MaxWaits is how many times one invocation waits and retries a
	// throttled or failing webhook (default 3); MaxWait caps each wait
	// (default 30s).
	MaxWaits int
	MaxWait  time.Duration
	// Interval is the minimum time between requests to one webhook
	// (default 250ms: 4 a second).
	Interval time.Duration
}

// Handler runs the function.
type Handler struct {
	cfg    Config
	ledger Ledger
	sender Sender
	blobs  BlobWriter
	now    func() time.Time
	sleep  func(ctx context.Context, d time.Duration) error

	mu   sync.Mutex
	next map[string]time.Time // per route: earliest time of the next request
}

// New returns the function.
func New(cfg Config, ledger Ledger, sender Sender, blobs BlobWriter) (*Handler, error) {
	if ledger == nil || sender == nil || blobs == nil {
		return nil, errors.New("teamsnotify: ledger, sender and blob writer are required")
	}
	if cfg.MaxWaits <= 0 {
		cfg.MaxWaits = 3
	}
	if cfg.MaxWait <= 0 {
		cfg.MaxWait = 30 * time.Second
	}
	if cfg.Interval <= 0 {
		cfg.Interval = 250 * time.Millisecond
	}
	return &Handler{cfg: cfg, ledger: ledger, sender: sender, blobs: blobs, now: time.Now, sleep: sleepCtx, next: map[string]time.Time{}}, nil
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Outcome counts what one invocation did.
type Outcome struct {
	Cards, Skipped, Delivered, Outbox, Failed, Waits int
}

// Invoke handles one queue message.
func (h *Handler) Invoke(ctx context.Context, inv funcapp.Invocation) (funcapp.Result, error) {
	log := zerolog.Ctx(ctx)
	msg, err := inv.ServiceBusMessage("msg")
	if err != nil && len(msg.Body) == 0 {
		log.Error().Str("messageId", inv.MetaString("MessageId")).Err(err).Msg("notification message unreadable; dropped")
		return funcapp.Result{}, funcapp.Permanent(err)
	}
	n, err := notify.Decode(msg.Body)
	if err != nil {
		log.Error().Str("messageId", msg.MessageID).Int64("deliveryCount", msg.DeliveryCount).Err(err).
			Msg("malformed notification; dropped (it cannot succeed on retry)")
		return funcapp.Result{}, funcapp.Permanent(fmt.Errorf("malformed notification: %w", err))
	}
	out, err := h.Deliver(ctx, n)
	ev := log.Info()
	if err != nil {
		ev = log.Warn().Err(err)
	}
	ev.Str("notification", n.ID).Str("route", n.Route).Str("messageId", msg.MessageID).
		Int("cards", out.Cards).Int("skipped", out.Skipped).Int("delivered", out.Delivered).
		Int("outbox", out.Outbox).Int("failed", out.Failed).Int("waits", out.Waits).Msg("teams notify")
	return funcapp.Result{}, err
}

// Deliver renders and delivers n. A returned error is worth retrying (the
// invocation fails and the queue redelivers); permanent failures are
// recorded and not returned.
func (h *Handler) Deliver(ctx context.Context, n notify.Notification) (Outcome, error) {
	var out Outcome
	parts, err := Render(n, h.cfg.MaxBytes)
	if err != nil {
		// A card that cannot be built never will be: record and drop.
		out.Failed++
		return out, errors.Join(funcapp.Permanent(err), h.ledger.Put(ctx, h.record(n, "card", StatusFailed, 0, 0, "")))
	}
	out.Cards = len(parts)
	hook, ok := h.cfg.Routes.Lookup(n.Route)
	for _, p := range parts {
		d, done, err := h.ledger.Get(ctx, n.ID, p.Key)
		if err != nil {
			return out, fmt.Errorf("read delivery ledger: %w", err)
		}
		if done && d.Status != "" {
			out.Skipped++
			continue
		}
		if !ok || hook.IsZero() {
			if err := h.toOutbox(ctx, n, p); err != nil {
				return out, err
			}
			out.Outbox++
			continue
		}
		status, code, attempts, err := h.send(ctx, n.Route, hook, p.Message, &out)
		if err != nil {
			return out, err
		}
		if status == StatusFailed {
			out.Failed++
		} else {
			out.Delivered++
		}
		if err := h.ledger.Put(ctx, h.record(n, p.Key, status, code, attempts, "")); err != nil {
			return out, fmt.Errorf("record delivery: %w", err)
		}
	}
	return out, nil
}

func (h *Handler) record(n notify.Notification, part, status string, code, attempts int, blob string) Delivery {
	return Delivery{PartitionKey: n.ID, RowKey: part, Route: n.Route, Source: n.Source, Status: status,
		StatusCode: code, Attempts: attempts, Blob: blob, At: h.now().UTC().Format(time.RFC3339)}
}

// BlobName is where a card without a webhook is written.
func BlobName(route, id, part string) string {
	if part == "card" {
		return route + "/" + id + ".json"
	}
	return route + "/" + id + "." + part + ".json"
}

func (h *Handler) toOutbox(ctx context.Context, n notify.Notification, p Part) error {
	body, err := teams.Encode(p.Message)
	if err != nil {
		return err
	}
	name := BlobName(n.Route, n.ID, p.Key)
	if err := h.blobs.PutBlob(ctx, OutboxContainer, name, body, "application/json"); err != nil {
		return fmt.Errorf("write card to %s: %w", OutboxContainer, err)
	}
	if err := h.ledger.Put(ctx, h.record(n, p.Key, StatusOutbox, 0, 0, OutboxContainer+"/"+name)); err != nil {
		return fmt.Errorf("record delivery: %w", err)
	}
	return nil
}

// send posts one card, pacing and waiting as the webhook asks. It returns
// the ledger status and code for a final answer, or an error to retry.
func (h *Handler) send(ctx context.Context, route string, hook teams.WebhookURL, msg teams.Message, out *Outcome) (string, int, int, error) {
	for attempt := 1; ; attempt++ {
		if err := h.pace(ctx, route); err != nil {
			return "", 0, attempt - 1, err
		}
		err := h.sender.Send(ctx, hook, msg)
		if err == nil {
			return StatusDelivered, 202, attempt, nil
		}
		var te *teams.Error
		code := 0
		if errors.As(err, &te) {
			code = te.StatusCode
		}
		if !teams.Retryable(err) {
			zerolog.Ctx(ctx).Warn().Err(err).Int("statusCode", code).Str("route", route).Msg("teams webhook refused the card permanently")
			return StatusFailed, code, attempt, nil
		}
		if attempt > h.cfg.MaxWaits {
			return "", code, attempt, fmt.Errorf("teams webhook for route %s still failing after %d attempts: %w", route, attempt, err)
		}
		wait, ok := teams.RetryAfter(err)
		if !ok {
			wait = time.Second << (attempt - 1)
		}
		wait = min(wait, h.cfg.MaxWait)
		out.Waits++
		if err := h.sleep(ctx, wait); err != nil {
			return "", code, attempt, err
		}
	}
}

// pace waits until the route's webhook may take another request.
func (h *Handler) pace(ctx context.Context, route string) error {
	h.mu.Lock()
	now := h.now()
	at := h.next[route]
	if at.Before(now) {
		at = now
	}
	h.next[route] = at.Add(h.cfg.Interval)
	h.mu.Unlock()
	return h.sleep(ctx, at.Sub(now))
}
