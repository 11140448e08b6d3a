package localhost

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Trigger types the local host runs.
const (
	TriggerHTTP       = "httpTrigger"
	TriggerTimer      = "timerTrigger"
	TriggerQueue      = "queueTrigger"
	TriggerServiceBus = "serviceBusTrigger"
)

// App is a staged function app as the host sees it: host.json plus one
// function.json per function folder.
type App struct {
	// Dir is the absolute app root.
	Dir string
	// Host is the parsed host.json.
	Host HostConfig
	// Functions are sorted by name. Disabled functions are not listed.
	Functions []*Function
	// Warnings are non-fatal findings (bindings the local host does not perform).
	Warnings []string
}

// HostConfig is the part of host.json the local host reads.
type HostConfig struct {
	ExecutablePath   string
	Arguments        []string
	WorkingDirectory string
	// RoutePrefix is extensions.http.routePrefix without slashes ("api" by default).
	RoutePrefix string
	// MaxDequeueCount is extensions.queues.maxDequeueCount (default 5).
	MaxDequeueCount int
	// QueueVisibilityTimeout is extensions.queues.visibilityTimeout: how long
	// a failed message stays invisible before its retry (0 when unset).
	QueueVisibilityTimeout time.Duration
	// QueueBatchSize is extensions.queues.batchSize (default 16): messages
	// processed concurrently per queue.
	QueueBatchSize int
	// Base64Messages is false when extensions.queues.messageEncoding is "none".
	Base64Messages bool
	// ServiceBusMaxConcurrentCalls is extensions.serviceBus.maxConcurrentCalls (default 16).
	ServiceBusMaxConcurrentCalls int
}

// Function is one function.json.
type Function struct {
	Name     string
	Bindings []Binding
	// Trigger is the one trigger binding.
	Trigger Binding

	route    *route     // HTTP triggers
	schedule Schedule   // timers
	monitor  bool       // timers: ScheduleStatus is sent
	queue    string     // queue and Service Bus triggers: the Azurite queue name
	outputs  []outQueue // queue / serviceBus outputs the local host writes
}

type outQueue struct {
	binding string // binding name ("$return" for ReturnValue)
	queue   string
	base64  bool // encode the message text as base64 (storage queues, and the SB stand-in)
}

// Binding is one entry of function.json "bindings".
type Binding struct {
	Type              string   `json:"type"`
	Direction         string   `json:"direction"`
	Name              string   `json:"name"`
	Route             string   `json:"route"`
	Methods           []string `json:"methods"`
	AuthLevel         string   `json:"authLevel"`
	Schedule          string   `json:"schedule"`
	RunOnStartup      bool     `json:"runOnStartup"`
	UseMonitor        *bool    `json:"useMonitor"`
	QueueName         string   `json:"queueName"`
	TopicName         string   `json:"topicName"`
	SubscriptionName  string   `json:"subscriptionName"`
	Connection        string   `json:"connection"`
	DataType          string   `json:"dataType"`
	Cardinality       string   `json:"cardinality"`
	IsSessionsEnabled bool     `json:"isSessionsEnabled"`
}

// IsTrigger reports whether the binding is a trigger.
func (b Binding) IsTrigger() bool { return strings.HasSuffix(strings.ToLower(b.Type), "trigger") }

type hostJSON struct {
	Version       string `json:"version"`
	CustomHandler *struct {
		Description *struct {
			DefaultExecutablePath string   `json:"defaultExecutablePath"`
			Arguments             []string `json:"arguments"`
			WorkingDirectory      string   `json:"workingDirectory"`
		} `json:"description"`
		EnableForwardingHttpRequest bool `json:"enableForwardingHttpRequest"`
		EnableProxyingHttpRequest   bool `json:"enableProxyingHttpRequest"`
	} `json:"customHandler"`
	Extensions struct {
		HTTP struct {
			RoutePrefix *string `json:"routePrefix"`
		} `json:"http"`
		Queues struct {
			MaxDequeueCount   *int   `json:"maxDequeueCount"`
			VisibilityTimeout string `json:"visibilityTimeout"`
			BatchSize         *int   `json:"batchSize"`
			MessageEncoding   string `json:"messageEncoding"`
		} `json:"queues"`
		ServiceBus struct {
			MaxConcurrentCalls *int `json:"maxConcurrentCalls"`
		} `json:"serviceBus"`
	} `json:"extensions"`
}

type functionJSON struct {
	Bindings []Binding      `json:"bindings"`
	Disabled flexBool       `json:"disabled"`
	Retry    map[string]any `json:"retry"`
}

// flexBool accepts true/false as JSON booleans or strings. (The host also
// accepts a setting name there; the local host takes literals only.)
type flexBool bool

func (f *flexBool) UnmarshalJSON(b []byte) error {
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	switch x := v.(type) {
	case bool:
		*f = flexBool(x)
	case string:
		p, err := strconv.ParseBool(x)
		if err != nil {
			return fmt.Errorf("\"disabled\" must be true or false, not %q", x)
		}
		*f = flexBool(p)
	case nil:
	default:
		return fmt.Errorf("\"disabled\" must be true or false")
	}
	return nil
}

var functionNameRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_-]{0,127}$`)

// LoadApp reads host.json and every <Name>/function.json one level below dir,
// resolving %Setting% references from settings. It reports every problem at
// once, each naming its file.
func LoadApp(dir string, settings map[string]string) (*App, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("app dir %q: %w", dir, err)
	}
	app := &App{Dir: abs}
	hostPath := filepath.Join(abs, "host.json")
	host, err := loadHost(hostPath)
	if err != nil {
		return nil, err
	}
	app.Host = host

	entries, err := os.ReadDir(abs)
	if err != nil {
		return nil, fmt.Errorf("reading app dir: %w", err)
	}
	var errs []error
	seen := map[string]string{}
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		path := filepath.Join(abs, e.Name(), "function.json")
		raw, err := os.ReadFile(path)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", path, err))
			continue
		}
		if !functionNameRE.MatchString(e.Name()) {
			errs = append(errs, fmt.Errorf("%s: folder name %q is not a valid function name (a letter, then letters, digits, _ or -)", path, e.Name()))
			continue
		}
		if other, dup := seen[strings.ToLower(e.Name())]; dup {
			errs = append(errs, fmt.Errorf("%s: function name %q differs from %q only in case", path, e.Name(), other))
			continue
		}
		seen[strings.ToLower(e.Name())] = e.Name()
		fn, disabled, warns, err := parseFunction(e.Name(), path, raw, host, settings)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		app.Warnings = append(app.Warnings, warns...)
		if disabled {
			app.Warnings = append(app.Warnings, fmt.Sprintf("%s: function %s is disabled", path, e.Name()))
			continue
		}
		app.Functions = append(app.Functions, fn)
	}
	if err := checkRouteClashes(app.Functions, host.RoutePrefix); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("loading function app %s: %w", abs, errors.Join(errs...))
	}
	sort.Slice(app.Functions, func(i, j int) bool { return app.Functions[i].Name < app.Functions[j].Name })
	return app, nil
}

// Function returns the named function (case-insensitive), or nil.
func (a *App) Function(name string) *Function {
	for _, f := range a.Functions {
		if strings.EqualFold(f.Name, name) {
			return f
		}
	}
	return nil
}

func loadHost(path string) (HostConfig, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return HostConfig{}, fmt.Errorf("%s: %w", path, err)
	}
	var h hostJSON
	if err := json.Unmarshal(raw, &h); err != nil {
		return HostConfig{}, fmt.Errorf("%s: not valid JSON: %w", path, err)
	}
	var errs []error
	if h.Version != "2.0" {
		errs = append(errs, fmt.Errorf("%s: \"version\" must be \"2.0\", not %q", path, h.Version))
	}
	cfg := HostConfig{RoutePrefix: "api", MaxDequeueCount: 5, QueueBatchSize: 16, Base64Messages: true, ServiceBusMaxConcurrentCalls: 16}
	if h.CustomHandler == nil || h.CustomHandler.Description == nil {
		errs = append(errs, fmt.Errorf("%s: customHandler.description is missing", path))
	} else {
		d := h.CustomHandler.Description
		cfg.ExecutablePath, cfg.Arguments, cfg.WorkingDirectory = d.DefaultExecutablePath, d.Arguments, d.WorkingDirectory
		if strings.TrimSpace(cfg.ExecutablePath) == "" {
			errs = append(errs, fmt.Errorf("%s: customHandler.description.defaultExecutablePath is empty", path))
		}
		if h.CustomHandler.EnableForwardingHttpRequest || h.CustomHandler.EnableProxyingHttpRequest {
			errs = append(errs, fmt.Errorf("%s: customHandler.enableForwardingHttpRequest/enableProxyingHttpRequest is not supported by the local host (the project uses the Data/Metadata payload)", path))
		}
	}
	if p := h.Extensions.HTTP.RoutePrefix; p != nil {
		cfg.RoutePrefix = strings.Trim(*p, "/")
	}
	q := h.Extensions.Queues
	if q.MaxDequeueCount != nil {
		if *q.MaxDequeueCount < 1 {
			errs = append(errs, fmt.Errorf("%s: extensions.queues.maxDequeueCount must be at least 1", path))
		}
		cfg.MaxDequeueCount = *q.MaxDequeueCount
	}
	if q.BatchSize != nil {
		if *q.BatchSize < 1 || *q.BatchSize > 32 {
			errs = append(errs, fmt.Errorf("%s: extensions.queues.batchSize must be 1..32", path))
		}
		cfg.QueueBatchSize = *q.BatchSize
	}
	if q.VisibilityTimeout != "" {
		d, err := parseTimeSpan(q.VisibilityTimeout)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: extensions.queues.visibilityTimeout: %w", path, err))
		}
		cfg.QueueVisibilityTimeout = d
	}
	switch strings.ToLower(q.MessageEncoding) {
	case "", "base64":
	case "none":
		cfg.Base64Messages = false
	default:
		errs = append(errs, fmt.Errorf("%s: extensions.queues.messageEncoding must be \"base64\" or \"none\", not %q", path, q.MessageEncoding))
	}
	if n := h.Extensions.ServiceBus.MaxConcurrentCalls; n != nil {
		if *n < 1 {
			errs = append(errs, fmt.Errorf("%s: extensions.serviceBus.maxConcurrentCalls must be at least 1", path))
		}
		cfg.ServiceBusMaxConcurrentCalls = *n
	}
	return cfg, errors.Join(errs...)
}

func parseFunction(name, path string, raw []byte, host HostConfig, settings map[string]string) (fn *Function, disabled bool, warns []string, err error) {
	var fj functionJSON
	if err := json.Unmarshal(raw, &fj); err != nil {
		return nil, false, nil, fmt.Errorf("%s: not valid function.json: %w", path, err)
	}
	if v, ok := settings["AzureWebJobs."+name+".Disabled"]; ok {
		if b, _ := strconv.ParseBool(v); b {
			fj.Disabled = true
		}
	}
	fn = &Function{Name: name, Bindings: fj.Bindings}
	var errs []error
	bad := func(format string, a ...any) {
		errs = append(errs, fmt.Errorf("%s: "+format, append([]any{path}, a...)...))
	}
	if len(fj.Bindings) == 0 {
		bad("no bindings")
	}
	names := map[string]bool{}
	triggers := 0
	for i, b := range fj.Bindings {
		where := fmt.Sprintf("binding %d (%q)", i, b.Name)
		if b.Name == "" {
			bad("binding %d has no name", i)
		} else if names[strings.ToLower(b.Name)] {
			bad("%s: duplicate binding name", where)
		}
		names[strings.ToLower(b.Name)] = true
		dir := strings.ToLower(b.Direction)
		if dir != "in" && dir != "out" && dir != "inout" {
			bad("%s: direction must be in, out or inout, not %q", where, b.Direction)
		}
		if b.IsTrigger() {
			triggers++
			if dir != "in" {
				bad("%s: a trigger's direction must be in", where)
			}
			fn.Trigger = b
			continue
		}
		switch {
		case dir == "in":
			bad("%s: input bindings of type %q are not supported by the local host", where, b.Type)
		case strings.EqualFold(b.Type, "http"):
		case strings.EqualFold(b.Type, "queue"), strings.EqualFold(b.Type, "serviceBus"):
			q, err := queueNameFor(b, settings, strings.EqualFold(b.Type, "serviceBus"))
			if err != nil {
				bad("%s: %v", where, err)
				continue
			}
			fn.outputs = append(fn.outputs, outQueue{binding: b.Name, queue: q, base64: !strings.EqualFold(b.Type, "queue") || host.Base64Messages})
		default:
			warns = append(warns, fmt.Sprintf("%s: %s: output bindings of type %q are not performed by the local host; their values are dropped", path, where, b.Type))
		}
	}
	if triggers != 1 {
		bad("a function needs exactly one trigger binding, found %d", triggers)
	}
	if len(errs) > 0 {
		return nil, false, warns, errors.Join(errs...)
	}
	t := fn.Trigger
	switch t.Type {
	case TriggerHTTP:
		switch strings.ToLower(t.AuthLevel) {
		case "", "anonymous", "function", "admin":
		default:
			bad("authLevel must be anonymous, function or admin, not %q", t.AuthLevel)
		}
		for _, m := range t.Methods {
			if !validMethod(m) {
				bad("methods: %q is not an HTTP method", m)
			}
		}
		tmpl := t.Route
		if tmpl == "" {
			tmpl = name
		}
		r, err := parseRoute(tmpl)
		if err != nil {
			bad("route %q: %v", tmpl, err)
		}
		if r != nil && len(r.segs) > 0 && host.RoutePrefix == "" && strings.EqualFold(r.segs[0].literal, "admin") {
			bad("route %q: routes under /admin are reserved by the host", tmpl)
		}
		fn.route = r
	case TriggerTimer:
		expr, err := expandSettings(t.Schedule, settings)
		if err != nil {
			bad("schedule: %v", err)
			break
		}
		s, err := ParseSchedule(expr)
		if err != nil {
			bad("schedule %q: %v", expr, err)
			break
		}
		fn.schedule = s
		fn.monitor = monitorDefault(s)
		if t.UseMonitor != nil {
			fn.monitor = *t.UseMonitor
		}
	case TriggerQueue, TriggerServiceBus:
		sb := t.Type == TriggerServiceBus
		if sb {
			switch {
			case t.TopicName != "" || t.SubscriptionName != "":
				bad("Service Bus topic subscriptions are not supported by the local host (only queues)")
			case t.IsSessionsEnabled:
				bad("Service Bus sessions are not supported by the local host")
			case t.Cardinality != "" && !strings.EqualFold(t.Cardinality, "one"):
				bad("cardinality %q is not supported by the local host (only \"one\")", t.Cardinality)
			}
		}
		q, err := queueNameFor(t, settings, sb)
		if err != nil {
			bad("%v", err)
		}
		fn.queue = q
	default:
		bad("trigger type %q is not supported by the local host (http, timer, queue and serviceBus triggers are)", t.Type)
	}
	return fn, bool(fj.Disabled), warns, errors.Join(errs...)
}

func validMethod(m string) bool {
	switch strings.ToUpper(m) {
	case "GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "TRACE":
		return true
	}
	return false
}

var storageQueueNameRE = regexp.MustCompile(`^[a-z0-9](?:[a-z0-9]|-[a-z0-9])*$`)

// queueNameFor resolves a binding's queueName to the Azurite queue used
// locally. Like the host's queue extension it lower-cases the name; Service
// Bus queue names must also be valid storage queue names, with room for the
// "-deadletter" suffix.
func queueNameFor(b Binding, settings map[string]string, serviceBus bool) (string, error) {
	if b.QueueName == "" {
		return "", errors.New("queueName is missing")
	}
	q, err := expandSettings(b.QueueName, settings)
	if err != nil {
		return "", fmt.Errorf("queueName: %w", err)
	}
	q = strings.ToLower(q)
	suffix := "-poison"
	if serviceBus {
		suffix = "-deadletter"
	}
	if len(q) < 3 || len(q)+len(suffix) > 63 || !storageQueueNameRE.MatchString(q) {
		return "", fmt.Errorf("queueName %q cannot be used as a local storage queue: use 3-%d lower-case letters, digits and single hyphens", q, 63-len(suffix))
	}
	return q, nil
}

var settingRefRE = regexp.MustCompile(`%([^%]+)%`)

// expandSettings replaces %Name% with the app setting Name. An unknown
// setting is an error naming it.
func expandSettings(s string, settings map[string]string) (string, error) {
	var missing []string
	out := settingRefRE.ReplaceAllStringFunc(s, func(m string) string {
		key := m[1 : len(m)-1]
		v, ok := settings[key]
		if !ok {
			missing = append(missing, key)
			return m
		}
		return v
	})
	if len(missing) > 0 {
		return "", fmt.Errorf("app setting %s is not set", strings.Join(missing, ", "))
	}
	return out, nil
}

func checkRouteClashes(fns []*Function, prefix string) error {
	var errs []error
	seen := map[string]string{}
	for _, f := range fns {
		if f.route == nil {
			continue
		}
		key := f.route.shape()
		methods := f.Trigger.Methods
		if len(methods) == 0 {
			methods = []string{"*"}
		}
		for _, m := range methods {
			k := strings.ToUpper(m) + " " + key
			if other, ok := seen[k]; ok {
				errs = append(errs, fmt.Errorf("functions %s and %s both serve %s /%s", other, f.Name, strings.ToUpper(m), strings.Trim(prefix+"/"+f.route.template, "/")))
			}
			seen[k] = f.Name
		}
	}
	return errors.Join(errs...)
}
