// Package sharepointwebhook is the SharePointWebhook function (POST
// /api/sharepoint/webhook, anonymous: SharePoint and Graph cannot sign in).
//
//   - ?validationtoken=… (SharePoint) or ?validationToken=… (Graph): the
//     subscription handshake. The token is echoed as text/plain with 200 at
//     once, with no I/O.
//   - otherwise the body is {"value":[notification…]} (at most
//     sharepoint.MaxBody bytes: 413 beyond; malformed: 400). Every
//     notification's clientState must equal SHAREPOINT_CLIENT_STATE
//     (constant-time); one mismatch answers 403 and nothing is enqueued.
//     Each notification for a configured list is enqueued to
//     "sharepoint-changes" (one message per list), then 202. Notifications
//     for lists not configured are counted and dropped. No Graph call.
package sharepointwebhook

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/council-ict/govkit/shared/config"
	"github.com/council-ict/govkit/shared/funcapp"
	"github.com/council-ict/govkit/shared/notify"
	"github.com/council-ict/govkit/shared/sharepoint"
	"github.com/rs/zerolog"
)

// Config configures the webhook.
type Config struct {
	Lists       []sharepoint.List
	ClientState config.Secret
}

// Handler is the function.
type Handler struct {
	cfg   Config
	queue notify.Transport
	now   func() time.Time
}

// New builds the function; queue carries messages to "sharepoint-changes".
func New(cfg Config, queue notify.Transport) (*Handler, error) {
	if queue == nil {
		return nil, fmt.Errorf("sharepointwebhook: the %s queue is not configured", sharepoint.QueueName)
	}
	return &Handler{cfg: cfg, queue: queue, now: time.Now}, nil
}

// Invoke implements funcapp.Handler.
func (h *Handler) Invoke(ctx context.Context, inv funcapp.Invocation) (funcapp.Result, error) {
	return funcapp.HTTPHandler(h.Serve).Invoke(ctx, inv)
}

// Serve handles one request.
func (h *Handler) Serve(ctx context.Context, req funcapp.HTTPRequest) (funcapp.Result, error) {
	if tok, ok := sharepoint.ValidationToken(req.Query); ok {
		if len(tok) > 4096 {
			return funcapp.Problem(400, "The request is not valid", "validationtoken is longer than 4096 characters", "validationtoken"), nil
		}
		return funcapp.HTTPResponse(http.StatusOK, "text/plain", []byte(tok)), nil
	}
	log := zerolog.Ctx(ctx)
	if len(req.Body) > sharepoint.MaxBody {
		log.Warn().Int("bytes", len(req.Body)).Msg("sharepoint webhook: body too large; refused")
		return funcapp.Problem(http.StatusRequestEntityTooLarge, "Body too large",
			"a notification body is at most "+strconv.Itoa(sharepoint.MaxBody)+" bytes", "body"), nil
	}
	ns, err := sharepoint.ParseNotifications(req.Body)
	if err != nil {
		return funcapp.Problem(400, "The request is not valid", err.Error(), "body"), nil
	}
	for _, n := range ns {
		if !sharepoint.ClientStateMatches(n.ClientState, h.cfg.ClientState) {
			log.Warn().Str("subscriptionId", n.SubscriptionID).Int("notifications", len(ns)).
				Msg("sharepoint webhook: clientState does not match; nothing enqueued")
			return funcapp.Problem(http.StatusForbidden, "Forbidden", "clientState does not match", "clientState"), nil
		}
	}
	now := h.now().UTC()
	seen := map[string]bool{}
	var msgs []notify.Message
	unknown := 0
	for _, n := range ns {
		l, ok := sharepoint.ByResource(h.cfg.Lists, n.Resource)
		if !ok {
			unknown++
			continue
		}
		if seen[l.Name] {
			continue // one sync per list per request is enough
		}
		seen[l.Name] = true
		body, _ := json.Marshal(sharepoint.Change{List: l.Name, SubscriptionID: n.SubscriptionID, ReceivedAt: now})
		msgs = append(msgs, notify.Message{ID: "sharepoint-change:" + l.Name + ":" + strconv.FormatInt(now.UnixNano(), 10), Body: body})
	}
	if len(msgs) > 0 {
		if err := h.queue.Send(ctx, msgs); err != nil {
			return funcapp.Result{}, fmt.Errorf("sharepoint webhook: enqueue: %w", err)
		}
	}
	log.Info().Int("notifications", len(ns)).Int("enqueued", len(msgs)).Int("unknownLists", unknown).
		Int("configuredLists", len(h.cfg.Lists)).Msg("sharepoint webhook")
	return funcapp.HTTPResponse(http.StatusAccepted, "", nil), nil
}
