package powerbi

import (
	"context"
	"slices"
	"sync"
	"time"
)

// Clock is the time source of pacing and retry waits. Tests use
// [FakeClock] so that nothing sleeps for real.
type Clock interface {
	Now() time.Time
	// SleepUntil returns when the clock reaches t, or with ctx's error if
	// ctx ends first.
	SleepUntil(ctx context.Context, t time.Time) error
}

// SystemClock is the real clock.
func SystemClock() Clock { return systemClock{} }

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

func (systemClock) SleepUntil(ctx context.Context, t time.Time) error {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err()
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return nil
	}
}

// FakeClock is a virtual clock: SleepUntil moves it forward at once. It is
// safe for concurrent use; time never goes backwards.
type FakeClock struct {
	mu    sync.Mutex
	now   time.Time
	slept time.Duration
}

// NewFakeClock returns a virtual clock reading start.
func NewFakeClock(start time.Time) *FakeClock { return &FakeClock{now: start} }

// Now returns the virtual time.
func (c *FakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// SleepUntil advances the clock to t (if it is later) and returns.
func (c *FakeClock) SleepUntil(ctx context.Context, t time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if t.After(c.now) {
		c.slept += t.Sub(c.now)
		c.now = t
	}
	return nil
}

// Advance moves the clock forward by d.
func (c *FakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// Slept is the total virtual time spent waiting.
func (c *FakeClock) Slept() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.slept
}

// Limits are the push-dataset limits the client paces to. The zero value of
// a field means the documented limit ([DefaultLimits]).
type Limits struct {
	RowsPerPost            int           // rows in one POST rows request (10,000)
	PostsPerMinute         int           // POST rows requests per minute per dataset (120)
	PostsPerHourLargeTable int           // … per hour once the table holds LargeTableRows (120)
	LargeTableRows         int           // (250,000)
	RowsPerHour            int           // rows added per hour per dataset (1,000,000)
	MaxPending             int           // requests in flight per dataset (5)
	Margin                 time.Duration // added to each window for clock skew (250ms)
}

// DefaultLimits are the documented limits.
func DefaultLimits() Limits {
	return Limits{RowsPerPost: MaxRowsPerPost, PostsPerMinute: 120, PostsPerHourLargeTable: 120,
		LargeTableRows: 250000, RowsPerHour: 1000000, MaxPending: 5, Margin: 250 * time.Millisecond}
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	pick := func(v *int, def int) {
		if *v <= 0 {
			*v = def
		}
	}
	pick(&l.RowsPerPost, d.RowsPerPost)
	l.RowsPerPost = min(l.RowsPerPost, MaxRowsPerPost)
	pick(&l.PostsPerMinute, d.PostsPerMinute)
	pick(&l.PostsPerHourLargeTable, d.PostsPerHourLargeTable)
	pick(&l.LargeTableRows, d.LargeTableRows)
	pick(&l.RowsPerHour, d.RowsPerHour)
	pick(&l.MaxPending, d.MaxPending)
	l.MaxPending = min(l.MaxPending, 5)
	if l.Margin < 0 {
		l.Margin = 0
	}
	return l
}

// rowMark is one POST rows request: when it went out, when its answer came
// back (zero while in flight) and its rows.
type rowMark struct {
	at, done time.Time
	rows     int
}

// pacer keeps one dataset's POST rows requests within the limits. A request
// counts against a window from when it goes out until a window after its
// answer came back, so however long a request was in transit, the service
// cannot have seen more than the limit in any window of its own clock.
type pacer struct {
	limits  Limits
	pending chan struct{}

	mu      sync.Mutex
	marks   []*rowMark    // requests of the last hour, in the order they went out
	changed chan struct{} // closed when a request in flight finishes
}

func newPacer(l Limits) *pacer {
	return &pacer{limits: l, pending: make(chan struct{}, l.MaxPending), changed: make(chan struct{})}
}

// forever stands for "a window after an answer not yet received".
var forever = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)

func (m *rowMark) until() time.Time {
	if m.done.IsZero() {
		return forever
	}
	return m.done
}

// reserve records a POST of n rows to a table already holding tableRows
// rows if it may go out now, and returns its mark. Otherwise it returns the
// earliest time it may go out (forever: when a request in flight finishes)
// and records nothing.
func (p *pacer) reserve(now time.Time, n, tableRows int) (*rowMark, time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	l := p.limits
	hour, minute := time.Hour+l.Margin, time.Minute+l.Margin
	// Forget what can no longer matter.
	kept := p.marks[:0]
	for _, m := range p.marks {
		if m.until().After(now.Add(-hour)) {
			kept = append(kept, m)
		}
	}
	clear(p.marks[len(kept):])
	p.marks = kept

	// The k-th latest "until" decides when the k-th most recent request
	// leaves a window.
	untils := make([]time.Time, len(p.marks))
	for i, m := range p.marks {
		untils[i] = m.until()
	}
	slices.SortFunc(untils, func(a, b time.Time) int { return a.Compare(b) })
	k := len(untils)
	t := now
	if k >= l.PostsPerMinute {
		t = later(t, untils[k-l.PostsPerMinute].Add(minute))
	}
	if tableRows >= l.LargeTableRows && k >= l.PostsPerHourLargeTable {
		t = later(t, untils[k-l.PostsPerHourLargeTable].Add(hour))
	}
	// Rows: leave out the requests whose windows end first until n fits.
	byUntil := slices.Clone(p.marks)
	slices.SortFunc(byUntil, func(a, b *rowMark) int { return a.until().Compare(b.until()) })
	sum := 0
	for _, m := range byUntil {
		sum += m.rows
	}
	for _, m := range byUntil {
		if sum+n <= l.RowsPerHour {
			break
		}
		t = later(t, m.until().Add(hour))
		sum -= m.rows
	}
	if t.After(now) {
		return nil, t
	}
	m := &rowMark{at: now, rows: n}
	p.marks = append(p.marks, m)
	return m, now
}

// finish records that m's answer came back at now.
func (p *pacer) finish(m *rowMark, now time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	m.done = now
	close(p.changed)
	p.changed = make(chan struct{})
}

// wait blocks until a POST of n rows may go out and returns its mark, to be
// passed to finish when the answer comes back.
func (p *pacer) wait(ctx context.Context, clock Clock, n, tableRows int) (*rowMark, error) {
	for {
		p.mu.Lock()
		changed := p.changed
		p.mu.Unlock()
		m, at := p.reserve(clock.Now(), n, tableRows)
		if m != nil {
			return m, nil
		}
		if at.Before(forever.Add(-2 * time.Hour)) {
			if err := clock.SleepUntil(ctx, at); err != nil {
				return nil, err
			}
			continue
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// acquire takes one of the dataset's pending-request slots.
func (p *pacer) acquire(ctx context.Context) error {
	select {
	case p.pending <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (p *pacer) release() { <-p.pending }
