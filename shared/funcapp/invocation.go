package funcapp

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Invocation is one call from the host: the trigger and input bindings in Data,
// the trigger metadata in Metadata, both keyed by binding or metadata name.
type Invocation struct {
	// ID is the host's invocation id (X-Azure-Functions-InvocationId).
	ID string
	// Function is the function name, as in the request path.
	Function string
	Data     map[string]json.RawMessage
	Metadata map[string]json.RawMessage
}

// invocationBody is the JSON document the host POSTs.
type invocationBody struct {
	Data     map[string]json.RawMessage `json:"Data"`
	Metadata map[string]json.RawMessage `json:"Metadata"`
}

// DecodeInvocation parses a host request body. It fails on anything that is not
// a JSON object with an object (or null) Data and Metadata.
func DecodeInvocation(function, id string, body []byte) (Invocation, error) {
	var b invocationBody
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&b); err != nil {
		return Invocation{}, fmt.Errorf("invocation body is not a {\"Data\",\"Metadata\"} JSON object: %w", err)
	}
	if dec.More() {
		return Invocation{}, errors.New("invocation body has trailing data after the JSON object")
	}
	if b.Data == nil {
		b.Data = map[string]json.RawMessage{}
	}
	if b.Metadata == nil {
		b.Metadata = map[string]json.RawMessage{}
	}
	return Invocation{ID: id, Function: function, Data: b.Data, Metadata: b.Metadata}, nil
}

// ErrNoBinding is returned when the named binding is absent from Data.
var ErrNoBinding = errors.New("binding not in invocation data")

func (inv Invocation) binding(name string) (json.RawMessage, error) {
	raw, ok := inv.Data[name]
	if !ok || len(raw) == 0 || string(raw) == "null" {
		return nil, fmt.Errorf("%w: %q", ErrNoBinding, name)
	}
	return raw, nil
}

// Sys is the host's "sys" metadata.
type Sys struct {
	MethodName string    `json:"MethodName"`
	UtcNow     time.Time `json:"-"`
	RandGuid   string    `json:"RandGuid"`
}

// Sys returns the "sys" metadata the host adds to every invocation, if present.
func (inv Invocation) Sys() Sys {
	var s struct {
		MethodName string `json:"MethodName"`
		UtcNow     string `json:"UtcNow"`
		RandGuid   string `json:"RandGuid"`
	}
	if raw, ok := inv.Metadata["sys"]; ok {
		_ = json.Unmarshal(raw, &s)
	}
	t, _ := parseTime(s.UtcNow)
	return Sys{MethodName: s.MethodName, UtcNow: t, RandGuid: s.RandGuid}
}

// MetaString returns a metadata value as a string. The host JSON-encodes
// scalar metadata and embeds the result as a string, so "\"abc\"" and "abc"
// both give abc, and 1 and "1" both give "1".
func (inv Invocation) MetaString(key string) string {
	return metaString(inv.Metadata[key])
}

// MetaInt returns a metadata value as an integer, accepting 3 and "3".
func (inv Invocation) MetaInt(key string) (int64, error) {
	s := inv.MetaString(key)
	if s == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("metadata %s: %q is not an integer", key, s)
	}
	return n, nil
}

// MetaTime returns a metadata value as a time, accepting the forms the host
// sends (RFC 3339 with or without zone, or fractional seconds). A missing
// value is the zero time.
func (inv Invocation) MetaTime(key string) (time.Time, error) {
	s := inv.MetaString(key)
	if s == "" {
		return time.Time{}, nil
	}
	t, err := parseTime(s)
	if err != nil {
		return time.Time{}, fmt.Errorf("metadata %s: %w", key, err)
	}
	return t, nil
}

func metaString(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	if raw[0] != '"' {
		return string(raw) // number, bool, object: its JSON text
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return ""
	}
	// One more level: the host's JSON-encoded string inside a string.
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		var inner string
		if json.Unmarshal([]byte(s), &inner) == nil {
			return inner
		}
		return strings.Trim(s, `"`)
	}
	return s
}

var timeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.9999999",
	"2006-01-02T15:04:05",
	"2006-01-02 15:04:05Z07:00",
}

// parseTime accepts the timestamp forms seen in host payloads. A time with
// no zone is taken as UTC.
func parseTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	for _, l := range timeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a timestamp", s)
}

// flexTime unmarshals any of the host's timestamp forms.
type flexTime struct{ time.Time }

func (f *flexTime) UnmarshalJSON(b []byte) error {
	s := metaString(b)
	t, err := parseTime(s)
	if err != nil {
		return err
	}
	f.Time = t
	return nil
}

// TimerInfo is a timer trigger's payload.
type TimerInfo struct {
	// AdjustForDST is the schedule's DST flag.
	AdjustForDST bool
	// Status is nil when the host keeps no schedule monitor.
	Status *ScheduleStatus
	// IsPastDue is true when this run is later than scheduled (a missed run).
	IsPastDue bool
}

// ScheduleStatus is the timer monitor's view of the schedule. Last is zero
// before the first run.
type ScheduleStatus struct {
	Last, Next, LastUpdated time.Time
}

// Timer decodes the timer binding called name.
func (inv Invocation) Timer(name string) (TimerInfo, error) {
	raw, err := inv.binding(name)
	if err != nil {
		return TimerInfo{}, err
	}
	var t struct {
		Schedule struct {
			AdjustForDST bool `json:"AdjustForDST"`
		} `json:"Schedule"`
		ScheduleStatus *struct {
			Last        flexTime `json:"Last"`
			Next        flexTime `json:"Next"`
			LastUpdated flexTime `json:"LastUpdated"`
		} `json:"ScheduleStatus"`
		IsPastDue bool `json:"IsPastDue"`
	}
	if err := json.Unmarshal(raw, &t); err != nil {
		return TimerInfo{}, fmt.Errorf("timer binding %q: %w", name, err)
	}
	info := TimerInfo{AdjustForDST: t.Schedule.AdjustForDST, IsPastDue: t.IsPastDue}
	if s := t.ScheduleStatus; s != nil {
		last := s.Last.Time
		if last.Year() <= 1 {
			last = time.Time{}
		}
		info.Status = &ScheduleStatus{Last: last, Next: s.Next.Time, LastUpdated: s.LastUpdated.Time}
	}
	return info, nil
}

// messageBody returns a queue or Service Bus message body. The host sends it
// as a JSON string holding the message text; a JSON object (a message the host
// parsed) is returned as its JSON text.
func (inv Invocation) messageBody(name string) ([]byte, error) {
	raw, err := inv.binding(name)
	if err != nil {
		return nil, err
	}
	raw = bytes.TrimSpace(raw)
	if raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, fmt.Errorf("message binding %q: %w", name, err)
		}
		return []byte(s), nil
	}
	return []byte(raw), nil
}

// QueueMessage is a Storage queue trigger's payload.
type QueueMessage struct {
	Body         []byte
	ID           string
	DequeueCount int64
	InsertionTime,
	ExpirationTime,
	NextVisibleTime time.Time
	PopReceipt string
}

// QueueMessage decodes the Storage queue trigger binding called name.
func (inv Invocation) QueueMessage(name string) (QueueMessage, error) {
	body, err := inv.messageBody(name)
	if err != nil {
		return QueueMessage{}, err
	}
	m := QueueMessage{Body: body, ID: inv.MetaString("Id"), PopReceipt: inv.MetaString("PopReceipt")}
	var errs []error
	m.DequeueCount, err = inv.MetaInt("DequeueCount")
	errs = append(errs, err)
	m.InsertionTime, err = inv.MetaTime("InsertionTime")
	errs = append(errs, err)
	m.ExpirationTime, err = inv.MetaTime("ExpirationTime")
	errs = append(errs, err)
	m.NextVisibleTime, err = inv.MetaTime("NextVisibleTime")
	errs = append(errs, err)
	return m, errors.Join(errs...)
}

// ServiceBusMessage is a Service Bus trigger's payload (extension 5.x names).
type ServiceBusMessage struct {
	Body            []byte
	MessageID       string
	DeliveryCount   int64
	EnqueuedTimeUtc time.Time
	ContentType     string
	CorrelationID   string
	Subject         string
	SequenceNumber  int64
	// ApplicationProperties holds the message's application properties as JSON values.
	ApplicationProperties map[string]json.RawMessage
}

// ServiceBusMessage decodes the Service Bus trigger binding called name.
func (inv Invocation) ServiceBusMessage(name string) (ServiceBusMessage, error) {
	body, err := inv.messageBody(name)
	if err != nil {
		return ServiceBusMessage{}, err
	}
	m := ServiceBusMessage{
		Body:          body,
		MessageID:     inv.MetaString("MessageId"),
		ContentType:   inv.MetaString("ContentType"),
		CorrelationID: inv.MetaString("CorrelationId"),
		Subject:       inv.MetaString("Subject"),
	}
	var errs []error
	m.DeliveryCount, err = inv.MetaInt("DeliveryCount")
	errs = append(errs, err)
	m.SequenceNumber, err = inv.MetaInt("SequenceNumber")
	errs = append(errs, err)
	m.EnqueuedTimeUtc, err = inv.MetaTime("EnqueuedTimeUtc")
	errs = append(errs, err)
	if raw, ok := inv.Metadata["ApplicationProperties"]; ok && len(raw) > 0 && raw[0] == '{' {
		if err := json.Unmarshal(raw, &m.ApplicationProperties); err != nil {
			errs = append(errs, fmt.Errorf("metadata ApplicationProperties: %w", err))
		}
	}
	return m, errors.Join(errs...)
}

// HTTPRequest is an HTTP trigger's payload.
type HTTPRequest struct {
	Method  string
	URL     string
	Query   map[string]string
	Headers http.Header
	Params  map[string]string
	Body    []byte
}

// Header returns the first value of the named request header.
func (r HTTPRequest) Header(name string) string { return r.Headers.Get(name) }

// HTTPRequest decodes the HTTP trigger binding called name.
func (inv Invocation) HTTPRequest(name string) (HTTPRequest, error) {
	raw, err := inv.binding(name)
	if err != nil {
		return HTTPRequest{}, err
	}
	var r struct {
		Method  string                     `json:"Method"`
		URL     string                     `json:"Url"`
		Query   json.RawMessage            `json:"Query"`
		Headers map[string]json.RawMessage `json:"Headers"`
		Params  json.RawMessage            `json:"Params"`
		Body    json.RawMessage            `json:"Body"`
	}
	if err := json.Unmarshal(raw, &r); err != nil {
		return HTTPRequest{}, fmt.Errorf("http binding %q: %w", name, err)
	}
	req := HTTPRequest{Method: strings.ToUpper(r.Method), URL: r.URL, Headers: http.Header{}}
	if req.Query, err = stringMap(r.Query); err != nil {
		return HTTPRequest{}, fmt.Errorf("http binding %q: Query: %w", name, err)
	}
	if req.Params, err = stringMap(r.Params); err != nil {
		return HTTPRequest{}, fmt.Errorf("http binding %q: Params: %w", name, err)
	}
	for k, v := range r.Headers {
		var many []string
		if json.Unmarshal(v, &many) == nil {
			for _, s := range many {
				req.Headers.Add(k, s)
			}
			continue
		}
		req.Headers.Set(k, metaString(v))
	}
	if len(r.Body) > 0 && string(r.Body) != "null" {
		if r.Body[0] != '"' {
			req.Body = []byte(r.Body) // an already-parsed JSON body
		} else {
			var s string
			if err := json.Unmarshal(r.Body, &s); err != nil {
				return HTTPRequest{}, fmt.Errorf("http binding %q: Body: %w", name, err)
			}
			req.Body = []byte(s)
			if isBinary(req.Headers.Get("Content-Type")) {
				if b, err := base64.StdEncoding.DecodeString(s); err == nil {
					req.Body = b
				}
			}
		}
	}
	return req, nil
}

func isBinary(contentType string) bool {
	ct := strings.ToLower(contentType)
	return strings.HasPrefix(ct, "application/octet-stream") || strings.HasPrefix(ct, "multipart/")
}

// stringMap decodes an object of string values, tolerating the host's habit
// of sending the object as a JSON string ("{}").
func stringMap(raw json.RawMessage) (map[string]string, error) {
	out := map[string]string{}
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return out, nil
	}
	if raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, err
		}
		raw = []byte(s)
		if strings.TrimSpace(s) == "" {
			return out, nil
		}
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, err
	}
	for k, v := range m {
		out[k] = metaString(v)
	}
	return out, nil
}
