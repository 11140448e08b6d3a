package subjectrequests

import (
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/council-ict/govkit/shared/ukdates"
)

// CalendarSource gives the bank-holiday calendar: from a gov.uk-format file
// when one is configured (re-read when its size or modification time
// changes, so the council can drop in a newer file without a release, e.g.
// on an Azure Files mount), else the data embedded in ukdates.
type CalendarSource struct {
	div  ukdates.Division
	path string

	mu      sync.Mutex
	cal     *ukdates.Calendar
	modTime time.Time
	size    int64
}

// NewCalendarSource returns a source for div, reading path when non-empty.
// It does no I/O.
func NewCalendarSource(div ukdates.Division, path string) *CalendarSource {
	return &CalendarSource{div: div, path: path}
}

// Calendar returns the calendar. If the configured file cannot be read or
// parsed it falls back to the embedded data and returns the problem as
// warn, to be logged: the embedded data can only lack holidays added later,
// which makes a deadline earlier, never later, and a date beyond its years
// is still ukdates.ErrNotCovered.
func (c *CalendarSource) Calendar() (cal *ukdates.Calendar, warn, err error) {
	embedded := func() (*ukdates.Calendar, error) { return ukdates.NewCalendar(c.div) }
	if c.path == "" {
		cal, err := embedded()
		return cal, nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	fi, statErr := os.Stat(c.path)
	if statErr == nil && c.cal != nil && fi.ModTime().Equal(c.modTime) && fi.Size() == c.size {
		return c.cal, nil, nil
	}
	if statErr == nil {
		f, err := os.Open(c.path)
		if err == nil {
			loaded, lerr := ukdates.LoadCalendar(f, c.div)
			_ = f.Close()
			if lerr == nil {
				c.cal, c.modTime, c.size = loaded, fi.ModTime(), fi.Size()
				return loaded, nil, nil
			}
			statErr = lerr
		} else {
			statErr = err
		}
	}
	cal, err = embedded()
	return cal, fmt.Errorf("UK_BANK_HOLIDAYS_FILE could not be used, using the embedded bank holidays: %w", statErr), err
}
