// Package subjectrequests is the SubjectRequests function: the HTTP API for
// UK GDPR subject requests and their statutory deadlines.
//
//	POST /api/subject-requests               create (201); optional Idempotency-Key
//	GET  /api/subject-requests               list: status, overdue, dueWithinDays, serviceArea, limit, continuationToken
//	GET  /api/subject-requests/{id}          one request with its events and chainVerified (?include=person adds personal details)
//	POST /api/subject-requests/{id}/events   append an event (200); optional Idempotency-Key
//
// Errors are application/problem+json: 400 names the field, 404 unknown
// request, 409 an event the request's state does not allow (nothing is
// written), 422 an Idempotency-Key reused with a different body, 503 when
// the bank-holiday data does not cover the deadline.
package subjectrequests

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/council-ict/govkit/shared/funcapp"
	"github.com/council-ict/govkit/shared/store"
	sr "github.com/council-ict/govkit/shared/subjectrequests"
	"github.com/council-ict/govkit/shared/ukdates"
	"github.com/rs/zerolog"
)

// AnonymousPrincipal is recorded when the host passes no caller identity
// (local runs without App Service authentication).
const AnonymousPrincipal = "anonymous-local"

// Handler serves the SubjectRequests function.
type Handler struct {
	svc *sr.Service
}

// New returns the function over svc.
func New(svc *sr.Service) (*Handler, error) {
	if svc == nil {
		return nil, errors.New("subjectrequests: no service")
	}
	return &Handler{svc: svc}, nil
}

// Invoke handles one HTTP invocation.
func (h *Handler) Invoke(ctx context.Context, inv funcapp.Invocation) (funcapp.Result, error) {
	return funcapp.HTTPHandler(h.serve).Invoke(ctx, inv)
}

// OfficerRole is the only app role that may see requesters' personal details.
const OfficerRole = "SubjectRequests.Officer"

// Caller returns the caller's principal id, never a display name: the
// principal the access-control wrapper put in ctx (funcapp.PrincipalFrom),
// else AnonymousPrincipal. Raw identity headers are never trusted here:
// only the wrapper knows whether platform authentication vouches for them.
func Caller(ctx context.Context, req funcapp.HTTPRequest) string {
	if p, ok := funcapp.PrincipalFrom(ctx); ok && p.ObjectID != "" {
		return p.ObjectID
	}
	return AnonymousPrincipal
}

func (h *Handler) serve(ctx context.Context, req funcapp.HTTPRequest) (funcapp.Result, error) {
	start := time.Now()
	id, action := strings.TrimSpace(req.Params["id"]), strings.TrimSpace(req.Params["action"])
	route := "subject-requests"
	var res funcapp.Result
	var err error
	if err = h.svc.Store().Ensure(ctx); err != nil {
		return funcapp.Result{}, err
	}
	switch {
	case id == "" && req.Method == "POST":
		res, err = h.create(ctx, req)
	case id == "" && req.Method == "GET":
		res, err = h.list(ctx, req)
	case id != "" && action == "" && req.Method == "GET":
		route += "/{id}"
		res, err = h.get(ctx, req, id)
	case id != "" && action == "events" && req.Method == "POST":
		route += "/{id}/events"
		res, err = h.appendEvent(ctx, req, id)
	case id != "" && action != "" && action != "events":
		res = funcapp.Problem(404, "Not found", "the only sub-resource of a request is /events", "")
	default:
		res = funcapp.Problem(405, "Method not allowed", "see the API summary: POST and GET /subject-requests, GET /subject-requests/{id}, POST /subject-requests/{id}/events", "")
	}
	if err != nil {
		return res, err
	}
	status := 0
	if out, ok := res.Outputs[funcapp.HTTPOutputBinding].(funcapp.HTTPOutput); ok {
		status = out.Status()
	}
	ev := zerolog.Ctx(ctx).Info().Str("method", req.Method).Str("route", route).Int("status", status).Dur("duration", time.Since(start))
	if _, ok := sr.ParseID(id); ok {
		ev = ev.Str("requestId", id)
	}
	ev.Msg("subject request api")
	return res, nil
}

func (h *Handler) create(ctx context.Context, req funcapp.HTTPRequest) (funcapp.Result, error) {
	if p, ok := funcapp.CheckJSONRequest(req); !ok {
		return p, nil
	}
	var in sr.CreateInput
	if err := funcapp.DecodeJSON(req.Body, &in); err != nil {
		return funcapp.ValidationProblem(err), nil
	}
	it, person, err := in.Validate(h.svc.Today())
	if err != nil {
		return funcapp.ValidationProblem(err), nil
	}
	by := Caller(ctx, req)
	return h.idempotent(ctx, req, "/subject-requests", in, "", func(id, keyHash string) (funcapp.Result, error) {
		v, err := h.svc.Create(ctx, id, it, person, by, keyHash)
		if err != nil {
			return errorResult(err)
		}
		return funcapp.JSON(201, v), nil
	})
}

func (h *Handler) appendEvent(ctx context.Context, req funcapp.HTTPRequest, id string) (funcapp.Result, error) {
	if _, ok := sr.ParseID(id); !ok {
		return notFound(id), nil
	}
	if p, ok := funcapp.CheckJSONRequest(req); !ok {
		return p, nil
	}
	var in sr.EventInput
	if err := funcapp.DecodeJSON(req.Body, &in); err != nil {
		return funcapp.ValidationProblem(err), nil
	}
	e, err := in.Validate(h.svc.Today())
	if err != nil {
		return funcapp.ValidationProblem(err), nil
	}
	by := Caller(ctx, req)
	return h.idempotent(ctx, req, "/subject-requests/"+id+"/events", in, id, func(_, keyHash string) (funcapp.Result, error) {
		v, err := h.svc.Append(ctx, id, e, by, keyHash)
		if err != nil {
			return errorResult(err)
		}
		return funcapp.JSON(200, v), nil
	})
}

func (h *Handler) get(ctx context.Context, req funcapp.HTTPRequest, id string) (funcapp.Result, error) {
	withPerson := false
	if inc := req.Query["include"]; inc != "" {
		if inc != "person" {
			return funcapp.Problem(400, "The request is not valid", "include: the only value is \"person\"", "include"), nil
		}
		p, _ := funcapp.PrincipalFrom(ctx)
		if !p.HasRole(OfficerRole) {
			return funcapp.Problem(403, "Forbidden", "Personal details are shown only to the "+OfficerRole+" role.", "include"), nil
		}
		withPerson = true
	}
	v, err := h.svc.Get(ctx, id, withPerson)
	if err != nil {
		return errorResult(err)
	}
	return funcapp.JSON(200, v), nil
}

func (h *Handler) list(ctx context.Context, req funcapp.HTTPRequest) (funcapp.Result, error) {
	f, err := ParseListQuery(req.Query)
	if err != nil {
		return funcapp.ValidationProblem(err), nil
	}
	page, err := h.svc.List(ctx, f)
	if err != nil {
		return errorResult(err)
	}
	return funcapp.JSON(200, page), nil
}

// ParseListQuery reads the list filters from the query string.
func ParseListQuery(q map[string]string) (sr.ListFilter, error) {
	f := sr.ListFilter{DueWithin: -1, Limit: 50, ServiceArea: strings.TrimSpace(q["serviceArea"]), Token: q["continuationToken"]}
	var errs []error
	bad := func(field, detail string) { errs = append(errs, funcapp.FieldError{Field: field, Detail: detail}) }
	if s := q["status"]; s != "" {
		f.Status = sr.Status(s)
		ok := false
		for _, x := range sr.Statuses {
			ok = ok || x == f.Status
		}
		if !ok {
			bad("status", "must be one of awaiting-id, open, paused, completed, refused, withdrawn")
		}
	}
	if s := q["overdue"]; s != "" {
		b, err := strconv.ParseBool(s)
		if err != nil {
			bad("overdue", "must be true or false")
		}
		f.Overdue = &b
	}
	if s := q["dueWithinDays"]; s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 || n > 366 {
			bad("dueWithinDays", "must be a whole number of days from 0 to 366")
		}
		f.DueWithin = n
	}
	if s := q["limit"]; s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 500 {
			bad("limit", "must be from 1 to 500")
		}
		f.Limit = n
	}
	return f, errors.Join(errs...)
}

// idempotent runs op once per Idempotency-Key. The same key and body
// answer the first result; the same key with a different body is 422. A
// first attempt that died midway (its record still pending) is finished by
// the retry: op is idempotent for the same id and key hash. 5xx results are
// not remembered, so a retry runs again.
func (h *Handler) idempotent(ctx context.Context, req funcapp.HTTPRequest, path string, input any, id string,
	op func(id, keyHash string) (funcapp.Result, error)) (funcapp.Result, error) {
	key := strings.TrimSpace(req.Header("Idempotency-Key"))
	st := h.svc.Store()
	if key == "" {
		if id == "" {
			var err error
			if id, err = h.svc.NewID(ctx); err != nil {
				return funcapp.Result{}, err
			}
		}
		return op(id, "")
	}
	if len(key) > 255 {
		return funcapp.Problem(400, "The request is not valid", "Idempotency-Key: at most 255 characters", "Idempotency-Key"), nil
	}
	canon, _ := json.Marshal(input)
	sum := sha256.Sum256(canon)
	bodyHash := hex.EncodeToString(sum[:])
	kh := sr.KeyHash(Caller(ctx, req), req.Method, path, key)
	for range 5 {
		rec, err := st.Idempotency(ctx, kh)
		var target string
		switch {
		case err == nil:
			if rec.Value.BodyHash != bodyHash {
				return funcapp.Problem(422, "Idempotency-Key already used with a different body",
					"this key was first used with a different request body; use a new key for a new request", "Idempotency-Key"), nil
			}
			if rec.Value.State == "done" {
				return funcapp.HTTPResponse(rec.Value.Status, contentType(rec.Value.Status), []byte(rec.Value.Body)), nil
			}
			target = rec.Value.RequestID
		case errors.Is(err, store.ErrNotFound):
			target = id
			if target == "" {
				if target, err = h.svc.NewID(ctx); err != nil {
					return funcapp.Result{}, err
				}
			}
			err = st.InsertIdempotency(ctx, sr.Idempotency{PartitionKey: kh, BodyHash: bodyHash, State: "pending",
				RequestID: target, CreatedAt: time.Now().UTC().Format(time.RFC3339)})
			if errors.Is(err, store.ErrConflict) {
				continue // a concurrent first attempt: read what it claimed
			}
			if err != nil {
				return funcapp.Result{}, err
			}
		default:
			return funcapp.Result{}, err
		}
		res, err := op(target, kh)
		if err != nil {
			return res, err
		}
		out, _ := res.Outputs[funcapp.HTTPOutputBinding].(funcapp.HTTPOutput)
		if s := out.Status(); s < 500 {
			if err := st.UpdateIdempotency(ctx, sr.Idempotency{PartitionKey: kh, BodyHash: bodyHash, State: "done",
				RequestID: target, Status: s, Body: out.Body, CreatedAt: time.Now().UTC().Format(time.RFC3339)}); err != nil {
				return funcapp.Result{}, err
			}
		}
		return res, nil
	}
	return funcapp.Problem(409, "Conflict", "the same Idempotency-Key is being used concurrently; retry", "Idempotency-Key"), nil
}

func contentType(status int) string {
	if status >= 400 {
		return "application/problem+json"
	}
	return "application/json"
}

func notFound(id string) funcapp.Result {
	return funcapp.Problem(404, "No such subject request", "no request has id "+strconv.Quote(id), "")
}

// errorResult maps service errors to problem responses; anything else is
// returned as an error (500, logged).
func errorResult(err error) (funcapp.Result, error) {
	var te *sr.TransitionError
	switch {
	case errors.As(err, &te):
		return funcapp.Problem(409, "Event not allowed in the request's current state", te.Error(), "type"), nil
	case errors.Is(err, sr.ErrNotFound):
		return funcapp.Problem(404, "No such subject request", "", ""), nil
	case errors.Is(err, sr.ErrChainBroken):
		return funcapp.Problem(409, "The request's audit trail does not verify", err.Error()+"; nothing was written: ask the data protection officer to investigate", ""), nil
	case errors.Is(err, sr.ErrBusy):
		return funcapp.Problem(409, "Conflict", err.Error(), ""), nil
	case errors.Is(err, ukdates.ErrNotCovered):
		return funcapp.Problem(503, "Bank-holiday data needs updating",
			"the deadline falls beyond the bank-holiday data; update UK_BANK_HOLIDAYS_FILE (gov.uk format) or the embedded data", ""), nil
	case isValidation(err):
		return funcapp.ValidationProblem(err), nil
	}
	return funcapp.Result{}, err
}

func isValidation(err error) bool {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range j.Unwrap() {
			if !isValidation(e) {
				return false
			}
		}
		return true
	}
	var fe funcapp.FieldError
	return errors.As(err, &fe)
}
