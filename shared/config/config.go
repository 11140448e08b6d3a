// Package config reads settings from the environment, as Azure app settings
// arrive, and validates them at start-up.
//
// A Loader collects every problem instead of stopping at the first, so a
// process that refuses to start names every missing or malformed setting at
// once. Each setting a Loader reads is recorded with its default and
// description, so the full list can be printed (handler settings) and
// checked against the README and infra.
package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Secret holds a credential such as a webhook URL or connection string. It
// prints as <redacted> in logs, errors and JSON. The value sits behind a
// pointer so that even fmt's reflection over an unexported field shows only
// an address.
type Secret struct{ p *string }

// NewSecret wraps a value.
func NewSecret(v string) Secret {
	if v == "" {
		return Secret{}
	}
	return Secret{&v}
}

// Value returns the secret itself. Call it only where the value is used.
func (s Secret) Value() string {
	if s.p == nil {
		return ""
	}
	return *s.p
}

// IsZero reports whether the secret is empty.
func (s Secret) IsZero() bool { return s.p == nil }

// String redacts.
func (s Secret) String() string {
	if s.p == nil {
		return ""
	}
	return "<redacted>"
}

// GoString redacts in %#v.
func (s Secret) GoString() string { return s.String() }

// MarshalJSON redacts.
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(strconv.Quote(s.String())), nil }

// Setting describes one setting the app reads.
type Setting struct {
	Name        string
	Default     string
	Description string
	Secret      bool
	Required    bool
}

// LookupFunc finds a setting's value; os.LookupEnv is the usual one.
type LookupFunc func(name string) (string, bool)

// Loader reads and validates settings, collecting every error.
type Loader struct {
	lookup LookupFunc
	mu     sync.Mutex
	errs   []error
	seen   map[string]Setting
}

// New returns a loader over lookup (os.LookupEnv when nil).
func New(lookup LookupFunc) *Loader {
	if lookup == nil {
		lookup = os.LookupEnv
	}
	return &Loader{lookup: lookup, seen: map[string]Setting{}}
}

// FromMap returns a lookup over a map, for tests and the local host.
func FromMap(m map[string]string) LookupFunc {
	return func(name string) (string, bool) { v, ok := m[name]; return v, ok }
}

// Error is one bad setting.
type Error struct {
	Setting string
	Problem string
}

func (e *Error) Error() string { return e.Setting + ": " + e.Problem }

func (l *Loader) record(s Setting) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if old, ok := l.seen[s.Name]; ok && old.Description != "" && s.Description == "" {
		return
	}
	l.seen[s.Name] = s
}

// Fail records a problem with a setting.
func (l *Loader) Fail(name, format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.errs = append(l.errs, &Error{Setting: name, Problem: fmt.Sprintf(format, args...)})
}

func (l *Loader) raw(name string) (string, bool) {
	v, ok := l.lookup(name)
	v = strings.TrimSpace(v)
	return v, ok && v != ""
}

// String returns a setting, or def when unset.
func (l *Loader) String(name, def, desc string) string {
	l.record(Setting{Name: name, Default: def, Description: desc})
	if v, ok := l.raw(name); ok {
		return v
	}
	return def
}

// Required returns a setting that must be set.
func (l *Loader) Required(name, desc string) string {
	l.record(Setting{Name: name, Description: desc, Required: true})
	v, ok := l.raw(name)
	if !ok {
		l.Fail(name, "is required but not set")
	}
	return v
}

// Secret returns a secret setting ("" when unset).
func (l *Loader) Secret(name, desc string) Secret {
	l.record(Setting{Name: name, Description: desc, Secret: true})
	v, _ := l.raw(name)
	if strings.HasPrefix(v, "@Microsoft.KeyVault(") {
		l.Fail(name, "is an unresolved Key Vault reference; check the app's identity has Key Vault Secrets User and the secret exists")
		return Secret{}
	}
	return NewSecret(v)
}

// OneOf returns a setting that must be one of the allowed values (case-insensitive).
func (l *Loader) OneOf(name, def, desc string, allowed ...string) string {
	v := l.String(name, def, desc+" One of: "+strings.Join(allowed, ", ")+".")
	for _, a := range allowed {
		if strings.EqualFold(v, a) {
			return a
		}
	}
	l.Fail(name, "%q is not one of %s", v, strings.Join(allowed, ", "))
	return def
}

// Int returns an integer setting within [min, max].
func (l *Loader) Int(name string, def, min, max int, desc string) int {
	l.record(Setting{Name: name, Default: strconv.Itoa(def), Description: desc})
	v, ok := l.raw(name)
	if !ok {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		l.Fail(name, "%q is not a whole number", v)
		return def
	}
	if n < min || n > max {
		l.Fail(name, "%d is outside %d..%d", n, min, max)
		return def
	}
	return n
}

// Bool returns a boolean setting (true/false/1/0/yes/no).
func (l *Loader) Bool(name string, def bool, desc string) bool {
	l.record(Setting{Name: name, Default: strconv.FormatBool(def), Description: desc})
	v, ok := l.raw(name)
	if !ok {
		return def
	}
	switch strings.ToLower(v) {
	case "true", "1", "yes":
		return true
	case "false", "0", "no":
		return false
	}
	l.Fail(name, "%q is not true or false", v)
	return def
}

// Duration returns a duration setting, written as Go durations ("90s",
// "15m") or as Azure's TimeSpan "hh:mm:ss".
func (l *Loader) Duration(name string, def time.Duration, desc string) time.Duration {
	l.record(Setting{Name: name, Default: def.String(), Description: desc})
	v, ok := l.raw(name)
	if !ok {
		return def
	}
	d, err := ParseDuration(v)
	if err != nil || d < 0 {
		l.Fail(name, "%q is not a duration such as 90s, 15m or 00:15:00", v)
		return def
	}
	return d
}

// ParseDuration accepts Go durations and hh:mm:ss TimeSpans.
func ParseDuration(v string) (time.Duration, error) {
	if d, err := time.ParseDuration(v); err == nil {
		return d, nil
	}
	parts := strings.Split(v, ":")
	if len(parts) != 3 {
		return 0, fmt.Errorf("duration %q", v)
	}
	var total time.Duration
	for i, unit := range []time.Duration{time.Hour, time.Minute, time.Second} {
		f, err := strconv.ParseFloat(parts[i], 64)
		if err != nil || f < 0 {
			return 0, fmt.Errorf("duration %q", v)
		}
		total += time.Duration(f * float64(unit))
	}
	return total, nil
}

// URL returns an absolute http(s) URL setting. Plain http is accepted only
// for loopback hosts (tests and local runs).
func (l *Loader) URL(name, def, desc string) *url.URL {
	v := l.String(name, def, desc)
	if v == "" {
		return nil
	}
	u, err := ParseServiceURL(v)
	if err != nil {
		l.Fail(name, "%v", err)
		return nil
	}
	return u
}

// ParseServiceURL parses an endpoint: https, or http on a loopback host.
func ParseServiceURL(v string) (*url.URL, error) {
	u, err := url.Parse(v)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, errors.New("is not an absolute http(s) URL")
	}
	if u.Scheme == "http" && !IsLoopback(u.Hostname()) {
		return nil, errors.New("must use https (plain http is allowed only for 127.0.0.1 or localhost)")
	}
	return u, nil
}

// IsLoopback reports whether host is localhost or a loopback IP address
// (a name such as 127.example.org is not).
func IsLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Err returns every problem found, joined, or nil.
func (l *Loader) Err() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.errs) == 0 {
		return nil
	}
	errs := append([]error(nil), l.errs...)
	sort.SliceStable(errs, func(i, j int) bool {
		return errs[i].(*Error).Setting < errs[j].(*Error).Setting
	})
	return &Errors{List: errs}
}

// Errors is every bad setting found at start-up.
type Errors struct{ List []error }

func (e *Errors) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d setting(s) missing or invalid:", len(e.List))
	for _, err := range e.List {
		b.WriteString("\n  - ")
		b.WriteString(err.Error())
	}
	return b.String()
}

// Unwrap returns the individual errors.
func (e *Errors) Unwrap() []error { return e.List }

// Settings lists every setting read so far, sorted by name.
func (l *Loader) Settings() []Setting {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]Setting, 0, len(l.seen))
	for _, s := range l.seen {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}
