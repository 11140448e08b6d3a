package funcapp

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Principal is the authenticated caller of an HTTP function.
type Principal struct {
	// ObjectID is the caller's Entra object id (user or service principal).
	// Record it in audit trails; it identifies without being personal text.
	ObjectID string `json:"objectId"`
	// Name is the caller's display name or UPN. Personal data: never log it.
	Name string `json:"name,omitempty"`
	// Roles are the app roles granted to the caller.
	Roles []string `json:"roles,omitempty"`
	// Development is true for the local development identity.
	Development bool `json:"development,omitempty"`
}

// HasRole reports whether the caller holds role.
func (p Principal) HasRole(role string) bool { return slices.Contains(p.Roles, role) }

// HasAnyRole reports whether the caller holds at least one of roles.
func (p Principal) HasAnyRole(roles ...string) bool {
	for _, r := range roles {
		if p.HasRole(r) {
			return true
		}
	}
	return false
}

type principalKey struct{}

// WithPrincipal returns ctx carrying p.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFrom returns the caller put in ctx by Auth.Wrap.
func PrincipalFrom(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(Principal)
	return p, ok
}

// Claim types the platform uses in X-MS-CLIENT-PRINCIPAL.
const (
	claimObjectID     = "http://schemas.microsoft.com/identity/claims/objectidentifier"
	claimRoleDefault  = "http://schemas.microsoft.com/ws/2008/06/identity/claims/role"
	claimNameDefault  = "name"
	claimUPN          = "preferred_username"
	principalHeader   = "X-MS-CLIENT-PRINCIPAL"
	principalIDHeader = "X-MS-CLIENT-PRINCIPAL-ID"
)

// ParseClientPrincipal decodes the X-MS-CLIENT-PRINCIPAL header that App
// Service authentication adds: base64 JSON with the token's claims.
func ParseClientPrincipal(header string) (Principal, error) {
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(header))
	if err != nil {
		if raw, err = base64.RawURLEncoding.DecodeString(strings.TrimSpace(header)); err != nil {
			return Principal{}, errors.New("X-MS-CLIENT-PRINCIPAL is not base64")
		}
	}
	var cp struct {
		AuthType string `json:"auth_typ"`
		NameType string `json:"name_typ"`
		RoleType string `json:"role_typ"`
		Claims   []struct {
			Type  string `json:"typ"`
			Value string `json:"val"`
		} `json:"claims"`
	}
	if err := json.Unmarshal(raw, &cp); err != nil {
		return Principal{}, fmt.Errorf("X-MS-CLIENT-PRINCIPAL is not JSON: %w", err)
	}
	roleType := cp.RoleType
	if roleType == "" {
		roleType = claimRoleDefault
	}
	var p Principal
	var upn string
	for _, c := range cp.Claims {
		switch c.Type {
		case claimObjectID, "oid":
			p.ObjectID = c.Value
		case roleType, "roles":
			if !p.HasRole(c.Value) {
				p.Roles = append(p.Roles, c.Value)
			}
		case claimNameDefault, cp.NameType:
			if p.Name == "" {
				p.Name = c.Value
			}
		case claimUPN:
			upn = c.Value
		}
	}
	if p.Name == "" {
		p.Name = upn
	}
	if p.ObjectID == "" {
		return Principal{}, errors.New("X-MS-CLIENT-PRINCIPAL has no object id claim")
	}
	return p, nil
}

// EncodeClientPrincipal builds an X-MS-CLIENT-PRINCIPAL value (for tests
// and local tools).
func EncodeClientPrincipal(p Principal) string {
	type claim struct {
		Type  string `json:"typ"`
		Value string `json:"val"`
	}
	claims := []claim{{claimObjectID, p.ObjectID}, {claimNameDefault, p.Name}}
	for _, r := range p.Roles {
		claims = append(claims, claim{"roles", r})
	}
	b, _ := json.Marshal(map[string]any{"auth_typ": "aad", "name_typ": claimNameDefault, "role_typ": "roles", "claims": claims})
	return base64.StdEncoding.EncodeToString(b)
}

// Rule says which roles may call a function's route with a method. An
// empty Roles list means anonymous access (health probes, webhooks
// protected by their own secret).
type Rule struct {
	Function string
	Method   string
	// Path is a pattern over the path after /api/: literal segments, {name}
	// for one segment and {*rest} for the remainder.
	Path  string
	Roles []string
}

// Anonymous marks a rule that needs no sign-in.
func (r Rule) Anonymous() bool { return len(r.Roles) == 0 }

// Auth authorises HTTP function calls against a table of rules.
type Auth struct {
	// PlatformAuth says App Service authentication is on, so the
	// X-MS-CLIENT-PRINCIPAL header comes from the platform. When false the
	// header is ignored (anyone could forge it).
	PlatformAuth bool
	// Dev, when set, is the caller assumed for every request (local runs
	// only; refused when PlatformAuth is on).
	Dev   *Principal
	Rules []Rule
}

// ErrNoRule means a route has no declared role.
var ErrNoRule = errors.New("no access rule for this route")

// RuleFor finds the rule for a call.
func (a Auth) RuleFor(function, method, path string) (Rule, error) {
	for _, r := range a.Rules {
		if strings.EqualFold(r.Function, function) && strings.EqualFold(r.Method, method) && MatchPath(r.Path, path) {
			return r, nil
		}
	}
	return Rule{}, fmt.Errorf("%w: %s %s (%s)", ErrNoRule, method, path, function)
}

// MatchPath matches a rule pattern against a path (both without /api/).
func MatchPath(pattern, path string) bool {
	ps := strings.Split(strings.Trim(pattern, "/"), "/")
	xs := strings.Split(strings.Trim(path, "/"), "/")
	for i, p := range ps {
		if strings.HasPrefix(p, "{*") {
			return true
		}
		if i >= len(xs) {
			return false
		}
		if strings.HasPrefix(p, "{") && strings.HasSuffix(p, "}") {
			if xs[i] == "" {
				return false
			}
			continue
		}
		if !strings.EqualFold(p, xs[i]) {
			return false
		}
	}
	return len(xs) == len(ps)
}

// Caller works out who is calling: the platform's principal when platform
// authentication is on, else the development identity, else nobody.
func (a Auth) Caller(req HTTPRequest) (Principal, bool, error) {
	if a.PlatformAuth {
		h := req.Header(principalHeader)
		if h == "" {
			return Principal{}, false, nil
		}
		p, err := ParseClientPrincipal(h)
		if err != nil {
			return Principal{}, false, err
		}
		if id := req.Header(principalIDHeader); id != "" && id != p.ObjectID {
			return Principal{}, false, errors.New("X-MS-CLIENT-PRINCIPAL-ID does not match the principal's object id")
		}
		return p, true, nil
	}
	if a.Dev != nil {
		return *a.Dev, true, nil
	}
	return Principal{}, false, nil
}

// Wrap enforces the rules for function: 401 problem when a signed-in
// caller is needed and absent, 403 when the caller lacks every allowed
// role, 403 for a route with no rule (deny by default). The caller is put
// in the context for audit trails.
func (a Auth) Wrap(function string, h Handler) Handler {
	return HandlerFunc(func(ctx context.Context, inv Invocation) (Result, error) {
		req, err := inv.HTTPRequest(HTTPTriggerBinding)
		if err != nil {
			return Problem(400, "Malformed HTTP trigger payload", err.Error(), ""), nil
		}
		rule, err := a.RuleFor(function, req.Method, apiPath(req.URL))
		if err != nil {
			return Problem(403, "Forbidden", "This route has no access rule; it is closed until one is declared.", ""), nil
		}
		p, ok, err := a.Caller(req)
		if err != nil {
			return Problem(401, "Unauthorized", "The caller's identity could not be read: "+err.Error(), ""), nil
		}
		if ok {
			ctx = WithPrincipal(ctx, p)
		}
		if rule.Anonymous() {
			return h.Invoke(ctx, inv)
		}
		if !ok {
			return Problem(401, "Unauthorized", "Sign in with Entra ID to call this API.", ""), nil
		}
		if !p.HasAnyRole(rule.Roles...) {
			return Problem(403, "Forbidden", "This call needs one of the app roles: "+strings.Join(rule.Roles, ", ")+".", ""), nil
		}
		return h.Invoke(ctx, inv)
	})
}

// apiPath returns the path of a request URL after its /api/ prefix.
func apiPath(rawURL string) string {
	path := rawURL
	if i := strings.Index(path, "://"); i >= 0 {
		path = path[i+3:]
		if j := strings.IndexByte(path, '/'); j >= 0 {
			path = path[j:]
		} else {
			path = "/"
		}
	}
	if i := strings.IndexAny(path, "?#"); i >= 0 {
		path = path[:i]
	}
	path = strings.TrimPrefix(path, "/")
	if strings.HasPrefix(strings.ToLower(path), "api/") {
		path = path[4:]
	}
	return path
}
