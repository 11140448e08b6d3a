// Package sharepointsubscriptions is the SharePointSubscriptions timer
// function (daily, SHAREPOINT_SUBSCRIPTIONS_SCHEDULE): it creates each
// configured list's missing Graph change-notification subscription,
// renews those expiring within the renewal window
// (sharepoint.PlanSubscriptions), then reconciles: runs the delta sync of
// every list, so a change whose notification was lost is still applied.
// Failures of one list do not stop the others; any failure fails the run
// (the next run repeats it harmlessly).
package sharepointsubscriptions

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/council-ict/govkit/shared/config"
	"github.com/council-ict/govkit/shared/funcapp"
	"github.com/council-ict/govkit/shared/graph"
	"github.com/council-ict/govkit/shared/sharepoint"
	"github.com/rs/zerolog"
)

// Graph manages subscriptions (*graph.Client).
type Graph interface {
	Subscriptions(ctx context.Context) ([]graph.Subscription, error)
	CreateSubscription(ctx context.Context, s graph.Subscription) (graph.Subscription, error)
	RenewSubscription(ctx context.Context, id string, exp time.Time) (time.Time, error)
}

// Syncer runs one list's sync (*sharepoint.Engine).
type Syncer interface {
	Sync(ctx context.Context, l sharepoint.List) (sharepoint.Result, error)
}

// Config configures the function.
type Config struct {
	Lists []sharepoint.List
	// NotificationURL is the public URL of SharePointWebhook; empty: no
	// subscriptions are managed (reconcile only).
	NotificationURL string
	ClientState     config.Secret
	Policy          sharepoint.SubscriptionPolicy
}

// Handler is the function.
type Handler struct {
	cfg  Config
	g    Graph
	sync Syncer
	now  func() time.Time
}

// New builds the function.
func New(cfg Config, g Graph, s Syncer) (*Handler, error) {
	if len(cfg.Lists) > 0 && (g == nil || s == nil) {
		return nil, errors.New("sharepointsubscriptions: Graph and the sync engine are required")
	}
	return &Handler{cfg: cfg, g: g, sync: s, now: time.Now}, nil
}

// Invoke implements funcapp.Handler.
func (h *Handler) Invoke(ctx context.Context, inv funcapp.Invocation) (funcapp.Result, error) {
	log := zerolog.Ctx(ctx)
	start := time.Now()
	if len(h.cfg.Lists) == 0 {
		log.Info().Msg("sharepoint subscriptions: SHAREPOINT_LISTS is empty; nothing to do")
		return funcapp.Result{}, nil
	}
	var errs []error
	created, renewed, kept := 0, 0, 0
	if h.cfg.NotificationURL == "" {
		log.Info().Msg("sharepoint subscriptions: SHAREPOINT_NOTIFICATION_URL is not set; subscriptions not managed, reconcile only")
	} else {
		existing, err := h.g.Subscriptions(ctx)
		if err != nil {
			errs = append(errs, fmt.Errorf("list subscriptions: %w", err))
		} else {
			for _, a := range sharepoint.PlanSubscriptions(h.cfg.Lists, existing, h.cfg.NotificationURL, h.now(), h.cfg.Policy) {
				switch a.Kind {
				case sharepoint.ActionCreate:
					s, err := h.g.CreateSubscription(ctx, graph.Subscription{Resource: a.Resource, ChangeType: "updated",
						NotificationURL: h.cfg.NotificationURL, ClientState: h.cfg.ClientState.Value(), Expiration: a.Expiration})
					if err != nil {
						errs = append(errs, fmt.Errorf("list %s: create subscription: %w", a.List, err))
						continue
					}
					created++
					log.Info().Str("list", a.List).Str("subscriptionId", s.ID).Time("expires", s.Expiration).Msg("sharepoint subscription created")
				case sharepoint.ActionRenew:
					exp, err := h.g.RenewSubscription(ctx, a.SubscriptionID, a.Expiration)
					if err != nil {
						errs = append(errs, fmt.Errorf("list %s: renew subscription %s: %w", a.List, a.SubscriptionID, err))
						continue
					}
					renewed++
					log.Info().Str("list", a.List).Str("subscriptionId", a.SubscriptionID).Time("expires", exp).Msg("sharepoint subscription renewed")
				default:
					kept++
				}
			}
		}
	}
	var items, changed, itemErrors int
	for _, l := range h.cfg.Lists {
		res, err := h.sync.Sync(ctx, l)
		items, changed, itemErrors = items+res.Items, changed+res.Changed, itemErrors+res.Errors
		if err != nil {
			errs = append(errs, fmt.Errorf("list %s: reconcile: %w", l.Name, err))
		}
	}
	err := errors.Join(errs...)
	ev := log.Info()
	if err != nil {
		ev = log.Warn().Err(err)
	}
	ev.Int("lists", len(h.cfg.Lists)).Int("created", created).Int("renewed", renewed).Int("kept", kept).
		Int("items", items).Int("changed", changed).Int("itemErrors", itemErrors).Dur("duration", time.Since(start)).
		Msg("sharepoint subscriptions")
	return funcapp.Result{}, err
}
