package localhost

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// route is a compiled HTTP trigger route template in the ASP.NET Core
// subset the Functions host accepts: literal segments (matched
// case-insensitively), {name}, {name?} and {name=default} (optional, trailing
// only), {*rest} (catch-all, last), and constraints {id:int}. The constraints
// int, long, bool, guid and alpha are checked; any other constraint is
// accepted and ignored.
type route struct {
	template string
	segs     []segment
}

type segment struct {
	literal     string // a literal segment, or "" for a parameter
	param       string
	constraints []string
	optional    bool
	def         *string // default value
	catchAll    bool
}

var paramNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

func parseRoute(tmpl string) (*route, error) {
	t := strings.Trim(tmpl, "/")
	r := &route{template: t}
	if t == "" {
		return r, nil
	}
	parts := strings.Split(t, "/")
	names := map[string]bool{}
	for i, p := range parts {
		if p == "" {
			return nil, errors.New("empty segment (\"//\")")
		}
		if !strings.ContainsAny(p, "{}") {
			r.segs = append(r.segs, segment{literal: p})
			continue
		}
		if p[0] != '{' || p[len(p)-1] != '}' || strings.Count(p, "{") != 1 || strings.Count(p, "}") != 1 {
			return nil, fmt.Errorf("segment %q: a parameter must fill its whole segment", p)
		}
		s, err := parseParam(p[1 : len(p)-1])
		if err != nil {
			return nil, fmt.Errorf("segment %q: %w", p, err)
		}
		if names[strings.ToLower(s.param)] {
			return nil, fmt.Errorf("parameter %q appears twice", s.param)
		}
		names[strings.ToLower(s.param)] = true
		if s.catchAll && i != len(parts)-1 {
			return nil, fmt.Errorf("catch-all %q must be the last segment", p)
		}
		r.segs = append(r.segs, s)
	}
	// Optional parameters may only be followed by other optional ones.
	for i := 0; i < len(r.segs)-1; i++ {
		if (r.segs[i].optional || r.segs[i].def != nil) && !(r.segs[i+1].optional || r.segs[i+1].def != nil || r.segs[i+1].catchAll) {
			return nil, fmt.Errorf("optional parameter %q must be at the end", r.segs[i].param)
		}
	}
	return r, nil
}

func parseParam(body string) (segment, error) {
	var s segment
	if strings.HasPrefix(body, "**") {
		s.catchAll, body = true, body[2:]
	} else if strings.HasPrefix(body, "*") {
		s.catchAll, body = true, body[1:]
	}
	if i := strings.Index(body, "="); i >= 0 {
		d := body[i+1:]
		s.def, body = &d, body[:i]
	}
	if strings.HasSuffix(body, "?") {
		s.optional, body = true, strings.TrimSuffix(body, "?")
	}
	parts := splitConstraints(body)
	s.param = parts[0]
	s.constraints = parts[1:]
	if !paramNameRE.MatchString(s.param) {
		return s, fmt.Errorf("%q is not a valid parameter name", s.param)
	}
	if s.catchAll {
		s.optional = true // a catch-all also matches nothing
	}
	return s, nil
}

// splitConstraints splits "id:int:range(1,5)" on colons outside parentheses.
func splitConstraints(s string) []string {
	var out []string
	depth, start := 0, 0
	for i, c := range s {
		switch c {
		case '(':
			depth++
		case ')':
			depth--
		case ':':
			if depth == 0 {
				out = append(out, s[start:i])
				start = i + 1
			}
		}
	}
	return append(out, s[start:])
}

// shape is the route with parameter names erased, for clash detection.
func (r *route) shape() string {
	var b strings.Builder
	for _, s := range r.segs {
		b.WriteByte('/')
		switch {
		case s.literal != "":
			b.WriteString(strings.ToLower(s.literal))
		case s.catchAll:
			b.WriteString("{*}")
		default:
			b.WriteString("{" + strings.Join(s.constraints, ":") + "}")
		}
	}
	return b.String()
}

// precedence orders routes the way ASP.NET Core does, most specific first:
// per segment, literal < constrained parameter < parameter < catch-all.
func (r *route) precedence() []int {
	out := make([]int, len(r.segs))
	for i, s := range r.segs {
		switch {
		case s.literal != "":
			out[i] = 1
		case s.catchAll:
			out[i] = 5
		case s.optional || s.def != nil:
			out[i] = 4
		case len(s.constraints) > 0:
			out[i] = 2
		default:
			out[i] = 3
		}
	}
	return out
}

// match matches a decoded path (without the route prefix) and returns the
// route parameters.
func (r *route) match(path string) (map[string]string, bool) {
	path = strings.Trim(path, "/")
	var parts []string
	if path != "" {
		parts = strings.Split(path, "/")
	}
	params := map[string]string{}
	for i, s := range r.segs {
		if s.catchAll {
			if i < len(parts) {
				params[s.param] = strings.Join(parts[i:], "/")
			}
			return params, true
		}
		if i >= len(parts) {
			if s.literal != "" || !(s.optional || s.def != nil) {
				return nil, false
			}
			if s.def != nil {
				params[s.param] = *s.def
			}
			continue
		}
		v := parts[i]
		if s.literal != "" {
			if !strings.EqualFold(s.literal, v) {
				return nil, false
			}
			continue
		}
		if !satisfies(v, s.constraints) {
			return nil, false
		}
		params[s.param] = v
	}
	if len(parts) > len(r.segs) {
		return nil, false
	}
	return params, true
}

var guidRE = regexp.MustCompile(`^[{(]?[0-9A-Fa-f]{8}-?[0-9A-Fa-f]{4}-?[0-9A-Fa-f]{4}-?[0-9A-Fa-f]{4}-?[0-9A-Fa-f]{12}[)}]?$`)

func satisfies(v string, constraints []string) bool {
	for _, c := range constraints {
		switch strings.ToLower(c) {
		case "int":
			if _, err := strconv.ParseInt(v, 10, 32); err != nil {
				return false
			}
		case "long":
			if _, err := strconv.ParseInt(v, 10, 64); err != nil {
				return false
			}
		case "bool":
			if !strings.EqualFold(v, "true") && !strings.EqualFold(v, "false") {
				return false
			}
		case "guid":
			if !guidRE.MatchString(v) {
				return false
			}
		case "alpha":
			if v == "" {
				return false
			}
			for _, ch := range v {
				if !(ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z') {
					return false
				}
			}
		}
	}
	return true
}
