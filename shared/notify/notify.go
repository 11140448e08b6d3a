// Package notify is the notification pipeline shared by every function.
//
// Functions describe what a person must be told as a Notification and hand
// it to an Outbox. The Outbox records it in a ledger table *before* handing
// it to the transport (Service Bus queue "notifications" in Azure; an Azurite
// storage queue of the same name locally), and marks it handed on after. A
// crash between the two leaves it pending, and the next run hands it on
// again; the TeamsNotify function delivers each notification ID at most once,
// so a re-run never double-alerts and a crash never loses an alert.
package notify

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Severities, in rising order of urgency.
const (
	SeverityInfo    = "info"
	SeverityWarning = "warning"
	SeverityUrgent  = "urgent"
	SeverityOverdue = "overdue"
)

// QueueName is the queue the TeamsNotify function reads.
const QueueName = "notifications"

// Notification is one message for one route (a Teams channel). A digest
// carries several Items.
type Notification struct {
	// ID is stable for the same alert across runs, e.g.
	// "contracts:C-104:notice:30". It is the idempotency key: the ledger
	// row key, the Service Bus MessageId and TeamsNotify's delivery key.
	// Letters, digits and - _ . : only.
	ID string `json:"id"`
	// Source is the producing function, e.g. "ContractExpiryAlerts".
	Source string `json:"source"`
	// Route names the destination channel, e.g. "ict-champions-housing".
	Route    string `json:"route"`
	Severity string `json:"severity"`
	Title    string `json:"title"`
	Summary  string `json:"summary,omitempty"`
	Items    []Item `json:"items,omitempty"`
	Links    []Link `json:"links,omitempty"`
	// CreatedAt is when the producer decided to send it.
	CreatedAt time.Time `json:"createdAt"`
}

// Item is one entry of a digest.
type Item struct {
	Title    string `json:"title"`
	Severity string `json:"severity,omitempty"`
	Facts    []Fact `json:"facts,omitempty"`
	Link     *Link  `json:"link,omitempty"`
}

// Fact is a label and value shown on a card.
type Fact struct {
	Title string `json:"title"`
	Value string `json:"value"`
}

// Link is an action link, e.g. to the register entry.
type Link struct {
	Title string `json:"title"`
	URL   string `json:"url"`
}

// Validate checks the fields the pipeline relies on.
func (n Notification) Validate() error {
	var errs []error
	if !validID(n.ID) {
		errs = append(errs, fmt.Errorf("notification id %q: use 1-200 letters, digits and - _ . : only", n.ID))
	}
	if !validID(n.Source) {
		errs = append(errs, fmt.Errorf("notification %s: source %q is not a plain name", n.ID, n.Source))
	}
	if !validRoute(n.Route) {
		errs = append(errs, fmt.Errorf("notification %s: route %q must be lower-case kebab case", n.ID, n.Route))
	}
	switch n.Severity {
	case SeverityInfo, SeverityWarning, SeverityUrgent, SeverityOverdue:
	default:
		errs = append(errs, fmt.Errorf("notification %s: unknown severity %q", n.ID, n.Severity))
	}
	if strings.TrimSpace(n.Title) == "" {
		errs = append(errs, fmt.Errorf("notification %s: title is empty", n.ID))
	}
	return errors.Join(errs...)
}

func validID(s string) bool {
	if s == "" || len(s) > 200 {
		return false
	}
	for _, r := range s {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_.:", r)
		if !ok {
			return false
		}
	}
	return true
}

func validRoute(s string) bool {
	if s == "" || len(s) > 100 || s[0] == '-' || s[len(s)-1] == '-' {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
			return false
		}
	}
	return true
}
