package localhost

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
)

// DefaultMaxRequestBodyBytes bounds an HTTP trigger's request body unless
// Options says otherwise: 100 MB, as on Azure. Larger bodies get 413.
const DefaultMaxRequestBodyBytes = 100 << 20

// frontEnd serves HTTP triggers under /<routePrefix>/ and the admin API.
type frontEnd struct {
	app     *App
	inv     *invoker
	routes  []*Function // HTTP functions, most specific route first
	maxBody int64
	admin   func(fn *Function, input string) // starts a background invocation
}

func newFrontEnd(app *App, iv *invoker, maxBody int64, admin func(*Function, string)) *frontEnd {
	f := &frontEnd{app: app, inv: iv, maxBody: maxBody, admin: admin}
	for _, fn := range app.Functions {
		if fn.route != nil {
			f.routes = append(f.routes, fn)
		}
	}
	sort.SliceStable(f.routes, func(i, j int) bool {
		a, b := f.routes[i].route.precedence(), f.routes[j].route.precedence()
		for k := 0; k < len(a) && k < len(b); k++ {
			if a[k] != b[k] {
				return a[k] < b[k]
			}
		}
		return len(a) > len(b)
	})
	return f
}

func (f *frontEnd) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	if p == "/admin" || strings.HasPrefix(p, "/admin/") {
		f.serveAdmin(w, r)
		return
	}
	prefix := "/" + f.app.Host.RoutePrefix
	rest := p
	if f.app.Host.RoutePrefix != "" {
		if !strings.EqualFold(p, prefix) && !(len(p) > len(prefix) && strings.EqualFold(p[:len(prefix)+1], prefix+"/")) {
			http.NotFound(w, r)
			return
		}
		rest = p[len(prefix):]
	}
	fn, params := f.match(r.Method, rest)
	if fn == nil {
		// The Functions host answers 404 for a known route with a method the
		// function does not accept (its routes are method-constrained), so
		// we do too rather than 405.
		http.NotFound(w, r)
		return
	}
	f.serveFunction(w, r, fn, params)
}

func (f *frontEnd) match(method, path string) (*Function, map[string]string) {
	for _, fn := range f.routes {
		if !methodAllowed(fn.Trigger.Methods, method) {
			continue
		}
		if params, ok := fn.route.match(path); ok {
			return fn, params
		}
	}
	return nil, nil
}

func methodAllowed(methods []string, m string) bool {
	if len(methods) == 0 {
		return true
	}
	for _, x := range methods {
		if strings.EqualFold(x, m) {
			return true
		}
	}
	return false
}

func (f *frontEnd) serveFunction(w http.ResponseWriter, r *http.Request, fn *Function, params map[string]string) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, f.maxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
			return
		}
		http.Error(w, "reading request body failed", http.StatusBadRequest)
		return
	}
	inv := newInvocation(fn, "http")
	query := map[string]string{}
	for k, v := range r.URL.Query() {
		query[k] = strings.Join(v, ",")
	}
	headers := map[string][]string{}
	flat := map[string]string{}
	for k, v := range r.Header {
		headers[k] = v
		flat[k] = strings.Join(v, ",")
	}
	if r.Host != "" {
		headers["Host"] = []string{r.Host}
		flat["Host"] = r.Host
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	req := map[string]any{
		"Url":     scheme + "://" + r.Host + r.URL.RequestURI(),
		"Method":  r.Method,
		"Query":   query,
		"Headers": headers,
		"Params":  params,
	}
	if len(body) > 0 {
		if isBinaryContent(r.Header.Get("Content-Type")) {
			req["Body"] = base64.StdEncoding.EncodeToString(body)
		} else {
			req["Body"] = string(body)
		}
	}
	inv.data[fn.Trigger.Name] = req
	inv.metadata["Query"] = query
	inv.metadata["Headers"] = flat
	inv.metadata["Params"] = params
	for k, v := range params { // route values are binding data too
		if _, clash := inv.metadata[k]; !clash {
			inv.metadata[k] = metaString(v)
		}
	}
	o := f.inv.call(r.Context(), inv)
	if o.err != nil {
		// A failed invocation is a bare 500, as the host answers.
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	writeHTTPOutput(w, fn, o.result)
}

func isBinaryContent(ct string) bool {
	ct = strings.ToLower(ct)
	return strings.HasPrefix(ct, "application/octet-stream") || strings.HasPrefix(ct, "multipart/")
}

// httpOutput is the host's HttpOutputBindingResponse, decoded
// case-insensitively (as encoding/json does).
type httpOutput struct {
	StatusCode json.RawMessage            `json:"statusCode"`
	Status     json.RawMessage            `json:"status"`
	Headers    map[string]json.RawMessage `json:"headers"`
	Body       json.RawMessage            `json:"body"`
}

// writeHTTPOutput maps the http output binding (or ReturnValue when it is
// named $return) onto the client response. No http output, or no value for
// it, gives 204.
func writeHTTPOutput(w http.ResponseWriter, fn *Function, r workerResult) {
	name := ""
	for _, b := range fn.Bindings {
		if strings.EqualFold(b.Type, "http") && strings.EqualFold(b.Direction, "out") {
			name = b.Name
		}
	}
	v, ok := r.outputValue(name)
	if name == "" || !ok {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	var out httpOutput
	if v[0] != '{' || json.Unmarshal(v, &out) != nil {
		// A bare value (possible with $return): it is the body.
		out = httpOutput{Body: v}
	}
	status := http.StatusOK
	code := out.StatusCode
	if len(code) == 0 || string(code) == "null" {
		code = out.Status
	}
	if s := scalarText(code); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 100 || n > 999 {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		status = n
	}
	for k, hv := range out.Headers {
		w.Header().Set(k, scalarText(hv))
	}
	var body []byte
	b := bytes.TrimSpace(out.Body)
	switch {
	case len(b) == 0 || string(b) == "null":
	case b[0] == '"':
		var s string
		_ = json.Unmarshal(b, &s)
		body = []byte(s)
		if w.Header().Get("Content-Type") == "" {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		}
	default:
		body = b
		if w.Header().Get("Content-Type") == "" {
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
		}
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// scalarText gives a JSON string's value, or any other JSON value's text.
func scalarText(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	if raw[0] == '"' {
		var s string
		_ = json.Unmarshal(raw, &s)
		return s
	}
	if raw[0] == '[' {
		var many []json.RawMessage
		if json.Unmarshal(raw, &many) == nil {
			parts := make([]string, len(many))
			for i, m := range many {
				parts[i] = scalarText(m)
			}
			return strings.Join(parts, ", ")
		}
	}
	return string(raw)
}

// FunctionInfo describes a function in GET /admin/functions.
type FunctionInfo struct {
	Name    string   `json:"name"`
	Trigger string   `json:"trigger"`
	Methods []string `json:"methods,omitempty"`
	URL     string   `json:"invoke_url_template,omitempty"`
	// Schedule is a timer's NCRONTAB expression (settings resolved).
	Schedule string `json:"schedule,omitempty"`
	// Queue is the Azurite queue a queue or Service Bus trigger reads.
	Queue string `json:"queue,omitempty"`
}

func (f *frontEnd) serveAdmin(w http.ResponseWriter, r *http.Request) {
	p := strings.TrimSuffix(r.URL.Path, "/")
	switch {
	case p == "/admin/host/status" && r.Method == http.MethodGet:
		writeJSON(w, http.StatusOK, map[string]string{"state": "Running", "version": hostVersion})
	case p == "/admin/functions" && r.Method == http.MethodGet:
		list := []FunctionInfo{}
		for _, fn := range f.app.Functions {
			list = append(list, f.info(r, fn))
		}
		writeJSON(w, http.StatusOK, list)
	case strings.HasPrefix(p, "/admin/functions/"):
		name := strings.TrimPrefix(p, "/admin/functions/")
		fn := f.app.Function(name)
		if fn == nil || strings.Contains(name, "/") {
			writeJSON(w, http.StatusNotFound, map[string]string{"error": "no function named " + strconv.Quote(name)})
			return
		}
		switch r.Method {
		case http.MethodGet:
			writeJSON(w, http.StatusOK, f.info(r, fn))
		case http.MethodPost:
			f.adminInvoke(w, r, fn)
		default:
			w.Header().Set("Allow", "GET, POST")
			w.WriteHeader(http.StatusMethodNotAllowed)
		}
	default:
		http.NotFound(w, r)
	}
}

func (f *frontEnd) info(r *http.Request, fn *Function) FunctionInfo {
	fi := FunctionInfo{Name: fn.Name, Trigger: fn.Trigger.Type, Queue: fn.queue}
	if fn.route != nil {
		fi.Methods = fn.Trigger.Methods
		fi.URL = "http://" + r.Host + "/" + strings.Trim(f.app.Host.RoutePrefix+"/"+fn.route.template, "/")
	}
	if fn.schedule != nil {
		fi.Schedule = fn.schedule.String()
	}
	return fi
}

// adminInvoke runs a non-HTTP function now, in the background, answering
// 202. HTTP functions get 400: call their route instead.
func (f *frontEnd) adminInvoke(w http.ResponseWriter, r *http.Request, fn *Function) {
	if fn.Trigger.Type == TriggerHTTP {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "HTTP functions are called through their route: /" + strings.Trim(f.app.Host.RoutePrefix+"/"+fn.route.template, "/")})
		return
	}
	var body struct {
		Input *string `json:"input"`
	}
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, f.maxBody))
	if err == nil && len(bytes.TrimSpace(raw)) > 0 {
		err = json.Unmarshal(raw, &body)
	}
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": `the body must be {"input":"..."}`})
		return
	}
	input := ""
	if body.Input != nil {
		input = *body.Input
	}
	f.admin(fn, input)
	w.WriteHeader(http.StatusAccepted)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}
