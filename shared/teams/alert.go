package teams

import (
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strings"

	"github.com/council-ict/govkit/shared/config"
)

// Severity says how pressing an alert is.
type Severity string

// Severities, mildest first.
const (
	SeverityInfo    Severity = "info"
	SeverityWarning Severity = "warning"
	SeverityUrgent  Severity = "urgent"
	SeverityOverdue Severity = "overdue"
)

// severityLook is how a severity is shown. Colour is never the only signal:
// the label says it in words too.
var severityLook = map[Severity]struct {
	label string
	style ContainerStyle
	color Color
}{
	SeverityInfo:    {"Information", StyleEmphasis, ColorAccent},
	SeverityWarning: {"Warning", StyleWarning, ColorWarning},
	SeverityUrgent:  {"Urgent", StyleAttention, ColorAttention},
	SeverityOverdue: {"Overdue", StyleAttention, ColorAttention},
}

// Valid reports whether s is a known severity.
func (s Severity) Valid() bool {
	_, ok := severityLook[s]
	return ok
}

// Alert is a notification to render as a card. Title, Summary, Facts and Ref
// are data: [BuildAlert] escapes them.
type Alert struct {
	Title    string
	Severity Severity
	Summary  string
	Facts    []Fact
	Links    []Link
	// Ref identifies the alert for the people who read it (for example the
	// contract reference and milestone); shown small at the foot.
	Ref string
}

// Link becomes an Action.OpenUrl button. URL must be https (http only for
// localhost).
type Link struct {
	Title string
	URL   string
}

// Text limits, in runes, applied before escaping.
const (
	maxTitleRunes     = 200
	maxSummaryRunes   = 3000
	maxFactTitleRunes = 80
	maxFactValueRunes = 500
	maxLinkTitleRunes = 60
	maxLinks          = 6
)

// DefaultMaxBytes is the encoded message size [BuildAlert] and [Sender]
// keep to by default. Teams documents 28 KB per message for webhooks, and
// one client library found about 21 KB to be the practical ceiling once
// Teams adds its own envelope, so this leaves a margin under both.
const DefaultMaxBytes = 20 * 1024

// ErrTooLarge is wrapped when a message cannot be made to fit the size limit.
var ErrTooLarge = errors.New("teams message exceeds the size limit")

// BuildAlert renders a as a message no larger than maxBytes encoded
// (DefaultMaxBytes when maxBytes <= 0). When the facts do not fit, the last
// ones are dropped and a note says how many; if the card still does not fit,
// the summary is shortened. The error wraps ErrTooLarge only when even that
// is not enough.
func BuildAlert(a Alert, maxBytes int) (Message, error) {
	if maxBytes <= 0 {
		maxBytes = DefaultMaxBytes
	}
	if err := a.validate(); err != nil {
		return Message{}, err
	}
	size := func(m Message) int {
		b, err := Encode(m)
		if err != nil {
			return maxBytes + 1
		}
		return len(b)
	}

	summary := truncate(clean(a.Summary), maxSummaryRunes)
	msg := a.render(summary, len(a.Facts))
	if size(msg) <= maxBytes {
		return msg, nil
	}
	// Keep as many facts as fit: the size shrinks with each fact dropped.
	drop := sort.Search(len(a.Facts)+1, func(n int) bool {
		return size(a.render(summary, len(a.Facts)-n)) <= maxBytes
	})
	if drop <= len(a.Facts) {
		return a.render(summary, len(a.Facts)-drop), nil
	}
	// No facts fit: shorten the summary.
	for n := len([]rune(summary)) / 2; n >= 20; n /= 2 {
		msg = a.render(truncate(summary, n), 0)
		if size(msg) <= maxBytes {
			return msg, nil
		}
	}
	return Message{}, fmt.Errorf("build alert card: %w (limit %d bytes)", ErrTooLarge, maxBytes)
}

func (a Alert) validate() error {
	var errs []error
	if strings.TrimSpace(a.Title) == "" {
		errs = append(errs, errors.New("title is empty"))
	}
	if !a.Severity.Valid() {
		errs = append(errs, fmt.Errorf("severity %q is not info, warning, urgent or overdue", a.Severity))
	}
	if len(a.Links) > maxLinks {
		errs = append(errs, fmt.Errorf("%d links, at most %d", len(a.Links), maxLinks))
	}
	for i, l := range a.Links {
		if strings.TrimSpace(l.Title) == "" {
			errs = append(errs, fmt.Errorf("links[%d].title is empty", i))
		}
		if err := checkLinkURL(l.URL); err != nil {
			errs = append(errs, fmt.Errorf("links[%d].url: %w", i, err))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("invalid alert: %w", errors.Join(errs...))
	}
	return nil
}

// checkLinkURL accepts absolute https URLs, and http ones for loopback hosts.
func checkLinkURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return errors.New("not a URL")
	}
	if u.Host == "" || (u.Scheme != "https" && !(u.Scheme == "http" && config.IsLoopback(u.Hostname()))) {
		return errors.New("must be an absolute https URL")
	}
	return nil
}

// render builds the card with the first nFacts facts and, if some were left
// out, a note saying how many.
func (a Alert) render(summary string, nFacts int) Message {
	look := severityLook[a.Severity]
	body := []Element{
		Container{
			Style: look.style,
			Bleed: true,
			Items: []Element{
				TextBlock{Text: strings.ToUpper(look.label), Size: SizeSmall, Weight: WeightBolder, Color: look.color},
				TextBlock{Text: escapeLine(truncate(a.Title, maxTitleRunes)), Size: SizeLarge, Weight: WeightBolder, Wrap: true, Spacing: SpacingNone},
			},
		},
	}
	if strings.TrimSpace(summary) != "" {
		body = append(body, TextBlock{Text: EscapeText(summary), Wrap: true})
	}
	if nFacts > 0 {
		facts := make([]Fact, nFacts)
		for i, f := range a.Facts[:nFacts] {
			facts[i] = Fact{
				Title: escapeLine(truncate(f.Title, maxFactTitleRunes)),
				Value: escapeLine(truncate(f.Value, maxFactValueRunes)),
			}
		}
		body = append(body, FactSet{Facts: facts})
	}
	if left := len(a.Facts) - nFacts; left > 0 {
		s := "s"
		if left == 1 {
			s = ""
		}
		body = append(body, TextBlock{
			Text:     fmt.Sprintf("%d more item%s not shown: this card reached the Teams size limit.", left, s),
			Wrap:     true,
			IsSubtle: true,
			Size:     SizeSmall,
		})
	}
	if ref := strings.TrimSpace(a.Ref); ref != "" {
		body = append(body, TextBlock{Text: "Ref: " + escapeLine(truncate(ref, maxTitleRunes)), IsSubtle: true, Size: SizeSmall, Wrap: true, Separator: true})
	}
	card := NewCard(body...)
	for _, l := range a.Links {
		card.Actions = append(card.Actions, OpenURL{Title: strings.Join(strings.Fields(clean(truncate(l.Title, maxLinkTitleRunes))), " "), URL: l.URL})
	}
	return NewMessage(card)
}
