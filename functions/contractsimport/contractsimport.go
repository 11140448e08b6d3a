// Package contractsimport is the ContractsImport function: POST
// /api/contracts:import with a text/csv body imports contracts into the
// register, all or nothing.
//
// It is a function of its own because the Contracts route template
// "contracts/{id?}" matches path segments, and "contracts:import" is one
// segment that is not "contracts"; the literal route "contracts:import"
// matches it in the Functions host (ASP.NET Core routing: ':' is an ordinary
// character in a literal segment) and in the local host alike.
//
// The file is parsed and every row validated before anything is written; one
// bad row rejects the file with 400 and a report of every bad row by line.
// Valid files are written with table transactions of 100 rows (the minimum
// number); ?dryRun=true validates only.
package contractsimport

import (
	"context"
	"errors"
	"mime"
	"strings"
	"time"

	"github.com/council-ict/govkit/shared/contracts"
	"github.com/council-ict/govkit/shared/funcapp"
	"github.com/council-ict/govkit/shared/store"
	"github.com/rs/zerolog"
)

// Importer writes a validated file (*contracts.Register).
type Importer interface {
	Import(ctx context.Context, cs []contracts.Contract) (store.BatchStats, error)
}

// Handler serves the ContractsImport function.
type Handler struct {
	imp Importer
	now func() time.Time
}

// New returns the function.
func New(imp Importer) (*Handler, error) {
	if imp == nil {
		return nil, errors.New("contractsimport: no importer")
	}
	return &Handler{imp: imp, now: time.Now}, nil
}

// Report is the answer to an import.
type Report struct {
	Imported     int  `json:"imported"`
	Transactions int  `json:"transactions"`
	DryRun       bool `json:"dryRun,omitempty"`
}

// Rejection is the 400 body for a bad file: problem details plus every bad
// row.
type Rejection struct {
	Type   string               `json:"type"`
	Title  string               `json:"title"`
	Status int                  `json:"status"`
	Detail string               `json:"detail"`
	Rows   []contracts.RowError `json:"rows"`
}

// Invoke serves one request.
func (h *Handler) Invoke(ctx context.Context, inv funcapp.Invocation) (funcapp.Result, error) {
	return funcapp.HTTPHandler(h.serve).Invoke(ctx, inv)
}

func (h *Handler) serve(ctx context.Context, req funcapp.HTTPRequest) (funcapp.Result, error) {
	start := h.now()
	if req.Method != "POST" {
		return funcapp.Problem(405, "Method not allowed", "POST a CSV file", ""), nil
	}
	mt, _, _ := mime.ParseMediaType(req.Header("Content-Type"))
	if mt != "text/csv" && mt != "application/csv" {
		return funcapp.ValidationProblem(funcapp.FieldError{Field: "Content-Type", Detail: "must be text/csv"}), nil
	}
	cs, err := contracts.ParseCSV(req.Body)
	var ie *contracts.ImportError
	if errors.As(err, &ie) {
		zerolog.Ctx(ctx).Info().Int("badRows", len(ie.Rows)).Msg("contracts import rejected")
		res := funcapp.JSON(400, Rejection{Type: "about:blank", Title: "The CSV file was not imported", Status: 400,
			Detail: ie.Error() + "; nothing was written", Rows: ie.Rows})
		out := res.Outputs[funcapp.HTTPOutputBinding].(funcapp.HTTPOutput)
		out.Headers["Content-Type"] = "application/problem+json"
		res.Outputs[funcapp.HTTPOutputBinding] = out
		return res, nil
	}
	if err != nil {
		return funcapp.Result{}, err
	}
	rep := Report{Imported: len(cs)}
	if strings.EqualFold(req.Query["dryRun"], "true") {
		rep.DryRun = true
		return funcapp.JSON(200, rep), nil
	}
	st, err := h.imp.Import(ctx, cs)
	if err != nil {
		return funcapp.Result{}, err
	}
	rep.Transactions = st.Transactions
	zerolog.Ctx(ctx).Info().Int("contracts", len(cs)).Int("transactions", st.Transactions).
		Dur("duration", h.now().Sub(start)).Msg("contracts imported")
	return funcapp.JSON(200, rep), nil
}
