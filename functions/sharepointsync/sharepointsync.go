// Package sharepointsync is the SharePointSync function: for each message
// on "sharepoint-changes" it runs the list-item delta sync of the list the
// message names (sharepoint.Engine). A Graph or storage failure is a plain
// error (5xx: the queue redelivers, then dead-letters); a message for a list
// not configured, or unreadable, is permanent (2xx, logged).
package sharepointsync

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/council-ict/govkit/shared/funcapp"
	"github.com/council-ict/govkit/shared/sharepoint"
	"github.com/rs/zerolog"
)

// Syncer runs one list's sync (*sharepoint.Engine).
type Syncer interface {
	Sync(ctx context.Context, l sharepoint.List) (sharepoint.Result, error)
}

// Handler is the function.
type Handler struct {
	lists []sharepoint.List
	sync  Syncer
}

// New builds the function.
func New(lists []sharepoint.List, s Syncer) (*Handler, error) {
	if s == nil && len(lists) > 0 {
		return nil, errors.New("sharepointsync: a sync engine is required")
	}
	return &Handler{lists: lists, sync: s}, nil
}

// Invoke implements funcapp.Handler.
func (h *Handler) Invoke(ctx context.Context, inv funcapp.Invocation) (funcapp.Result, error) {
	log := zerolog.Ctx(ctx)
	msg, err := inv.ServiceBusMessage("msg")
	if err != nil && len(msg.Body) == 0 {
		log.Error().Str("messageId", inv.MetaString("MessageId")).Err(err).Msg("sharepoint change unreadable; dropped")
		return funcapp.Result{}, funcapp.Permanent(err)
	}
	c, err := sharepoint.DecodeChange(msg.Body)
	if err != nil {
		log.Error().Str("messageId", msg.MessageID).Err(err).Msg("malformed sharepoint change; dropped")
		return funcapp.Result{}, funcapp.Permanent(err)
	}
	l, ok := sharepoint.ByName(h.lists, c.List)
	if !ok {
		log.Warn().Str("list", c.List).Int("configuredLists", len(h.lists)).Msg("sharepoint change for a list not in SHAREPOINT_LISTS; dropped")
		return funcapp.Result{}, funcapp.Permanent(fmt.Errorf("list %q is not configured", c.List))
	}
	start := time.Now()
	res, err := h.sync.Sync(ctx, l)
	ev := log.Info()
	if err != nil {
		ev = log.Warn().Err(err)
	}
	ev.Str("list", l.Name).Str("messageId", msg.MessageID).Int64("deliveryCount", msg.DeliveryCount).
		Int("pages", res.Pages).Int("items", res.Items).Int("changed", res.Changed).Int("unchanged", res.Unchanged).
		Int("deleted", res.Deleted).Int("itemErrors", res.Errors).Bool("resynced", res.Resynced).
		Dur("duration", time.Since(start)).Msg("sharepoint sync")
	return funcapp.Result{}, err
}
