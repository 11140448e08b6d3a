package testutil

import (
	"context"
	"errors"
	"testing"

	"github.com/rs/zerolog"
)

// fakeTB records failures instead of failing.
type fakeTB struct {
	testing.TB
	failed []string
}

func (f *fakeTB) Errorf(format string, args ...any) { f.failed = append(f.failed, format) }
func (f *fakeTB) Helper()                           {}

func TestLogSinkFailsOnForbiddenText(t *testing.T) {
	tb := &fakeTB{}
	s := NewLogSink(tb, "Ann Example", "ann@example.org", "")
	ctx := s.Context(context.Background())
	zerolog.Ctx(ctx).Info().Str("requestId", "SAR-2026-0001").Msg("created")
	if len(tb.failed) != 0 || len(s.Lines()) != 1 {
		t.Fatalf("clean line: failed %v, lines %v", tb.failed, s.Lines())
	}
	zerolog.Ctx(ctx).Error().Err(errors.New("bad ANN@example.org")).Msg("oops")
	s.CheckErr("error", errors.New("person ann example not found"))
	s.CheckErr("nil error", nil)
	if len(tb.failed) != 2 {
		t.Fatalf("want 2 failures, got %v", tb.failed)
	}
}
