// Package contracts is the Contracts function: the contract register's HTTP
// API at /api/contracts/{id?}.
//
//	GET    /api/contracts               list (serviceArea, status, expiringWithinDays, pageSize, after)
//	GET    /api/contracts/{id}          one contract, with milestones and ETag
//	PUT    /api/contracts/{id}          create or replace (idempotent); If-Match / If-None-Match: * honoured
//	PATCH  /api/contracts/{id}          partial update (null clears); If-Match honoured, 412 when stale
//	DELETE /api/contracts/{id}          soft delete: status ended, record kept
//
// The CSV import (POST /api/contracts:import) is the ContractsImport
// function: the route template contracts/{id?} cannot match the single
// path segment "contracts:import".
//
// Every validation failure is a 400 application/problem+json naming each bad
// field, and nothing is written.
package contracts

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/council-ict/govkit/shared/contracts"
	"github.com/council-ict/govkit/shared/funcapp"
	"github.com/council-ict/govkit/shared/store"
	"github.com/council-ict/govkit/shared/ukdates"
	"github.com/rs/zerolog"
)

// Store is the register the function needs (*contracts.Register).
type Store interface {
	Get(ctx context.Context, id string) (contracts.Stored, error)
	Create(ctx context.Context, c contracts.Contract) (string, error)
	Replace(ctx context.Context, c contracts.Contract, deletedAt, etag string) (string, error)
	List(ctx context.Context, after string, fn func(contracts.Stored) error) error
}

// Config configures the function.
type Config struct {
	// DefaultPageSize and MaxPageSize bound list pages (defaults 50 and 200).
	DefaultPageSize, MaxPageSize int
}

// Handler serves the Contracts function.
type Handler struct {
	cfg   Config
	store Store
	now   func() time.Time
}

// New returns the function.
func New(cfg Config, s Store) (*Handler, error) {
	if s == nil {
		return nil, errors.New("contracts: no store")
	}
	if cfg.DefaultPageSize <= 0 {
		cfg.DefaultPageSize = 50
	}
	if cfg.MaxPageSize <= 0 {
		cfg.MaxPageSize = 200
	}
	return &Handler{cfg: cfg, store: s, now: time.Now}, nil
}

// MilestoneView is a computed milestone in a response.
type MilestoneView struct {
	Kind     contracts.MilestoneKind `json:"kind"`
	Date     ukdates.Date            `json:"date"`
	DaysLeft int                     `json:"daysLeft"`
}

// View is a contract as the API returns it.
type View struct {
	contracts.Contract
	Milestones []MilestoneView `json:"milestones"`
	ETag       string          `json:"etag"`
	DeletedAt  string          `json:"deletedAt,omitempty"`
	UpdatedAt  string          `json:"updatedAt,omitempty"`
	UpdatedBy  string          `json:"updatedBy,omitempty"`
}

// ListPage is a page of the list.
type ListPage struct {
	Items []View `json:"items"`
	// Next is the cursor for the next page (pass as ?after=); absent on
	// the last page.
	Next string `json:"next,omitempty"`
}

func (h *Handler) view(s contracts.Stored) View {
	today := ukdates.LondonDate(h.now())
	v := View{Contract: s.Contract, ETag: s.ETag, DeletedAt: s.DeletedAt, UpdatedAt: s.UpdatedAt, UpdatedBy: s.UpdatedBy, Milestones: []MilestoneView{}}
	for _, m := range s.Milestones(today) {
		v.Milestones = append(v.Milestones, MilestoneView{Kind: m.Kind, Date: m.Date, DaysLeft: today.DaysUntil(m.Date)})
	}
	return v
}

func (h *Handler) respond(status int, s contracts.Stored) funcapp.Result {
	res := funcapp.JSON(status, h.view(s))
	if out, ok := res.Outputs[funcapp.HTTPOutputBinding].(funcapp.HTTPOutput); ok && s.ETag != "" {
		out.Headers["ETag"] = s.ETag
		res.Outputs[funcapp.HTTPOutputBinding] = out
	}
	return res
}

// Invoke serves one request.
func (h *Handler) Invoke(ctx context.Context, inv funcapp.Invocation) (funcapp.Result, error) {
	return funcapp.HTTPHandler(h.serve).Invoke(ctx, inv)
}

func (h *Handler) serve(ctx context.Context, req funcapp.HTTPRequest) (funcapp.Result, error) {
	start := h.now()
	id := req.Params["id"]
	res, err := h.route(ctx, req, id)
	if err == nil {
		out, _ := res.Outputs[funcapp.HTTPOutputBinding].(funcapp.HTTPOutput)
		zerolog.Ctx(ctx).Info().Str("method", req.Method).Str("contract", id).Str("status", out.StatusCode).
			Dur("duration", h.now().Sub(start)).Msg("contracts request")
	}
	return res, err
}

func (h *Handler) route(ctx context.Context, req funcapp.HTTPRequest, id string) (funcapp.Result, error) {
	if id != "" && !contracts.ValidID(id) {
		return funcapp.ValidationProblem(funcapp.FieldError{Field: "id", Detail: "must be 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit"}), nil
	}
	switch {
	case req.Method == "GET" && id == "":
		return h.list(ctx, req)
	case req.Method == "GET":
		s, err := h.store.Get(ctx, id)
		if err != nil {
			return storeError(err)
		}
		return h.respond(200, s), nil
	case id == "":
		return funcapp.Problem(405, "Method not allowed", "use GET to list, or "+req.Method+" /api/contracts/{id}", ""), nil
	case req.Method == "PUT":
		return h.put(ctx, req, id)
	case req.Method == "PATCH":
		return h.patch(ctx, req, id)
	case req.Method == "DELETE":
		return h.delete(ctx, req, id)
	}
	return funcapp.Problem(405, "Method not allowed", "use GET, PUT, PATCH or DELETE", ""), nil
}

// storeError maps the register's errors to problems; anything else is a
// 500 (logged by funcapp).
func storeError(err error) (funcapp.Result, error) {
	switch {
	case errors.Is(err, store.ErrNotFound):
		return funcapp.Problem(404, "Contract not found", "no contract has this id", "id"), nil
	case errors.Is(err, store.ErrPreconditionFailed):
		return funcapp.Problem(412, "Precondition failed", "the contract has changed since the ETag in If-Match was read: GET it again and reapply your change", "If-Match"), nil
	case errors.Is(err, store.ErrConflict):
		return funcapp.Problem(412, "Precondition failed", "the contract already exists (If-None-Match: *)", "If-None-Match"), nil
	}
	return funcapp.Result{}, err
}

func (h *Handler) decode(req funcapp.HTTPRequest, base contracts.Contract, id string) (contracts.Contract, contracts.Patch, error) {
	p, err := contracts.ParsePatch(req.Body)
	if err != nil {
		return base, p, err
	}
	c, err := p.Apply(base)
	if err != nil {
		return c, p, err
	}
	if c.ID != id {
		return c, p, funcapp.FieldError{Field: "id", Detail: "does not match the id in the URL"}
	}
	c.Normalize()
	return c, p, c.Validate()
}

func (h *Handler) put(ctx context.Context, req funcapp.HTTPRequest, id string) (funcapp.Result, error) {
	if p, ok := funcapp.CheckJSONRequest(req); !ok {
		return p, nil
	}
	c, _, err := h.decode(req, contracts.Contract{ID: id}, id)
	if err != nil {
		return funcapp.ValidationProblem(err), nil
	}
	ifMatch := req.Header("If-Match")
	if req.Header("If-None-Match") == "*" || ifMatch == "" {
		etag, err := h.store.Create(ctx, c)
		if err == nil {
			return h.respond(201, contracts.Stored{Contract: c, ETag: etag}), nil
		}
		if !errors.Is(err, store.ErrConflict) || req.Header("If-None-Match") == "*" {
			return storeError(err)
		}
	}
	etag := ifMatch
	if etag == "" || etag == "*" {
		cur, err := h.store.Get(ctx, id)
		if err != nil {
			return storeError(err)
		}
		etag = cur.ETag
	}
	newTag, err := h.store.Replace(ctx, c, "", etag)
	if errors.Is(err, store.ErrNotFound) && ifMatch != "" {
		err = store.ErrPreconditionFailed
	}
	if err != nil {
		return storeError(err)
	}
	return h.respond(200, contracts.Stored{Contract: c, ETag: newTag}), nil
}

func (h *Handler) current(ctx context.Context, req funcapp.HTTPRequest, id string) (contracts.Stored, string, error) {
	cur, err := h.store.Get(ctx, id)
	if err != nil {
		return cur, "", err
	}
	etag := cur.ETag
	if m := req.Header("If-Match"); m != "" && m != "*" {
		if m != cur.ETag {
			return cur, "", store.ErrPreconditionFailed
		}
		etag = m
	}
	return cur, etag, nil
}

func (h *Handler) patch(ctx context.Context, req funcapp.HTTPRequest, id string) (funcapp.Result, error) {
	if p, ok := funcapp.CheckJSONRequest(req); !ok {
		return p, nil
	}
	cur, etag, err := h.current(ctx, req, id)
	if err != nil {
		return storeError(err)
	}
	c, _, err := h.decode(req, cur.Contract, id)
	if err != nil {
		return funcapp.ValidationProblem(err), nil
	}
	deletedAt := cur.DeletedAt
	if c.Status != contracts.StatusEnded {
		deletedAt = ""
	}
	newTag, err := h.store.Replace(ctx, c, deletedAt, etag)
	if err != nil {
		return storeError(err)
	}
	return h.respond(200, contracts.Stored{Contract: c, ETag: newTag, DeletedAt: deletedAt}), nil
}

func (h *Handler) delete(ctx context.Context, req funcapp.HTTPRequest, id string) (funcapp.Result, error) {
	cur, etag, err := h.current(ctx, req, id)
	if err != nil {
		return storeError(err)
	}
	if cur.DeletedAt != "" {
		return h.respond(200, cur), nil // already deleted: nothing to do
	}
	c := cur.Contract
	c.Status = contracts.StatusEnded
	deletedAt := h.now().UTC().Format(time.RFC3339)
	newTag, err := h.store.Replace(ctx, c, deletedAt, etag)
	if err != nil {
		return storeError(err)
	}
	return h.respond(200, contracts.Stored{Contract: c, ETag: newTag, DeletedAt: deletedAt}), nil
}

func (h *Handler) list(ctx context.Context, req funcapp.HTTPRequest) (funcapp.Result, error) {
	var errs []error
	size := h.cfg.DefaultPageSize
	if v := req.Query["pageSize"]; v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > h.cfg.MaxPageSize {
			errs = append(errs, funcapp.FieldError{Field: "pageSize", Detail: "must be a whole number from 1 to " + strconv.Itoa(h.cfg.MaxPageSize)})
		}
		size = n
	}
	within := -1
	if v := req.Query["expiringWithinDays"]; v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 3660 {
			errs = append(errs, funcapp.FieldError{Field: "expiringWithinDays", Detail: "must be a whole number of days from 0 to 3660"})
		}
		within = n
	}
	status := contracts.Status(req.Query["status"])
	switch status {
	case "", contracts.StatusActive, contracts.StatusInExit, contracts.StatusRenewed, contracts.StatusEnded:
	default:
		errs = append(errs, funcapp.FieldError{Field: "status", Detail: "must be active, in-exit, renewed or ended"})
	}
	after := req.Query["after"]
	if after != "" && !contracts.ValidID(after) {
		errs = append(errs, funcapp.FieldError{Field: "after", Detail: "is not a cursor from a previous page"})
	}
	if len(errs) > 0 {
		return funcapp.ValidationProblem(errors.Join(errs...)), nil
	}
	area := req.Query["serviceArea"]
	today := ukdates.LondonDate(h.now())
	page := ListPage{Items: []View{}}
	err := h.store.List(ctx, after, func(s contracts.Stored) error {
		if area != "" && !strings.EqualFold(s.ServiceArea, area) || status != "" && s.Status != status {
			return nil
		}
		if within >= 0 {
			end, _ := s.TermEnd(today)
			if d := today.DaysUntil(end); d < 0 || d > within || s.Status == contracts.StatusEnded {
				return nil
			}
		}
		if len(page.Items) == size {
			page.Next = page.Items[size-1].ID
			return contracts.ErrStop
		}
		page.Items = append(page.Items, h.view(s))
		return nil
	})
	if err != nil {
		return funcapp.Result{}, err
	}
	return funcapp.JSON(200, page), nil
}
