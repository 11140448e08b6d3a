package teams

import (
	"errors"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strings"
)

// RouteSettingPrefix starts every route setting: TEAMS_ROUTE_<NAME> holds the
// webhook URL of route <name>, NAME being the route name in upper case with
// "_" for "-" (TEAMS_ROUTE_ICT_CHAMPIONS_ADULTS is route
// "ict-champions-adults").
//
// One setting per route, rather than one JSON setting for all, because an
// App Service Key Vault reference resolves one setting to one secret: each
// webhook is its own secret, rotated or revoked without touching the others,
// and one bad value cannot take every route down. Underscores, because
// Linux app setting names cannot carry "-".
const RouteSettingPrefix = "TEAMS_ROUTE_"

var (
	routeName   = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)
	settingName = regexp.MustCompile(`^[A-Z0-9]+(_[A-Z0-9]+)*$`)
)

// Routes maps notification route names to webhook URLs. The zero value has
// no routes. Its String redacts every URL.
type Routes struct {
	m map[string]WebhookURL
}

// LoadRoutes reads every TEAMS_ROUTE_<NAME> entry of environ (as returned by
// os.Environ). Every bad setting is reported at once; errors name the
// setting, never its value. No route settings at all is not an error: the
// caller decides what an empty Routes means (locally, cards go to the
// outbox).
func LoadRoutes(environ []string) (Routes, error) {
	r := Routes{m: map[string]WebhookURL{}}
	var errs []error
	environ = append([]string(nil), environ...)
	sort.Strings(environ) // errors in a stable order
	for _, kv := range environ {
		key, val, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(strings.ToUpper(key), RouteSettingPrefix) {
			continue
		}
		suffix := key[len(RouteSettingPrefix):]
		if !strings.HasPrefix(key, RouteSettingPrefix) || !settingName.MatchString(suffix) {
			errs = append(errs, fmt.Errorf("setting %s: name must be %s followed by upper-case letters, digits and single underscores", key, RouteSettingPrefix))
			continue
		}
		u, err := ParseWebhookURL(val)
		if err != nil {
			errs = append(errs, fmt.Errorf("setting %s: %w", key, err))
			continue
		}
		r.m[strings.ToLower(strings.ReplaceAll(suffix, "_", "-"))] = u
	}
	if len(errs) > 0 {
		return Routes{}, errors.Join(errs...)
	}
	return r, nil
}

// RoutesFromEnv is LoadRoutes(os.Environ()).
func RoutesFromEnv() (Routes, error) { return LoadRoutes(os.Environ()) }

// NewRoutes builds Routes from name → URL, checking both (for tests and
// wiring). Errors name the route, never the URL.
func NewRoutes(urls map[string]string) (Routes, error) {
	r := Routes{m: map[string]WebhookURL{}}
	var errs []error
	for _, name := range sortedKeys(urls) {
		if !routeName.MatchString(name) {
			errs = append(errs, fmt.Errorf("route %q: name must be lower-case kebab (a-z, 0-9, single hyphens)", name))
			continue
		}
		u, err := ParseWebhookURL(urls[name])
		if err != nil {
			errs = append(errs, fmt.Errorf("route %s: %w", name, err))
			continue
		}
		r.m[name] = u
	}
	if len(errs) > 0 {
		return Routes{}, errors.Join(errs...)
	}
	return r, nil
}

// Lookup returns the webhook of a route.
func (r Routes) Lookup(name string) (WebhookURL, bool) {
	u, ok := r.m[name]
	return u, ok
}

// Len returns the number of routes.
func (r Routes) Len() int { return len(r.m) }

// Names returns the route names, sorted.
func (r Routes) Names() []string { return sortedKeys(r.m) }

// SettingName returns the setting that configures route name.
func SettingName(route string) string {
	return RouteSettingPrefix + strings.ToUpper(strings.ReplaceAll(route, "-", "_"))
}

// String lists the routes with redacted URLs, for start-up logs.
func (r Routes) String() string {
	parts := make([]string, 0, len(r.m))
	for _, n := range r.Names() {
		parts = append(parts, n+"="+r.m[n].String())
	}
	return "teams routes {" + strings.Join(parts, ", ") + "}"
}

// GoString is String, so that %#v redacts too.
func (r Routes) GoString() string { return r.String() }

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
