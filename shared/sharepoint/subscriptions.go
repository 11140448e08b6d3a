package sharepoint

import (
	"sort"
	"strings"
	"time"

	"github.com/council-ict/govkit/shared/graph"
)

// MaxListSubscriptionLifetime is the longest expiry Graph accepts for a
// subscription on a SharePoint list: 42,300 minutes (just under 30 days),
// per the change-notifications subscription lifetime table. (SharePoint's
// own REST list webhooks allow 180 days, but this app subscribes through
// Graph, the only API it holds a client and a permission for.)
const MaxListSubscriptionLifetime = 42300 * time.Minute

// SubscriptionPolicy says how long subscriptions are asked for and when
// they are renewed.
type SubscriptionPolicy struct {
	// Lifetime is the expiry asked for (capped at
	// MaxListSubscriptionLifetime less a minute for clock skew).
	Lifetime time.Duration
	// RenewBefore renews a subscription expiring within this window. With
	// a daily timer, anything above a day works; the larger it is, the more
	// missed runs are survived (30 days with a 29.4-day lifetime: renewed
	// on every run).
	RenewBefore time.Duration
}

func (p SubscriptionPolicy) lifetime() time.Duration {
	max := MaxListSubscriptionLifetime - time.Minute
	if p.Lifetime <= 0 || p.Lifetime > max {
		return max
	}
	return p.Lifetime
}

// Action kinds.
const (
	ActionCreate = "create"
	ActionRenew  = "renew"
	ActionKeep   = "keep"
)

// Action is what to do for one list's subscription.
type Action struct {
	Kind           string
	List           string
	Resource       string
	SubscriptionID string
	// Expiration is the new expiry (create, renew) or the current one (keep).
	Expiration time.Time
}

// PlanSubscriptions decides, for every list, whether its subscription
// (same resource and notification URL, not yet expired) is kept, renewed
// (expiring within RenewBefore) or created. Of several matching
// subscriptions the one expiring last is used; subscriptions for other
// URLs or resources are left alone.
func PlanSubscriptions(lists []List, existing []graph.Subscription, notificationURL string, now time.Time, p SubscriptionPolicy) []Action {
	subs := append([]graph.Subscription(nil), existing...)
	sort.SliceStable(subs, func(i, j int) bool { return subs[i].Expiration.After(subs[j].Expiration) })
	exp := now.Add(p.lifetime()).UTC().Truncate(time.Second)
	out := make([]Action, 0, len(lists))
	for _, l := range lists {
		a := Action{Kind: ActionCreate, List: l.Name, Resource: l.Resource(), Expiration: exp}
		for _, s := range subs {
			if !sameResource(s.Resource, l) || !strings.EqualFold(strings.TrimRight(s.NotificationURL, "/"), strings.TrimRight(notificationURL, "/")) {
				continue
			}
			if !s.Expiration.After(now) {
				continue // expired: Graph deletes it; create anew
			}
			a.SubscriptionID = s.ID
			if s.Expiration.Sub(now) <= p.RenewBefore {
				a.Kind = ActionRenew
			} else {
				a.Kind, a.Expiration = ActionKeep, s.Expiration
			}
			break
		}
		out = append(out, a)
	}
	return out
}

func sameResource(r string, l List) bool {
	r = strings.Trim(strings.TrimSpace(r), "/")
	if strings.EqualFold(r, l.Resource()) {
		return true
	}
	// Graph may echo the resource with a different site-id form; the list
	// id is unique per tenant.
	return strings.EqualFold(resourceListID(r), l.ListID) && strings.Contains(strings.ToLower(r), "lists")
}
