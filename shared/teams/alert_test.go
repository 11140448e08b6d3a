package teams_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/council-ict/govkit/shared/teams"
)

func TestBuildAlertNeutralisesInjectedMarkdown(t *testing.T) {
	a := sampleAlert(teams.SeverityWarning)
	a.Title = "Renewal for **[Click me](https://evil.example)**"
	a.Facts = append(a.Facts, teams.Fact{Title: "Supplier", Value: "[Pay invoice](https://evil.example/pay)\n- injected bullet"})
	msg, err := teams.BuildAlert(a, 0)
	if err != nil {
		t.Fatal(err)
	}
	wire, err := teams.Encode(msg)
	if err != nil {
		t.Fatal(err)
	}
	s := string(wire)
	for _, bad := range []string{"[Click me]", "**[", "[Pay invoice](", "\\n- injected"} {
		if strings.Contains(s, bad) {
			t.Errorf("card contains unescaped %q:\n%s", bad, s)
		}
	}
	if !strings.Contains(s, `\\[Pay invoice\\](https://evil.example/pay) - injected bullet`) {
		t.Errorf("escaped supplier fact not found in:\n%s", s)
	}
	// Action titles are plain text: they must not gain backslashes.
	if !strings.Contains(s, `"title":"Open in the contract register"`) {
		t.Errorf("action title altered:\n%s", s)
	}
}

func TestBuildAlertSizeCap(t *testing.T) {
	many := func(n, valueLen int) []teams.Fact {
		fs := make([]teams.Fact, n)
		for i := range fs {
			fs[i] = teams.Fact{Title: fmt.Sprintf("Contract %d", i), Value: strings.Repeat("v", valueLen)}
		}
		return fs
	}
	tests := []struct {
		name        string
		facts       []teams.Fact
		summary     string
		max         int
		wantFacts   int // -1: any number > 0 below len(facts)
		wantNote    bool
		wantTooBig  bool
		wantSummary bool // summary kept whole
	}{
		{"fits", many(5, 20), "short", 0, 5, false, false, true},
		{"digest too long", many(400, 200), "short", 0, -1, true, false, true},
		{"tight limit drops all facts", many(3, 400), "short", 1200, 0, true, false, true},
		{"huge summary shortened", nil, strings.Repeat("word ", 5000), 4000, 0, false, false, false},
		{"impossible limit", many(1, 10), "short", 200, 0, false, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := sampleAlert(teams.SeverityUrgent)
			a.Facts, a.Summary = tt.facts, tt.summary
			msg, err := teams.BuildAlert(a, tt.max)
			if tt.wantTooBig {
				if !errors.Is(err, teams.ErrTooLarge) {
					t.Fatalf("err = %v, want ErrTooLarge", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			limit := tt.max
			if limit == 0 {
				limit = teams.DefaultMaxBytes
			}
			wire, _ := teams.Encode(msg)
			if len(wire) > limit {
				t.Fatalf("encoded size %d > limit %d", len(wire), limit)
			}
			var facts int
			var note, summaryWhole bool
			for _, e := range msg.Attachments[0].Content.Body {
				switch e := e.(type) {
				case teams.FactSet:
					facts = len(e.Facts)
				case teams.TextBlock:
					if strings.Contains(e.Text, "not shown") {
						note = true
						want := fmt.Sprintf("%d more item", len(tt.facts)-facts)
						if !strings.HasPrefix(e.Text, want) {
							t.Errorf("note %q, want it to start %q", e.Text, want)
						}
					}
					if e.Text == teams.EscapeText(tt.summary) {
						summaryWhole = true
					}
				}
			}
			if tt.wantFacts >= 0 && facts != tt.wantFacts {
				t.Errorf("facts shown = %d, want %d", facts, tt.wantFacts)
			}
			if tt.wantFacts < 0 && (facts == 0 || facts >= len(tt.facts)) {
				t.Errorf("facts shown = %d, want some but not all of %d", facts, len(tt.facts))
			}
			if note != tt.wantNote {
				t.Errorf("truncation note present = %v, want %v", note, tt.wantNote)
			}
			if summaryWhole != tt.wantSummary {
				t.Errorf("summary kept whole = %v, want %v", summaryWhole, tt.wantSummary)
			}
		})
	}
}

func TestBuildAlertValidation(t *testing.T) {
	tests := []struct {
		name    string
		mutate  func(a *teams.Alert)
		wantErr string
	}{
		{"no title", func(a *teams.Alert) { a.Title = " " }, "title is empty"},
		{"bad severity", func(a *teams.Alert) { a.Severity = "critical" }, `severity "critical"`},
		{"javascript link", func(a *teams.Alert) { a.Links[0].URL = "javascript:alert(1)" }, "links[0].url"},
		{"http link", func(a *teams.Alert) { a.Links[0].URL = "http://govkit.example.gov.uk/x" }, "links[0].url"},
		{"link without title", func(a *teams.Alert) { a.Links[0].Title = "" }, "links[0].title"},
		{"localhost http link ok", func(a *teams.Alert) { a.Links[0].URL = "http://127.0.0.1:7071/api/contracts/x" }, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := sampleAlert(teams.SeverityWarning)
			a.Links = append([]teams.Link(nil), a.Links...)
			tt.mutate(&a)
			_, err := teams.BuildAlert(a, 0)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
		})
	}
}
