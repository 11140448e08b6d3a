package teams

import (
	"fmt"
	"strings"
	"testing"
)

// TestBuildAlertKeepsAsManyFactsAsFit checks the search is tight: one more
// fact than BuildAlert kept would break the limit.
func TestBuildAlertKeepsAsManyFactsAsFit(t *testing.T) {
	for _, n := range []int{60, 150, 300, 1000} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			a := Alert{Title: "Digest", Severity: SeverityWarning, Summary: "Several contracts need attention."}
			for i := range n {
				a.Facts = append(a.Facts, Fact{Title: fmt.Sprintf("CT-%04d", i), Value: strings.Repeat("x", 120)})
			}
			msg, err := BuildAlert(a, 0)
			if err != nil {
				t.Fatal(err)
			}
			shown := 0
			for _, e := range msg.Attachments[0].Content.Body {
				if fs, ok := e.(FactSet); ok {
					shown = len(fs.Facts)
				}
			}
			if shown == n {
				t.Skip("all facts fit")
			}
			b, _ := Encode(a.render(a.Summary, shown+1))
			if len(b) <= DefaultMaxBytes {
				t.Errorf("kept %d facts, but %d would fit (%d bytes)", shown, shown+1, len(b))
			}
		})
	}
}
