package localhost

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/council-ict/govkit/shared/funcapp"
)

func TestTimers(t *testing.T) {
	type fired struct {
		fn   string
		info funcapp.TimerInfo
		err  error
	}
	fires := make(chan fired, 64)
	var inFlight, maxInFlight, slowInFlight, slowOverlap atomic.Int32
	record := func(name string, hold time.Duration) funcapp.Handler {
		return funcapp.HandlerFunc(func(ctx context.Context, inv funcapp.Invocation) (funcapp.Result, error) {
			n := inFlight.Add(1)
			defer inFlight.Add(-1)
			for {
				m := maxInFlight.Load()
				if n <= m || maxInFlight.CompareAndSwap(m, n) {
					break
				}
			}
			info, err := inv.Timer("myTimer")
			select {
			case fires <- fired{name, info, err}:
			default:
			}
			if hold > 0 {
				if slowInFlight.Add(1) > 1 {
					slowOverlap.Add(1)
				}
				time.Sleep(hold)
				slowInFlight.Add(-1)
			}
			return funcapp.Result{}, nil
		})
	}
	handlers := map[string]funcapp.Handler{
		"EverySecond": record("EverySecond", 0),
		"Startup":     record("Startup", 0),
		"Slow":        record("Slow", 1500*time.Millisecond),
	}
	dir := writeApp(t, testHostJSON, map[string]string{
		"EverySecond": `{"bindings":[{"name":"myTimer","type":"timerTrigger","direction":"in","schedule":"%EVERY%"}]}`,
		"Startup":     `{"bindings":[{"name":"myTimer","type":"timerTrigger","direction":"in","schedule":"0 0 3 1 1 *","runOnStartup":true}]}`,
		"Slow":        `{"bindings":[{"name":"myTimer","type":"timerTrigger","direction":"in","schedule":"*/1 * * * * *"}]}`,
	})
	h := startHost(t, Options{AppDir: dir, Worker: testWorker(t, handlers), Settings: map[string]string{"EVERY": "*/1 * * * * *"}})

	got := map[string][]funcapp.TimerInfo{}
	deadline := time.After(60 * time.Second)
collect:
	for {
		select {
		case f := <-fires:
			if f.err != nil {
				t.Fatalf("%s: timer payload did not decode: %v", f.fn, f.err)
			}
			got[f.fn] = append(got[f.fn], f.info)
			if len(got["EverySecond"]) >= 2 && len(got["Startup"]) >= 1 {
				break collect
			}
		case <-deadline:
			t.Fatalf("timers fired %v within 60s", got)
		}
	}
	for _, info := range got["EverySecond"] {
		if info.IsPastDue || info.Status != nil {
			t.Fatalf("per-second timer: %+v (want no ScheduleStatus: not monitored)", info)
		}
	}
	s := got["Startup"][0]
	if s.Status == nil || !s.Status.Last.IsZero() || s.Status.Next.Month() != time.January || s.Status.Next.Hour() != 3 {
		t.Fatalf("runOnStartup payload: %+v status %+v", s, s.Status)
	}
	if err := h.stop(t); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if maxInFlight.Load() > 3 {
		t.Fatalf("%d invocations in flight at once; each timer runs one at a time", maxInFlight.Load())
	}
	// The slow timer holds 1.5s on a 1s schedule: occurrences during a run
	// are skipped, so its invocations never overlap.
	if n := slowOverlap.Load(); n > 0 {
		t.Fatalf("slow timer overlapped itself %d times", n)
	}
}
