package powerbi

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"
)

// RowSource streams a table's rows: it calls emit once per row with the
// values in column order. Values are int, int64, float64, bool, string,
// time.Time or nil (null; a zero time.Time is null too). emit encodes the
// values at once, so the slice may be reused. A source returns emit's error
// unchanged. It may be called more than once (ReplaceRows starts a table
// again after a lost answer) and must then give the same rows.
type RowSource func(ctx context.Context, emit func(values []any) error) error

// TableResult is what replacing one table's rows did.
type TableResult struct {
	Table string `json:"table"`
	// Rows is the number of rows posted.
	Rows int `json:"rows"`
	// Posts is the number of successful POST rows requests.
	Posts int `json:"posts"`
	// Truncated counts string values cut to 4,000 characters.
	Truncated int `json:"truncated"`
	// SchemaUpdated is set when the table's schema was PUT.
	SchemaUpdated bool `json:"schemaUpdated"`
	// Restarts counts the times the table was emptied and loaded again
	// because a POST's answer was lost (ErrOutcomeUnknown).
	Restarts int `json:"restarts,omitempty"`
	// Err is why the table was not (fully) replaced; nil on success.
	Err error `json:"-"`
}

// TruncateString cuts s to at most MaxStringChars characters, counted as the
// service counts them (UTF-16 code units), never splitting a character.
func TruncateString(s string) (string, bool) {
	if len(s) <= MaxStringChars {
		return s, false // at most one unit per byte
	}
	units := 0
	for i, r := range s {
		n := 1
		if r > 0xFFFF {
			n = 2
		}
		if units+n > MaxStringChars {
			return s[:i], true
		}
		units += n
	}
	return s, false
}

// encoder writes rows of one table as the body of a POST rows request.
type encoder struct {
	t    Table
	keys [][]byte // `"Name":` per column
}

func newEncoder(t Table) *encoder {
	e := &encoder{t: t, keys: make([][]byte, len(t.Columns))}
	for i, c := range t.Columns {
		k := appendJSONString(nil, c.Name)
		e.keys[i] = append(k, ':')
	}
	return e
}

// appendRow appends one row object; it returns how many strings it cut.
func (e *encoder) appendRow(b []byte, vals []any) ([]byte, int, error) {
	if len(vals) != len(e.t.Columns) {
		return b, 0, fmt.Errorf("table %s: a row has %d values for %d columns", e.t.Name, len(vals), len(e.t.Columns))
	}
	cut := 0
	b = append(b, '{')
	for i, c := range e.t.Columns {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, e.keys[i]...)
		v := vals[i]
		if v == nil {
			b = append(b, "null"...)
			continue
		}
		bad := false
		switch c.DataType {
		case Int64:
			switch x := v.(type) {
			case int:
				b = strconv.AppendInt(b, int64(x), 10)
			case int64:
				b = strconv.AppendInt(b, x, 10)
			case int32:
				b = strconv.AppendInt(b, int64(x), 10)
			default:
				bad = true
			}
		case Double:
			var f float64
			switch x := v.(type) {
			case float64:
				f = x
			case float32:
				f = float64(x)
			case int:
				f = float64(x)
			case int64:
				f = float64(x)
			default:
				bad = true
			}
			if !bad {
				if math.IsNaN(f) || math.IsInf(f, 0) {
					b = append(b, "null"...)
				} else {
					b = strconv.AppendFloat(b, f, 'g', -1, 64)
				}
			}
		case Boolean:
			if x, ok := v.(bool); ok {
				b = strconv.AppendBool(b, x)
			} else {
				bad = true
			}
		case DateTime:
			if x, ok := v.(time.Time); ok {
				if x.IsZero() {
					b = append(b, "null"...)
				} else {
					b = append(b, '"')
					b = x.UTC().AppendFormat(b, time.RFC3339)
					b = append(b, '"')
				}
			} else {
				bad = true
			}
		case String:
			if x, ok := v.(string); ok {
				s, was := TruncateString(x)
				if was {
					cut++
				}
				b = appendJSONString(b, s)
			} else {
				bad = true
			}
		}
		if bad {
			return b, cut, fmt.Errorf("table %s column %s: a %T value for a %s column", e.t.Name, c.Name, v, c.DataType)
		}
	}
	return append(b, '}'), cut, nil
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string; invalid UTF-8 becomes U+FFFD.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c < 0x20:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, `\ufffd`...)
		} else {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}

// chunk is one POST rows body.
type chunk struct {
	buf  []byte
	rows int
}

// MaxRestarts bounds how many times ReplaceRows starts a table again
// after a POST rows whose answer was lost.
const MaxRestarts = 2

// ReplaceRows deletes every row of table t and posts src's rows in chunks of
// at most Limits.RowsPerPost, paced to the dataset's limits, with up to
// Config.Workers requests in flight. Memory is bounded by Workers+1 chunks.
// On failure the result counts what was posted and Err says why.
//
// A POST rows whose connection failed after it was sent may have been
// applied, and the push API has no idempotency key, so resending it could
// add its rows twice. Instead the table is started again: deleted and
// loaded from src afresh (src is called again), up to MaxRestarts times.
// If that too runs out, Err says the table may hold rows twice until the
// next run, whose ReplaceRows deletes them first.
func (c *Client) ReplaceRows(ctx context.Context, group, datasetID string, t Table, src RowSource) TableResult {
	for restarts := 0; ; restarts++ {
		res := c.replaceOnce(ctx, group, datasetID, t, src)
		res.Restarts = restarts
		if res.Err == nil || !errors.Is(res.Err, ErrOutcomeUnknown) || ctx.Err() != nil {
			return res
		}
		if restarts == MaxRestarts {
			res.Err = fmt.Errorf("%w; after %d restarts table %s may hold some rows twice until the next run replaces them", res.Err, restarts, t.Name)
			return res
		}
	}
}

func (c *Client) replaceOnce(ctx context.Context, group, datasetID string, t Table, src RowSource) TableResult {
	res := TableResult{Table: t.Name}
	if err := t.Validate(); err != nil {
		res.Err = err
		return res
	}
	if err := c.DeleteRows(ctx, group, datasetID, t.Name); err != nil {
		res.Err = err
		return res
	}
	// ctx ends every request on a failure; feed only stops handing out
	// chunks, so that requests in flight after a lost answer finish and
	// their outcome is known before the table is started again.
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	feed, stopFeed := context.WithCancelCause(ctx)
	defer stopFeed(nil)
	p := c.pacer(datasetID)
	enc := newEncoder(t)
	workers := c.cfg.Workers
	free := make(chan *chunk, workers+1)
	for range workers + 1 {
		free <- &chunk{}
	}
	work := make(chan *chunk)
	var (
		mu       sync.Mutex
		firstErr error
		reserved int // rows reserved so far: the table's size for the large-table rule
	)
	fail := func(err error) {
		mu.Lock()
		if firstErr == nil {
			firstErr = err
		}
		mu.Unlock()
		if errors.Is(err, ErrOutcomeUnknown) {
			stopFeed(err)
			return
		}
		cancel(err)
	}
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for ch := range work {
				if feed.Err() != nil {
					free <- ch
					continue
				}
				n, first := ch.rows, true
				err := c.do(ctx, call{op: "PostRows", table: t.Name, dataset: datasetID, method: http.MethodPost,
					path: tablePath(group, datasetID, t.Name) + "/rows", body: ch.buf, counter: &c.stats.postRows,
					before: func(ctx context.Context) (func(), error) {
						mu.Lock()
						size := reserved
						if first { // a retry is paced again but adds no rows
							reserved += n
							first = false
						}
						mu.Unlock()
						m, err := p.wait(ctx, c.clock, n, size)
						if err != nil {
							return nil, err
						}
						return func() { p.finish(m, c.clock.Now()) }, nil
					}})
				if err != nil {
					fail(err)
				} else {
					c.stats.rowsPosted.Add(int64(n))
					mu.Lock()
					res.Rows += n
					res.Posts++
					mu.Unlock()
				}
				free <- ch
			}
		})
	}
	var cur *chunk
	send := func() error {
		cur.buf = append(cur.buf, "]}"...)
		select {
		case work <- cur:
			cur = nil
			return nil
		case <-feed.Done():
			return context.Cause(feed)
		}
	}
	truncated := 0
	srcErr := src(feed, func(vals []any) error {
		if cur == nil {
			select {
			case cur = <-free:
			case <-feed.Done():
				return context.Cause(feed)
			}
			cur.buf = append(cur.buf[:0], `{"rows":[`...)
			cur.rows = 0
		} else {
			cur.buf = append(cur.buf, ',')
		}
		var cut int
		var err error
		cur.buf, cut, err = enc.appendRow(cur.buf, vals)
		truncated += cut
		if err != nil {
			return err
		}
		cur.rows++
		if cur.rows >= c.limits.RowsPerPost {
			return send()
		}
		return nil
	})
	if srcErr == nil && cur != nil && cur.rows > 0 {
		srcErr = send()
	}
	close(work)
	wg.Wait()
	res.Truncated = truncated
	switch {
	case firstErr != nil:
		res.Err = firstErr
	case srcErr != nil:
		res.Err = fmt.Errorf("reading the rows of %s: %w", t.Name, srcErr)
	}
	if res.Err != nil && errors.Is(res.Err, context.Canceled) && ctx.Err() != nil && firstErr == nil {
		res.Err = context.Cause(ctx)
	}
	return res
}
