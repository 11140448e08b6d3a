package graphtest

import (
	"encoding/json"
	"net/http"
	"strings"
)

// appIDPath rewrites the alternate key form servicePrincipals(appId='…')
// (optionally followed by a relationship) to servicePrincipals/<id>, as
// Graph resolves it. An unknown appId maps to an id that is not found
// (locked).
func (s *Server) appIDPath(path string) string {
	p := strings.Trim(path, "/")
	rest := ""
	if i := strings.Index(p, "/"); i >= 0 {
		p, rest = p[:i], p[i:]
	}
	const pre, post = "servicePrincipals(appId='", "')"
	if !strings.HasPrefix(p, pre) || !strings.HasSuffix(p, post) {
		return path
	}
	appID := strings.TrimSuffix(strings.TrimPrefix(p, pre), post)
	id := "no-such-app-" + appID
	if a, ok := s.lookupAppID(appID); ok {
		id = a.SP.ID
	}
	return "/servicePrincipals/" + id + rest
}

// lookupAppID finds an app by application id (locked).
func (s *Server) lookupAppID(appID string) (App, bool) {
	for id, o := range s.over {
		if o.app != nil && o.app.SP.AppID == appID {
			return s.lookup(id)
		}
	}
	if strings.HasPrefix(appID, "10000000-0000-4000-8000-") {
		if a, ok := s.lookup("00000000-0000-4000-8000-" + strings.TrimPrefix(appID, "10000000-0000-4000-8000-")); ok && a.SP.AppID == appID {
			return a, true
		}
	}
	return App{}, false
}

// FindByAppID returns the service principal id of the app with this
// application id.
func (s *Server) FindByAppID(appID string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.lookupAppID(appID)
	return a.SP.ID, ok
}

// servePatch answers PATCH /servicePrincipals/{id} (or the appId form) with
// {"accountEnabled": false|true}, as an administrator disabling an
// application in Entra ID would: 204, and the change shows in the delta.
func (s *Server) servePatch(w http.ResponseWriter, r *http.Request) {
	var body struct {
		AccountEnabled *bool `json:"accountEnabled"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil || body.AccountEnabled == nil {
		writeJSON(w, 400, nil, errorBody(400, "Request_BadRequest", "The stand-in accepts only {\"accountEnabled\": bool}."))
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	parts := strings.Split(strings.Trim(s.appIDPath(strings.TrimPrefix(r.URL.Path, "/v1.0")), "/"), "/")
	if len(parts) != 2 || parts[0] != "servicePrincipals" {
		writeJSON(w, 400, nil, errorBody(400, "BadRequest", "PATCH a service principal."))
		return
	}
	a, ok := s.lookup(parts[1])
	if !ok {
		writeJSON(w, 404, nil, errorBody(404, "Request_ResourceNotFound", "Resource '"+parts[1]+"' does not exist."))
		return
	}
	a.SP.AccountEnabled = *body.AccountEnabled
	s.version++
	s.put(a, s.version)
	w.WriteHeader(http.StatusNoContent)
}
