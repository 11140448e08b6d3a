package localhost

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/rs/zerolog"
)

// hostVersion is sent as X-Azure-Functions-HostVersion and in User-Agent.
const hostVersion = "4.0.0-govkit-local"

// maxResultBytes bounds a worker's answer.
const maxResultBytes = 128 << 20

// invoker POSTs invocations to the worker.
type invoker struct {
	base   *url.URL
	client *http.Client
	log    zerolog.Logger
	out    outputWriter // writes queue / serviceBus outputs; nil = drop
}

// outputWriter enqueues an output binding's messages.
type outputWriter interface {
	enqueue(ctx context.Context, queue string, texts []string) error
}

// invocation is one call of a function.
type invocation struct {
	fn       *Function
	id       string
	trigger  string // for the log line: "http", "timer", "queue", "serviceBus", "admin"
	data     map[string]any
	metadata map[string]any
}

// workerResult is the worker's {"Outputs","Logs","ReturnValue"} answer.
type workerResult struct {
	Outputs     map[string]json.RawMessage `json:"Outputs"`
	Logs        []string                   `json:"Logs"`
	ReturnValue json.RawMessage            `json:"ReturnValue"`
}

// outcome is what became of an invocation.
type outcome struct {
	status int // worker HTTP status; 0 on transport error
	result workerResult
	err    error // non-nil: the invocation failed (non-2xx, transport, bad body, output write)
}

func newInvocation(fn *Function, trigger string) *invocation {
	return &invocation{fn: fn, id: newUUID(), trigger: trigger, data: map[string]any{}, metadata: map[string]any{}}
}

// call runs the invocation and logs one line about it.
func (iv *invoker) call(ctx context.Context, inv *invocation) outcome {
	start := time.Now()
	inv.metadata["sys"] = map[string]any{
		"MethodName": inv.fn.Name,
		"UtcNow":     start.UTC().Format(time.RFC3339Nano),
		"RandGuid":   newUUID(),
	}
	o := iv.post(ctx, inv)
	if o.err == nil {
		if err := iv.writeOutputs(ctx, inv.fn, o.result); err != nil {
			o.err = err
		}
	}
	log := iv.log.With().Str("function", inv.fn.Name).Str("invocationId", inv.id).Logger()
	for _, l := range o.result.Logs {
		log.Info().Str("source", "worker").Msg(l)
	}
	ev := log.Info()
	result := "succeeded"
	if o.err != nil {
		ev = log.Warn().Err(o.err)
		result = "failed"
		if ctx.Err() != nil {
			result = "cancelled"
		}
	}
	ev.Str("trigger", inv.trigger).Int("status", o.status).Str("result", result).
		Dur("duration", time.Since(start)).Msg("invocation")
	return o
}

func (iv *invoker) post(ctx context.Context, inv *invocation) outcome {
	body, err := json.Marshal(map[string]any{"Data": inv.data, "Metadata": inv.metadata})
	if err != nil {
		return outcome{err: fmt.Errorf("encoding invocation: %w", err)}
	}
	u := iv.base.JoinPath(inv.fn.Name)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(body))
	if err != nil {
		return outcome{err: fmt.Errorf("building invocation request: %w", err)}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Azure-Functions-InvocationId", inv.id)
	req.Header.Set("X-Azure-Functions-HostVersion", hostVersion)
	req.Header.Set("User-Agent", "Azure-Functions-Host/"+hostVersion)
	resp, err := iv.client.Do(req)
	if err != nil {
		return outcome{err: fmt.Errorf("calling worker: %w", err)}
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResultBytes+1))
	o := outcome{status: resp.StatusCode}
	if err != nil {
		o.err = fmt.Errorf("reading worker answer: %w", err)
		return o
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		// The host fails the invocation and processes no outputs, but it
		// still logs what the worker said.
		var r workerResult
		if json.Unmarshal(raw, &r) == nil {
			o.result.Logs = r.Logs
		}
		o.err = fmt.Errorf("worker answered %d", resp.StatusCode)
		return o
	}
	if len(raw) > maxResultBytes {
		o.err = errors.New("worker answer too large")
		return o
	}
	if len(bytes.TrimSpace(raw)) > 0 {
		if err := json.Unmarshal(raw, &o.result); err != nil {
			o.err = fmt.Errorf("worker answer is not an {\"Outputs\",\"Logs\",\"ReturnValue\"} object: %w", err)
		}
	}
	return o
}

// outputValue returns the value of the named output binding.
func (r workerResult) outputValue(name string) (json.RawMessage, bool) {
	if name == "$return" {
		v := bytes.TrimSpace(r.ReturnValue)
		return v, len(v) > 0 && string(v) != "null"
	}
	for k, v := range r.Outputs { // the host matches binding names case-insensitively
		if strings.EqualFold(k, name) {
			v = bytes.TrimSpace(v)
			return v, len(v) > 0 && string(v) != "null"
		}
	}
	return nil, false
}

// writeOutputs performs the queue and serviceBus output bindings.
func (iv *invoker) writeOutputs(ctx context.Context, fn *Function, r workerResult) error {
	var errs []error
	for _, ob := range fn.outputs {
		v, ok := r.outputValue(ob.binding)
		if !ok {
			continue
		}
		texts, err := outputMessages(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("output %q: %w", ob.binding, err))
			continue
		}
		if ob.base64 {
			for i, t := range texts {
				texts[i] = base64.StdEncoding.EncodeToString([]byte(t))
			}
		}
		if iv.out == nil {
			continue
		}
		if err := iv.out.enqueue(ctx, ob.queue, texts); err != nil {
			errs = append(errs, fmt.Errorf("output %q to queue %s: %w", ob.binding, ob.queue, err))
		}
	}
	return errors.Join(errs...)
}

// outputMessages turns a queue output value into message texts: an array is
// several messages; a string is the message text (after the host's attempt to
// read it as base64, which it makes for every non-binary output); anything
// else is sent as its JSON text.
func outputMessages(v json.RawMessage) ([]string, error) {
	if v[0] == '[' {
		var items []json.RawMessage
		if err := json.Unmarshal(v, &items); err != nil {
			return nil, err
		}
		var out []string
		for _, it := range items {
			t, err := outputMessages(it)
			if err != nil {
				return nil, err
			}
			out = append(out, t...)
		}
		return out, nil
	}
	if v[0] == '"' {
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			return nil, err
		}
		if b, err := base64.StdEncoding.DecodeString(s); err == nil && s != "" {
			return []string{string(b)}, nil
		}
		return []string{s}, nil
	}
	return []string{string(v)}, nil
}

// metaString JSON-encodes a scalar the way the host embeds binding data in
// Metadata: 1 becomes "1" and "abc" becomes "\"abc\"".
func metaString(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// hostTime formats a timestamp as the host does in payloads.
func hostTime(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.9999999-07:00")
}

func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	const hex = "0123456789abcdef"
	var s strings.Builder
	for i, c := range b {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			s.WriteByte('-')
		}
		s.WriteByte(hex[c>>4])
		s.WriteByte(hex[c&0xf])
	}
	return s.String()
}
