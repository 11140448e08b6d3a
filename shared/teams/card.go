package teams

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// Wire constants of the Workflows message envelope and the Adaptive Card.
const (
	// MessageType is the envelope's "type".
	MessageType = "message"
	// ContentTypeAdaptiveCard is the attachment's "contentType".
	ContentTypeAdaptiveCard = "application/vnd.microsoft.card.adaptive"
	// CardSchema is the card's "$schema".
	CardSchema = "http://adaptivecards.io/schemas/adaptive-card.json"
	// CardType is the card's "type".
	CardType = "AdaptiveCard"
	// CardVersion is the highest Adaptive Card version Teams renders.
	CardVersion = "1.5"
)

// Message is the body POSTed to a Workflows webhook.
type Message struct {
	Type        string       `json:"type"`
	Attachments []Attachment `json:"attachments"`
}

// Attachment carries one card. ContentURL is always encoded as null: the
// webhook trigger's schema requires the property to be present.
type Attachment struct {
	ContentType string  `json:"contentType"`
	ContentURL  *string `json:"contentUrl"`
	Content     Card    `json:"content"`
}

// Card is an Adaptive Card. Build one with [NewCard].
type Card struct {
	Schema  string    `json:"$schema"`
	Type    string    `json:"type"`
	Version string    `json:"version"`
	Body    []Element `json:"body"`
	Actions []Action  `json:"actions,omitempty"`
	MSTeams *MSTeams  `json:"msteams,omitempty"`
}

// MSTeams holds the Teams-specific card properties.
type MSTeams struct {
	// Width "Full" lets the card use the channel's full width.
	Width string `json:"width,omitempty"`
}

// NewCard returns a version 1.5 card, full width in Teams, with the given body.
func NewCard(body ...Element) Card {
	return Card{
		Schema:  CardSchema,
		Type:    CardType,
		Version: CardVersion,
		Body:    body,
		MSTeams: &MSTeams{Width: "Full"},
	}
}

// NewMessage wraps a card in the envelope a Workflows webhook expects.
func NewMessage(card Card) Message {
	return Message{
		Type:        MessageType,
		Attachments: []Attachment{{ContentType: ContentTypeAdaptiveCard, Content: card}},
	}
}

// ErrInvalidMessage is wrapped by [Message.Validate] errors.
var ErrInvalidMessage = errors.New("invalid Teams message")

// Validate checks what the webhook trigger and the flow's "post card" action
// require, so that a card is rejected here rather than failing silently in the
// flow's run history after a 202.
func (m Message) Validate() error {
	var errs []error
	if m.Type != MessageType {
		errs = append(errs, fmt.Errorf("type is %q, want %q", m.Type, MessageType))
	}
	if len(m.Attachments) == 0 {
		errs = append(errs, errors.New("no attachments"))
	}
	for i, a := range m.Attachments {
		if a.ContentType != ContentTypeAdaptiveCard {
			errs = append(errs, fmt.Errorf("attachments[%d].contentType is %q, want %q", i, a.ContentType, ContentTypeAdaptiveCard))
		}
		c := a.Content
		if c.Type != CardType {
			errs = append(errs, fmt.Errorf("attachments[%d].content.type is %q, want %q", i, c.Type, CardType))
		}
		switch c.Version {
		case "1.0", "1.1", "1.2", "1.3", "1.4", "1.5":
		default:
			errs = append(errs, fmt.Errorf("attachments[%d].content.version %q is not one Teams renders (1.0 to 1.5)", i, c.Version))
		}
		if len(c.Body) == 0 {
			errs = append(errs, fmt.Errorf("attachments[%d].content.body is empty", i))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w: %w", ErrInvalidMessage, errors.Join(errs...))
	}
	return nil
}

// Encode returns the JSON sent on the wire. HTML characters are not escaped
// (Teams does not need it and it inflates the size counted against the limit).
func Encode(m Message) ([]byte, error) {
	b, err := marshal(m)
	if err != nil {
		return nil, fmt.Errorf("encode Teams message: %w", err)
	}
	return b, nil
}

// marshal is json.Marshal without HTML escaping. The element types use it
// too: the outer encoder copies a Marshaler's output as it is.
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// Element is a card body element: [TextBlock], [FactSet] or [Container].
type Element interface {
	json.Marshaler
	element()
}

// Action is a card action: [OpenURL].
type Action interface {
	json.Marshaler
	action()
}

// TextSize is a TextBlock's "size".
type TextSize string

// Text sizes.
const (
	SizeSmall      TextSize = "small"
	SizeDefault    TextSize = "default"
	SizeMedium     TextSize = "medium"
	SizeLarge      TextSize = "large"
	SizeExtraLarge TextSize = "extraLarge"
)

// TextWeight is a TextBlock's "weight".
type TextWeight string

// Text weights.
const (
	WeightLighter TextWeight = "lighter"
	WeightDefault TextWeight = "default"
	WeightBolder  TextWeight = "bolder"
)

// Color is a TextBlock's "color".
type Color string

// Text colours.
const (
	ColorDefault   Color = "default"
	ColorAccent    Color = "accent"
	ColorGood      Color = "good"
	ColorWarning   Color = "warning"
	ColorAttention Color = "attention"
)

// ContainerStyle is a Container's "style".
type ContainerStyle string

// Container styles.
const (
	StyleDefault   ContainerStyle = "default"
	StyleEmphasis  ContainerStyle = "emphasis"
	StyleGood      ContainerStyle = "good"
	StyleWarning   ContainerStyle = "warning"
	StyleAttention ContainerStyle = "attention"
	StyleAccent    ContainerStyle = "accent"
)

// Spacing is an element's "spacing" before it.
type Spacing string

// Spacings.
const (
	SpacingNone   Spacing = "none"
	SpacingSmall  Spacing = "small"
	SpacingMedium Spacing = "medium"
	SpacingLarge  Spacing = "large"
)

// TextBlock shows text. Text is rendered with the Adaptive Card markdown
// subset: pass data through [EscapeText] first.
type TextBlock struct {
	Text      string     `json:"text"`
	Size      TextSize   `json:"size,omitempty"`
	Weight    TextWeight `json:"weight,omitempty"`
	Color     Color      `json:"color,omitempty"`
	Wrap      bool       `json:"wrap,omitempty"`
	IsSubtle  bool       `json:"isSubtle,omitempty"`
	Spacing   Spacing    `json:"spacing,omitempty"`
	Separator bool       `json:"separator,omitempty"`
}

// FactSet shows title/value pairs as a two-column list.
type FactSet struct {
	Facts     []Fact  `json:"facts"`
	Spacing   Spacing `json:"spacing,omitempty"`
	Separator bool    `json:"separator,omitempty"`
}

// Fact is one row of a FactSet. Both parts take markdown, as TextBlock does.
type Fact struct {
	Title string `json:"title"`
	Value string `json:"value"`
}

// Container groups elements; its Style colours the background.
type Container struct {
	Items     []Element      `json:"items"`
	Style     ContainerStyle `json:"style,omitempty"`
	Bleed     bool           `json:"bleed,omitempty"`
	Spacing   Spacing        `json:"spacing,omitempty"`
	Separator bool           `json:"separator,omitempty"`
}

// OpenURL is an Action.OpenUrl button. Title is plain text (no markdown).
type OpenURL struct {
	Title string `json:"title"`
	URL   string `json:"url"`
}

func (TextBlock) element() {}
func (FactSet) element()   {}
func (Container) element() {}
func (OpenURL) action()    {}

// MarshalJSON adds "type":"TextBlock".
func (t TextBlock) MarshalJSON() ([]byte, error) {
	type plain TextBlock
	return marshal(struct {
		Type string `json:"type"`
		plain
	}{"TextBlock", plain(t)})
}

// MarshalJSON adds "type":"FactSet".
func (f FactSet) MarshalJSON() ([]byte, error) {
	type plain FactSet
	return marshal(struct {
		Type string `json:"type"`
		plain
	}{"FactSet", plain(f)})
}

// MarshalJSON adds "type":"Container".
func (c Container) MarshalJSON() ([]byte, error) {
	type plain Container
	return marshal(struct {
		Type string `json:"type"`
		plain
	}{"Container", plain(c)})
}

// MarshalJSON adds "type":"Action.OpenUrl".
func (o OpenURL) MarshalJSON() ([]byte, error) {
	type plain OpenURL
	return marshal(struct {
		Type string `json:"type"`
		plain
	}{"Action.OpenUrl", plain(o)})
}
