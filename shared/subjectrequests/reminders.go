package subjectrequests

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/council-ict/govkit/shared/notify"
	"github.com/council-ict/govkit/shared/ukdates"
)

// NotificationSource is the Source of every notification this package builds.
const NotificationSource = "SubjectRequestSweep"

// ReminderConfig says who is told what, when.
type ReminderConfig struct {
	// Offsets are the reminder rungs, in calendar days before the due date
	// (default 10, 5, 2, 1).
	Offsets []int
	// IGRoute receives every reminder and warning (default "igsg").
	IGRoute string
	// DPORoute receives overdue escalations and late extension notices
	// (default "dpo").
	DPORoute string
	// ServiceAreaPrefix makes the service area's route: prefix + kebab
	// case of the area, e.g. "sar-" + "adult-social-care". Empty: no
	// service-area route.
	ServiceAreaPrefix string
	// ExtensionNoticeWarnDays is how many days before the extension-notice
	// date a warning goes out if no notice is recorded (default 2).
	ExtensionNoticeWarnDays int
	// LinkBase, when set, is the API URL requests are linked to
	// (…/api/subject-requests).
	LinkBase string
}

// ParseOffsets parses "10,5,2,1": distinct whole days 1..365.
func ParseOffsets(s string) ([]int, error) {
	var out []int
	for _, p := range strings.Split(s, ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 365 {
			return nil, fmt.Errorf("%q is not a whole number of days from 1 to 365", p)
		}
		if slices.Contains(out, n) {
			return nil, fmt.Errorf("%d appears twice", n)
		}
		out = append(out, n)
	}
	if len(out) == 0 {
		return nil, errors.New("no offsets")
	}
	slices.Sort(out)
	return out, nil
}

// Alert is one thing a request needs someone to be told.
type Alert struct {
	// Kind is "reminder", "overdue", "extension-notice-due" or
	// "extension-notice-late".
	Kind string
	// Rung is the reminder offset (days) for a reminder, else 0.
	Rung int
	// Key identifies the alert for one deadline: a changed deadline (an
	// extension, a clock stop) re-arms the reminders.
	Key      string
	Severity string
	Routes   []string
	DaysLeft int
}

// Evaluate returns what r needs today. It sends each rung once per
// deadline and, after missed days, only the most urgent rung now due (a
// request 2 days from its deadline gets the 2-day reminder, not also the 10-
// and 5-day ones): the rung is the smallest offset that is at least the
// days left. Only open or paused requests with a deadline are considered.
func Evaluate(r Record, today ukdates.Date, cfg ReminderConfig) []Alert {
	st := Status(r.Status)
	if st != StatusOpen && st != StatusPaused {
		return nil
	}
	var out []Alert
	sa := cfg.serviceAreaRoute(r.ServiceArea)
	routes := func(rs ...string) []string {
		var o []string
		for _, x := range rs {
			if x != "" && !slices.Contains(o, x) {
				o = append(o, x)
			}
		}
		return o
	}
	if due := day(r.DueOn); !due.IsZero() && st == StatusOpen {
		left := today.DaysUntil(due)
		switch {
		case left < 0:
			out = append(out, Alert{Kind: "overdue", Key: "due:" + r.DueOn + ":overdue", Severity: notify.SeverityOverdue,
				Routes: routes(cfg.DPORoute, cfg.IGRoute, sa), DaysLeft: left})
		default:
			if i, ok := slices.BinarySearch(cfg.Offsets, left); ok || i < len(cfg.Offsets) {
				rung := cfg.Offsets[i]
				out = append(out, Alert{Kind: "reminder", Rung: rung, Key: fmt.Sprintf("due:%s:reminder:%d", r.DueOn, rung),
					Severity: reminderSeverity(left), Routes: routes(sa, cfg.IGRoute), DaysLeft: left})
			}
		}
	}
	if by := day(r.ExtensionNoticeBy); r.Extended && r.ExtensionNotifiedOn == "" && !by.IsZero() {
		left := today.DaysUntil(by)
		switch {
		case left < 0:
			out = append(out, Alert{Kind: "extension-notice-late", Key: "extension-notice:late", Severity: notify.SeverityUrgent,
				Routes: routes(cfg.IGRoute, cfg.DPORoute, sa), DaysLeft: left})
		case left <= cfg.ExtensionNoticeWarnDays:
			out = append(out, Alert{Kind: "extension-notice-due", Key: "extension-notice:due", Severity: notify.SeverityWarning,
				Routes: routes(sa, cfg.IGRoute), DaysLeft: left})
		}
	}
	return out
}

func reminderSeverity(left int) string {
	switch {
	case left <= 2:
		return notify.SeverityUrgent
	case left <= 5:
		return notify.SeverityWarning
	}
	return notify.SeverityInfo
}

func (cfg ReminderConfig) serviceAreaRoute(area string) string {
	if cfg.ServiceAreaPrefix == "" {
		return ""
	}
	k := ServiceAreaKey(area)
	if k == "" {
		return ""
	}
	route := cfg.ServiceAreaPrefix + k
	if len(route) > 100 {
		route = strings.TrimRight(route[:100], "-")
	}
	return route
}

// Notifications turns r's alerts into notifications, one per route. IDs are
// "sar:<id>:<alert key>:<route>", so the outbox ledger sends each once. They
// carry the request id, type, service area, due date and days left, never
// personal details.
func Notifications(r Record, alerts []Alert, cfg ReminderConfig, now time.Time) []notify.Notification {
	var out []notify.Notification
	for _, a := range alerts {
		title, summary := alertText(r, a)
		facts := []notify.Fact{{Title: "Request", Value: r.RowKey}, {Title: "Type", Value: r.Type},
			{Title: "Service area", Value: r.ServiceArea}}
		if r.DueOn != "" {
			facts = append(facts, notify.Fact{Title: "Due", Value: r.DueOn})
		}
		facts = append(facts, notify.Fact{Title: "Days left", Value: strconv.Itoa(a.DaysLeft)})
		if strings.HasPrefix(a.Kind, "extension-notice") {
			facts = append(facts, notify.Fact{Title: "Extension notice by", Value: r.ExtensionNoticeBy})
		}
		var links []notify.Link
		if cfg.LinkBase != "" {
			links = []notify.Link{{Title: "Open request", URL: strings.TrimRight(cfg.LinkBase, "/") + "/" + r.RowKey}}
		}
		for _, route := range a.Routes {
			out = append(out, notify.Notification{
				ID: "sar:" + r.RowKey + ":" + a.Key + ":" + route, Source: NotificationSource, Route: route,
				Severity: a.Severity, Title: title, Summary: summary,
				Items: []notify.Item{{Title: r.RowKey, Severity: a.Severity, Facts: facts}}, Links: links, CreatedAt: now.UTC(),
			})
		}
	}
	return out
}

func alertText(r Record, a Alert) (title, summary string) {
	switch a.Kind {
	case "overdue":
		return fmt.Sprintf("Subject request %s is OVERDUE", r.RowKey),
			fmt.Sprintf("The %s request for %s was due on %s (%d day(s) ago). Escalated to the data protection officer.", r.Type, r.ServiceArea, r.DueOn, -a.DaysLeft)
	case "extension-notice-late":
		return fmt.Sprintf("Extension notice for %s was not recorded in time", r.RowKey),
			fmt.Sprintf("The %s request was extended but no notice to the requester was recorded by %s. Record it (extension-notified) or review the extension.", r.Type, r.ExtensionNoticeBy)
	case "extension-notice-due":
		return fmt.Sprintf("Extension notice for %s is due by %s", r.RowKey, r.ExtensionNoticeBy),
			fmt.Sprintf("The %s request was extended; the requester must be told, with reasons, by %s.", r.Type, r.ExtensionNoticeBy)
	}
	when := fmt.Sprintf("in %d day(s)", a.DaysLeft)
	if a.DaysLeft == 0 {
		when = "today"
	}
	return fmt.Sprintf("Subject request %s is due %s", r.RowKey, when),
		fmt.Sprintf("The %s request for %s is due by the end of %s.", r.Type, r.ServiceArea, r.DueOn)
}
