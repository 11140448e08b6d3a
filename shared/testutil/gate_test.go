package testutil

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestGateHoldsFromTheChosenPassUntilReleased, locally and over HTTP.
func TestGateHoldsFromTheChosenPassUntilReleased(t *testing.T) {
	for _, remote := range []bool{false, true} {
		g := NewGate("page", 2)
		var p Passer = g
		if remote {
			p = RemoteGate{URL: g.Serve(t)}
		}
		ctx := context.Background()
		for _, point := range []string{"page", "batch", "batch"} {
			if err := p.Pass(ctx, point); err != nil {
				t.Fatalf("remote %v: %s before the hold: %v", remote, point, err)
			}
		}
		held := make(chan error, 2)
		go func() { held <- p.Pass(ctx, "page") }()
		g.WaitReached(t, 10*time.Second, nil)
		go func() { held <- p.Pass(ctx, "batch") }() // once closed, the gate holds every point
		short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
		if err := p.Pass(short, "other"); err == nil {
			t.Errorf("remote %v: a pass got through the closed gate", remote)
		} else if !remote && !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("held pass ended with %v", err)
		}
		cancel()
		select {
		case err := <-held:
			t.Fatalf("remote %v: a held pass returned (%v) before Release", remote, err)
		case <-time.After(20 * time.Millisecond):
		}
		g.Release()
		for range 2 {
			if err := <-held; err != nil {
				t.Errorf("remote %v: released pass: %v", remote, err)
			}
		}
		if err := p.Pass(ctx, "page"); err != nil {
			t.Errorf("remote %v: pass after Release: %v", remote, err)
		}
		// The remote "other" pass may or may not have been counted before
		// its client gave up.
		if c := g.Count("page"); c != 3 {
			t.Errorf("remote %v: counted %d page passes, want 3", remote, c)
		}
	}
}
