package teamsnotify

import (
	"fmt"
	"strings"

	"github.com/council-ict/govkit/shared/notify"
	"github.com/council-ict/govkit/shared/teams"
)

// Part is one card of a notification: a digest too large for one card is
// split, each part with its own delivery key.
type Part struct {
	// Key is the delivery ledger's row key: "part-1-of-2", or "card" for
	// a notification that fits one card.
	Key     string
	Message teams.Message
}

var look = map[string]struct {
	label string
	style teams.ContainerStyle
	color teams.Color
}{
	notify.SeverityInfo:    {"Information", teams.StyleEmphasis, teams.ColorAccent},
	notify.SeverityWarning: {"Warning", teams.StyleWarning, teams.ColorWarning},
	notify.SeverityUrgent:  {"Urgent", teams.StyleAttention, teams.ColorAttention},
	notify.SeverityOverdue: {"Overdue", teams.StyleAttention, teams.ColorAttention},
}

// Render turns a notification into one or more Teams messages, each at most
// maxBytes encoded. A notification without items is a single alert card
// (teams.BuildAlert). A digest lists its items; when they do not fit one
// card they are split into parts titled "(part 1 of 2)".
func Render(n notify.Notification, maxBytes int) ([]Part, error) {
	if maxBytes <= 0 {
		maxBytes = teams.DefaultMaxBytes
	}
	if len(n.Items) == 0 {
		a := teams.Alert{Title: n.Title, Severity: teams.Severity(n.Severity), Summary: n.Summary, Ref: n.ID}
		for _, l := range n.Links {
			a.Links = append(a.Links, teams.Link{Title: l.Title, URL: l.URL})
		}
		m, err := teams.BuildAlert(a, maxBytes)
		if err != nil {
			return nil, err
		}
		return []Part{{Key: "card", Message: m}}, nil
	}
	size := func(m teams.Message) int {
		b, err := teams.Encode(m)
		if err != nil {
			return maxBytes + 1
		}
		return len(b)
	}
	// Greedy split, sized with a worst-case part label.
	var groups [][]notify.Item
	var cur []notify.Item
	for _, it := range n.Items {
		try := append(cur[:len(cur):len(cur)], it)
		if size(digestCard(n, try, 99, 99)) <= maxBytes {
			cur = try
			continue
		}
		if len(cur) == 0 {
			return nil, fmt.Errorf("digest item %q alone exceeds the card limit: %w", truncate(it.Title, 60), teams.ErrTooLarge)
		}
		groups = append(groups, cur)
		cur = []notify.Item{it}
		if size(digestCard(n, cur, 99, 99)) > maxBytes {
			return nil, fmt.Errorf("digest item %q alone exceeds the card limit: %w", truncate(it.Title, 60), teams.ErrTooLarge)
		}
	}
	groups = append(groups, cur)
	parts := make([]Part, len(groups))
	for i, g := range groups {
		key := "card"
		if len(groups) > 1 {
			key = fmt.Sprintf("part-%d-of-%d", i+1, len(groups))
		}
		parts[i] = Part{Key: key, Message: digestCard(n, g, i+1, len(groups))}
		if err := parts[i].Message.Validate(); err != nil {
			return nil, err
		}
	}
	return parts, nil
}

func line(s string, n int) string {
	return teams.EscapeText(strings.Join(strings.Fields(truncate(s, n)), " "))
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return strings.TrimSpace(string(r[:n-1])) + "…"
}

// digestCard renders items as part i of n (n == 1: no part label).
func digestCard(n notify.Notification, items []notify.Item, i, of int) teams.Message {
	lk, ok := look[n.Severity]
	if !ok {
		lk = look[notify.SeverityInfo]
	}
	title := n.Title
	if of > 1 {
		title += fmt.Sprintf(" (part %d of %d)", i, of)
	}
	body := []teams.Element{teams.Container{Style: lk.style, Bleed: true, Items: []teams.Element{
		teams.TextBlock{Text: strings.ToUpper(lk.label), Size: teams.SizeSmall, Weight: teams.WeightBolder, Color: lk.color},
		teams.TextBlock{Text: line(title, 200), Size: teams.SizeLarge, Weight: teams.WeightBolder, Wrap: true, Spacing: teams.SpacingNone},
	}}}
	if s := strings.TrimSpace(n.Summary); s != "" {
		body = append(body, teams.TextBlock{Text: teams.EscapeText(truncate(s, 3000)), Wrap: true})
	}
	for _, it := range items {
		ilk, ok := look[it.Severity]
		if !ok {
			ilk = lk
		}
		elems := []teams.Element{
			teams.TextBlock{Text: strings.ToUpper(ilk.label), Size: teams.SizeSmall, Weight: teams.WeightBolder, Color: ilk.color},
			teams.TextBlock{Text: line(it.Title, 200), Weight: teams.WeightBolder, Wrap: true, Spacing: teams.SpacingNone},
		}
		if len(it.Facts) > 0 {
			fs := make([]teams.Fact, len(it.Facts))
			for j, f := range it.Facts {
				fs[j] = teams.Fact{Title: line(f.Title, 80), Value: line(f.Value, 500)}
			}
			elems = append(elems, teams.FactSet{Facts: fs})
		}
		if it.Link != nil && linkOK(it.Link.URL) {
			elems = append(elems, teams.TextBlock{Text: "[" + line(it.Link.Title, 60) + "](" + it.Link.URL + ")", Wrap: true})
		}
		body = append(body, teams.Container{Items: elems, Separator: true, Spacing: teams.SpacingMedium})
	}
	body = append(body, teams.TextBlock{Text: "Ref: " + line(n.ID, 200), IsSubtle: true, Size: teams.SizeSmall, Wrap: true, Separator: true})
	card := teams.NewCard(body...)
	for _, l := range n.Links {
		if linkOK(l.URL) {
			card.Actions = append(card.Actions, teams.OpenURL{Title: truncate(l.Title, 60), URL: l.URL})
		}
	}
	return teams.NewMessage(card)
}

// linkOK accepts https links (http for loopback, local runs) without
// characters that would break a Markdown link.
func linkOK(u string) bool {
	if strings.ContainsAny(u, " ()[]<>\"") {
		return false
	}
	return strings.HasPrefix(u, "https://") || strings.HasPrefix(u, "http://127.0.0.1") || strings.HasPrefix(u, "http://localhost")
}
