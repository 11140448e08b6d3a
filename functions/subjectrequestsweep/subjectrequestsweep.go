// Package subjectrequestsweep is the SubjectRequestSweep function (timer,
// daily by default): it streams the open subject requests, sends each
// reminder rung, overdue escalation and extension-notice warning once
// through the notification outbox (the notification id is the idempotency
// key, so a re-run sends nothing twice and a missed day catches up with the
// most urgent rung only), and purges personal details past the retention
// period after closure.
package subjectrequestsweep

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/council-ict/govkit/shared/funcapp"
	"github.com/council-ict/govkit/shared/notify"
	"github.com/council-ict/govkit/shared/store"
	sr "github.com/council-ict/govkit/shared/subjectrequests"
	"github.com/council-ict/govkit/shared/ukdates"
	"github.com/rs/zerolog"
)

// Notifier hands notifications to the pipeline (notify.Outbox).
type Notifier interface {
	Publish(ctx context.Context, ns []notify.Notification) (notify.Stats, error)
}

// Store is what the sweep reads and writes (*subjectrequests.Store).
type Store interface {
	Ensure(ctx context.Context) error
	QueryRecords(ctx context.Context, filter string, fn func(store.Record[sr.Record]) error) error
	PurgePeople(ctx context.Context, closedBy, today ukdates.Date) (sr.PurgeStats, error)
}

// Retention is how long personal details are kept after closure.
type Retention struct{ Years, Months, Days int }

// ParseRetention reads "6y", "18m" or "400d".
func ParseRetention(s string) (Retention, error) {
	s = strings.TrimSpace(strings.ToLower(s))
	if len(s) < 2 {
		return Retention{}, fmt.Errorf("%q is not a period such as 6y, 18m or 400d", s)
	}
	n, err := strconv.Atoi(s[:len(s)-1])
	if err != nil || n < 0 || n > 100*366 {
		return Retention{}, fmt.Errorf("%q is not a period such as 6y, 18m or 400d", s)
	}
	switch s[len(s)-1] {
	case 'y':
		return Retention{Years: n}, nil
	case 'm':
		return Retention{Months: n}, nil
	case 'd':
		return Retention{Days: n}, nil
	}
	return Retention{}, fmt.Errorf("%q is not a period such as 6y, 18m or 400d", s)
}

// ClosedBy is the latest closure date whose personal details are due for
// deletion on today.
func (r Retention) ClosedBy(today ukdates.Date) ukdates.Date {
	t := time.Date(today.Year, today.Month, today.Day, 12, 0, 0, 0, time.UTC).AddDate(-r.Years, -r.Months, -r.Days)
	return ukdates.Date{Year: t.Year(), Month: t.Month(), Day: t.Day()}
}

// Config configures the sweep.
type Config struct {
	Reminders sr.ReminderConfig
	Retention Retention
	// PublishChunk is how many notifications are published at a time
	// (default 200), bounding memory on a large backlog.
	PublishChunk int
}

// Handler runs the sweep.
type Handler struct {
	cfg      Config
	st       Store
	notifier Notifier
	now      func() time.Time
}

// New returns the sweep.
func New(cfg Config, st Store, n Notifier) (*Handler, error) {
	if st == nil || n == nil {
		return nil, errors.New("subjectrequestsweep: store and notifier are required")
	}
	if len(cfg.Reminders.Offsets) == 0 {
		return nil, errors.New("subjectrequestsweep: no reminder offsets")
	}
	if cfg.PublishChunk <= 0 {
		cfg.PublishChunk = 200
	}
	return &Handler{cfg: cfg, st: st, notifier: n, now: time.Now}, nil
}

// Report is what one run did: counts only, no personal data.
type Report struct {
	Today                ukdates.Date  `json:"today"`
	OpenScanned          int           `json:"openScanned"`
	Reminders            int           `json:"reminders"`
	Overdue              int           `json:"overdue"`
	ExtensionWarnings    int           `json:"extensionWarnings"`
	Notifications        int           `json:"notifications"`
	NotificationsNew     int           `json:"notificationsNew"`
	NotificationsSkipped int           `json:"notificationsAlreadySent"`
	Purge                sr.PurgeStats `json:"purge"`
	// TableQueries and EntitiesRead count the table reads the sweep made
	// (the outbox's own reads are not included).
	TableQueries int           `json:"tableQueries"`
	EntitiesRead int           `json:"entitiesRead"`
	Duration     time.Duration `json:"duration"`
}

// Invoke runs the sweep for the timer invocation.
func (h *Handler) Invoke(ctx context.Context, inv funcapp.Invocation) (funcapp.Result, error) {
	if _, err := inv.Timer("timer"); err != nil {
		zerolog.Ctx(ctx).Warn().Err(err).Msg("timer payload not understood; sweeping anyway")
	}
	rep, err := h.Run(ctx, h.now())
	log := zerolog.Ctx(ctx)
	ev := log.Info()
	if err != nil {
		ev = log.Error().Err(err)
	}
	ev.Str("today", rep.Today.String()).Int("openScanned", rep.OpenScanned).Int("reminders", rep.Reminders).
		Int("overdue", rep.Overdue).Int("extensionWarnings", rep.ExtensionWarnings).Int("notifications", rep.Notifications).
		Int("notificationsNew", rep.NotificationsNew).Int("notificationsAlreadySent", rep.NotificationsSkipped).
		Int("purged", rep.Purge.Purged).Int("tableQueries", rep.TableQueries).Int("entitiesRead", rep.EntitiesRead).
		Dur("duration", rep.Duration).Msg("subject request sweep")
	if err != nil {
		return funcapp.Result{}, err
	}
	return funcapp.Result{ReturnValue: rep}, nil
}

// Run sweeps as of now. Open requests are streamed a page at a time and
// notifications published in chunks, so memory does not grow with the
// number of requests.
func (h *Handler) Run(ctx context.Context, now time.Time) (Report, error) {
	start := time.Now()
	today := ukdates.LondonDate(now)
	rep := Report{Today: today}
	defer func() { rep.Duration = time.Since(start) }()
	if err := h.st.Ensure(ctx); err != nil {
		return rep, err
	}
	var pending []notify.Notification
	flush := func() error {
		if len(pending) == 0 {
			return nil
		}
		st, err := h.notifier.Publish(ctx, pending)
		rep.NotificationsNew += st.New
		rep.NotificationsSkipped += st.Duplicates
		pending = pending[:0]
		return err
	}
	rep.TableQueries++
	err := h.st.QueryRecords(ctx, sr.OpenFilter, func(r store.Record[sr.Record]) error {
		rep.OpenScanned++
		rep.EntitiesRead++
		alerts := sr.Evaluate(r.Value, today, h.cfg.Reminders)
		for _, a := range alerts {
			switch a.Kind {
			case "reminder":
				rep.Reminders++
			case "overdue":
				rep.Overdue++
			default:
				rep.ExtensionWarnings++
			}
		}
		ns := sr.Notifications(r.Value, alerts, h.cfg.Reminders, now)
		rep.Notifications += len(ns)
		pending = append(pending, ns...)
		if len(pending) >= h.cfg.PublishChunk {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	if err != nil {
		rep.Duration = time.Since(start)
		return rep, fmt.Errorf("subject request sweep: %w", err)
	}
	rep.TableQueries++
	purge, err := h.st.PurgePeople(ctx, h.cfg.Retention.ClosedBy(today), today)
	rep.Purge = purge
	rep.EntitiesRead += purge.Examined
	rep.Duration = time.Since(start)
	if err != nil {
		return rep, fmt.Errorf("subject request retention purge: %w", err)
	}
	return rep, nil
}
