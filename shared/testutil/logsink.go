package testutil

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/rs/zerolog"
)

// LogSink is a zerolog writer that fails its test when a log line contains
// any of a set of forbidden strings: personal data (names, e-mail
// addresses) and secrets (webhook URL paths and signatures, client state,
// keys). Matching ignores case. It keeps every line so a test can also
// assert that something was logged.
type LogSink struct {
	tb        testing.TB
	forbidden []string

	mu    sync.Mutex
	lines []string
}

// NewLogSink returns a sink that fails tb on any line containing one of
// forbidden (empty strings are ignored).
func NewLogSink(tb testing.TB, forbidden ...string) *LogSink {
	s := &LogSink{tb: tb}
	for _, f := range forbidden {
		if f = strings.TrimSpace(f); f != "" {
			s.forbidden = append(s.forbidden, strings.ToLower(f))
		}
	}
	return s
}

// Write checks one log line (zerolog writes each event in one call).
func (s *LogSink) Write(p []byte) (int, error) {
	line := string(bytes.TrimRight(p, "\n"))
	s.mu.Lock()
	s.lines = append(s.lines, line)
	s.mu.Unlock()
	if f, ok := s.find(line); ok {
		s.tb.Errorf("a log line contains forbidden text %q (personal data or a secret): %s", f, line)
	}
	return len(p), nil
}

// Logger returns a logger writing to s at debug level, so that every line
// any handler might write is checked.
func (s *LogSink) Logger() zerolog.Logger {
	return zerolog.New(s).Level(zerolog.DebugLevel).With().Timestamp().Logger()
}

// Context returns ctx with s's logger attached, where handlers find it
// (zerolog.Ctx).
func (s *LogSink) Context(ctx context.Context) context.Context {
	l := s.Logger()
	return l.WithContext(ctx)
}

// Lines returns the lines written so far.
func (s *LogSink) Lines() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.lines...)
}

// Check fails the test when text (an error message, a response body)
// contains a forbidden string; what names where it came from.
func (s *LogSink) Check(what, text string) {
	s.tb.Helper()
	if f, ok := s.find(text); ok {
		s.tb.Errorf("%s contains forbidden text %q (personal data or a secret): %s", what, f, text)
	}
}

// CheckErr is Check for an error; a nil error passes.
func (s *LogSink) CheckErr(what string, err error) {
	s.tb.Helper()
	if err != nil {
		s.Check(what, err.Error())
	}
}

func (s *LogSink) find(text string) (string, bool) {
	lower := strings.ToLower(text)
	for _, f := range s.forbidden {
		if strings.Contains(lower, f) {
			return f, true
		}
	}
	return "", false
}
