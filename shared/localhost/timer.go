package localhost

import (
	"context"
	"sync/atomic"
	"time"
)

// zeroLast is how the timer monitor reports "never ran".
const zeroLast = "0001-01-01T00:00:00"

// timerData builds a timer trigger's Data value. status false sends a null
// ScheduleStatus (no monitor, or an admin run).
func timerData(status bool, last, next time.Time, pastDue bool) map[string]any {
	var st any
	if status {
		l := zeroLast
		if !last.IsZero() {
			l = hostTime(last)
		}
		st = map[string]any{"Last": l, "Next": hostTime(next), "LastUpdated": hostTime(time.Now())}
	}
	return map[string]any{
		"Schedule":       map[string]any{"AdjustForDST": true},
		"ScheduleStatus": st,
		"IsPastDue":      pastDue,
	}
}

// runTimer fires fn on its schedule until ctx ends. Invocations run one at
// a time: an occurrence that comes while the previous invocation (or an
// admin run) is still going is skipped, as Azure does. Failures are logged,
// not retried.
func (h *host) runTimer(ctx context.Context, fn *Function, busy *atomic.Int32) {
	var last time.Time
	fire := func(scheduled time.Time) {
		if !busy.CompareAndSwap(0, 1) {
			h.log.Info().Str("function", fn.Name).Msg("timer occurrence skipped: the previous invocation is still running")
			return
		}
		defer busy.Add(-1)
		inv := newInvocation(fn, "timer")
		inv.data[fn.Trigger.Name] = timerData(fn.monitor, last, fn.schedule.Next(scheduled), false)
		h.inv.call(ctx, inv)
		last = scheduled
	}
	if fn.Trigger.RunOnStartup {
		fire(time.Now().UTC())
	}
	for {
		next := fn.schedule.Next(time.Now())
		if next.IsZero() {
			h.log.Warn().Str("function", fn.Name).Msg("timer has no further occurrences")
			return
		}
		t := time.NewTimer(time.Until(next))
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		fire(next)
	}
}
