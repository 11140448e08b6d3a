package teams

import "testing"

func TestEscapeText(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"plain", "Example Systems Ltd", "Example Systems Ltd"},
		{"masked link", "[Pay here](https://evil.example/x)", `\[Pay here\](https://evil.example/x)`},
		{"bold", "**Act now**", `\*\*Act now\*\*`},
		{"italic underscore", "j_smith@example.gov.uk", `j\_smith@example.gov.uk`},
		{"strike and code", "~~old~~ `x`", "\\~\\~old\\~\\~ \\`x\\`"},
		{"angle autolink", "<https://evil.example>", `\<https://evil.example\>`},
		{"backslash", `a\b`, `a\\b`},
		{"bullet at line start", "- one\n  * two\n+ three", "\\- one\n  \\* two\n\\+ three"},
		{"hyphen mid line", "Smith-Jones", "Smith-Jones"},
		{"heading and quote", "# big\n> quoted", "\\# big\n\\> quoted"},
		{"ordered list", "1. first\n12) second", "1\\. first\n12\\) second"},
		{"number mid line", "version 2.5 ok", "version 2.5 ok"},
		{"CRLF", "a\r\nb\rc", "a\nb\nc"},
		{"control and bidi", "Sup\x00plier\u202Egnp.exe\u200B", "Suppliergnp.exe"},
		{"invalid utf8", "ok\xffok", "okok"},
		{"unicode kept", "Café £5 — ✓", "Café £5 — ✓"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := EscapeText(tt.in); got != tt.want {
				t.Errorf("EscapeText(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestEscapeLine(t *testing.T) {
	tests := []struct{ in, want string }{
		{"a\n\n- b\t c", "a - b c"},
		{"- lead", `\- lead`},
		{"  [x](y)  ", `\[x\](y)`},
	}
	for _, tt := range tests {
		if got := escapeLine(tt.in); got != tt.want {
			t.Errorf("escapeLine(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestTruncate(t *testing.T) {
	tests := []struct {
		in   string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"exactly", 7, "exactly"},
		{"a long sentence", 7, "a long…"},
		{"££££££", 3, "££…"},
		{"x", 0, ""},
	}
	for _, tt := range tests {
		if got := truncate(tt.in, tt.n); got != tt.want {
			t.Errorf("truncate(%q, %d) = %q, want %q", tt.in, tt.n, got, tt.want)
		}
	}
}
