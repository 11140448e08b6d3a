package teams

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// EscapeText makes data safe to put in a TextBlock or Fact, which Teams renders
// with the Adaptive Card markdown subset (emphasis, lists, [text](url) links).
// It backslash-escapes the characters that start emphasis, links, code and
// autolinks anywhere, and the list and heading markers at the start of a line,
// so a supplier called "[Pay here](https://evil.example)" shows literally
// instead of becoming a masked link. It also removes control and
// bidirectional-override characters and normalises line endings to "\n".
//
// A bare URL in data is left as text; some Teams clients link it, showing its
// real target.
func EscapeText(s string) string {
	s = clean(s)
	var b strings.Builder
	b.Grow(len(s) + len(s)/8)
	lineStart := true
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == '\n':
			lineStart = true
			b.WriteRune(r)
			i += size
			continue
		case lineStart && (r == ' ' || r == '\t'):
			b.WriteRune(r)
			i += size
			continue
		case lineStart:
			lineStart = false
			if r == '-' || r == '+' || r == '#' || r == '>' || r == '=' {
				b.WriteByte('\\')
				b.WriteRune(r)
				i += size
				continue
			}
			if n := orderedMarker(s[i:]); n > 0 {
				b.WriteString(s[i : i+n-1])
				b.WriteByte('\\')
				b.WriteByte(s[i+n-1])
				i += n
				continue
			}
		}
		if strings.ContainsRune("\\`*_[]<>~|", r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
		i += size
	}
	return b.String()
}

// escapeLine is EscapeText for single-line places (titles, facts): line
// breaks become spaces.
func escapeLine(s string) string {
	s = strings.Join(strings.Fields(clean(s)), " ")
	return EscapeText(s)
}

// orderedMarker reports the length of an ordered-list marker ("12." or "3)")
// at the start of s, or 0.
func orderedMarker(s string) int {
	n := 0
	for n < len(s) && n < 9 && s[n] >= '0' && s[n] <= '9' {
		n++
	}
	if n == 0 || n >= len(s) || (s[n] != '.' && s[n] != ')') {
		return 0
	}
	return n + 1
}

// clean drops invalid UTF-8, control characters other than newline and tab,
// and bidi/zero-width format characters; it turns CRLF and CR into LF.
func clean(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	return strings.Map(func(r rune) rune {
		switch {
		case r == utf8.RuneError:
			return -1
		case r == '\n' || r == '\t':
			return r
		case unicode.IsControl(r), unicode.Is(unicode.Cf, r):
			return -1
		}
		return r
	}, s)
}

// truncate shortens s to at most n runes, ending with "…" when cut.
func truncate(s string, n int) string {
	if n <= 0 {
		return ""
	}
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return strings.TrimRightFunc(string(r[:n-1]), unicode.IsSpace) + "…"
}
