package cloudapps

import (
	"context"
	"errors"
	"slices"
	"sort"
	"strings"

	ca "github.com/council-ict/govkit/shared/cloudapps"
	"github.com/council-ict/govkit/shared/erasure"
	"github.com/council-ict/govkit/shared/funcapp"
	"github.com/council-ict/govkit/shared/store"
	"github.com/rs/zerolog"
)

// Actions on one application (the route's {action} segment).
const (
	ActionErasureEvidence = "erasure-evidence"
	ActionErasure         = "erasure"
)

type erasureTables struct {
	checks   *store.Table[erasure.CheckRow]
	results  *store.Table[erasure.ResultRow]
	evidence *store.Table[erasure.EvidenceRow]
}

func (t erasureTables) names() []string {
	return []string{t.checks.Name(), t.results.Name(), t.evidence.Name()}
}

// SetErasureTables names the erasure tables (empty: the defaults of
// package erasure). Call it before the first request.
func (h *Handler) SetErasureTables(checks, results, evidence string) {
	def := func(s, d string) string {
		if s == "" {
			return d
		}
		return s
	}
	h.erasure = erasureTables{checks: store.NewTable[erasure.CheckRow](h.svc, def(checks, erasure.ChecksTable)),
		results:  store.NewTable[erasure.ResultRow](h.svc, def(results, erasure.ResultsTable)),
		evidence: store.NewTable[erasure.EvidenceRow](h.svc, def(evidence, erasure.EvidenceTable))}
}

func (h *Handler) action(ctx context.Context, appID, action string, req funcapp.HTTPRequest) (funcapp.Result, error) {
	switch {
	case action == ActionErasureEvidence && req.Method == "PUT":
		return h.putEvidence(ctx, appID, req)
	case action == ActionErasure && req.Method == "GET":
		return h.getErasure(ctx, appID)
	case action == ActionErasureEvidence:
		return funcapp.Problem(405, "Method not allowed", "file erasure evidence with PUT", ""), nil
	case action == ActionErasure:
		return funcapp.Problem(405, "Method not allowed", "the erasure checks support GET only", ""), nil
	}
	return funcapp.Problem(404, "Not found", "unknown action "+strings.ToValidUTF8(action, "")+"; use erasure-evidence or erasure", "action"), nil
}

// known reports whether the register has the application (harvested, or an
// IG record for one no longer in Entra).
func (h *Handler) known(ctx context.Context, appID string) (bool, error) {
	if _, err := h.entries.Get(ctx, ca.PartitionEntra, appID); err == nil {
		return true, nil
	} else if !errors.Is(err, store.ErrNotFound) {
		return false, err
	}
	if _, err := h.igs.Get(ctx, ca.PartitionIG, appID); err == nil {
		return true, nil
	} else if !errors.Is(err, store.ErrNotFound) {
		return false, err
	}
	return false, nil
}

// EvidenceView is one filed evidence record.
type EvidenceView struct {
	FiledAt  string           `json:"filedAt"`
	FiledBy  string           `json:"filedBy,omitempty"`
	Status   string           `json:"status"` // complete or incomplete
	Missing  []string         `json:"missing"`
	Evidence erasure.Evidence `json:"evidence"`
}

func evidenceView(r erasure.EvidenceRow) EvidenceView {
	f := r.Filed()
	v := EvidenceView{FiledAt: r.FiledAt, FiledBy: r.FiledBy, Status: "complete", Missing: f.Missing(), Evidence: f.Evidence}
	if len(v.Missing) > 0 {
		v.Status = "incomplete"
	} else {
		v.Missing = []string{}
	}
	return v
}

// putEvidence files a supplier's erasure certificate record. Every filing
// is kept (a later one does not replace an earlier one); malformed fields
// are a 400 naming each; missing fields are accepted and the answer says
// the evidence is incomplete, naming them. The caller's object id is
// recorded.
func (h *Handler) putEvidence(ctx context.Context, appID string, req funcapp.HTTPRequest) (funcapp.Result, error) {
	if ct := strings.ToLower(req.Header("Content-Type")); ct != "" && !strings.HasPrefix(ct, "application/json") {
		return funcapp.Problem(415, "Unsupported media type", "send application/json", "Content-Type"), nil
	}
	e, err := erasure.ParseEvidence(req.Body, h.now())
	if err != nil {
		return funcapp.ValidationProblem(err), nil
	}
	ok, err := h.known(ctx, appID)
	if err != nil {
		return funcapp.Result{}, err
	}
	if !ok {
		return funcapp.Problem(404, "Not in the register", "no application with this id is in the register", "appId"), nil
	}
	who := ""
	if p, ok := funcapp.PrincipalFrom(ctx); ok {
		who = p.ObjectID
	}
	row := erasure.NewEvidenceRow(appID, e, who, h.now())
	if _, err := h.erasure.evidence.Insert(ctx, row); err != nil {
		return funcapp.Result{}, err
	}
	v := evidenceView(row)
	zerolog.Ctx(ctx).Info().Str("appId", appID).Str("status", v.Status).Strs("missing", v.Missing).Msg("erasure evidence filed")
	return funcapp.JSON(201, v), nil
}

// ResultView is one check's result on one day.
type ResultView struct {
	Day       string   `json:"day"`
	Outcome   string   `json:"outcome"`
	Reason    string   `json:"reason,omitempty"`
	Missing   []string `json:"missing,omitempty"`
	Detail    []string `json:"detail,omitempty"`
	CheckedAt string   `json:"checkedAt"`
}

// CheckView is one check: its latest result and its history, newest first.
type CheckView struct {
	Check   string       `json:"check"`
	Latest  ResultView   `json:"latest"`
	History []ResultView `json:"history"`
}

// OverallView is the application's overall erasure status.
type OverallView struct {
	Status            string   `json:"status"`
	Since             string   `json:"since"`
	TerminationDate   string   `json:"terminationDate"`
	TerminationSource string   `json:"terminationSource"`
	Deadline          string   `json:"deadline"`
	CompliantOn       string   `json:"compliantOn,omitempty"`
	Reasons           []string `json:"reasons"`
	LastRun           string   `json:"lastRun"`
}

// ErasureView answers GET /api/cloudapps/{appId}/erasure.
type ErasureView struct {
	AppID string `json:"appId"`
	// Overall is null until DataErasureChecks has checked the application.
	Overall  *OverallView   `json:"overall"`
	Checks   []CheckView    `json:"checks"`
	Evidence []EvidenceView `json:"evidence"`
}

func (h *Handler) getErasure(ctx context.Context, appID string) (funcapp.Result, error) {
	v := ErasureView{AppID: appID, Checks: []CheckView{}, Evidence: []EvidenceView{}}
	rec, err := h.erasure.checks.Get(ctx, erasure.ChecksPartition, appID)
	switch {
	case err == nil:
		r := rec.Value
		v.Overall = &OverallView{Status: r.OverallStatus, Since: r.Since, TerminationDate: r.TerminationDate,
			TerminationSource: r.TerminationSource, Deadline: r.Deadline, CompliantOn: r.CompliantOn, LastRun: r.LastRun, Reasons: []string{}}
		if r.Reasons != "" {
			v.Overall.Reasons = strings.Split(r.Reasons, "; ")
		}
	case !errors.Is(err, store.ErrNotFound):
		return funcapp.Result{}, err
	default:
		ok, err := h.known(ctx, appID)
		if err != nil {
			return funcapp.Result{}, err
		}
		if !ok {
			return funcapp.Problem(404, "Not in the register", "no application with this id is in the register", "appId"), nil
		}
	}
	byCheck := map[string][]ResultView{}
	err = h.erasure.results.Query(ctx, store.PartitionFilter(appID), func(r store.Record[erasure.ResultRow]) error {
		res := r.Value.Result()
		byCheck[res.Check] = append(byCheck[res.Check], ResultView{Day: r.Value.Day, Outcome: res.Outcome, Reason: res.Reason,
			Missing: res.Missing, Detail: res.Detail, CheckedAt: r.Value.CheckedAt})
		return nil
	})
	if err != nil {
		return funcapp.Result{}, err
	}
	checks := make([]string, 0, len(byCheck))
	for c := range byCheck {
		checks = append(checks, c)
	}
	sort.Slice(checks, func(i, j int) bool {
		a, b := slices.Index(erasure.AllChecks, checks[i]), slices.Index(erasure.AllChecks, checks[j])
		if a != b {
			return a < b
		}
		return checks[i] < checks[j]
	})
	for _, c := range checks {
		hist := byCheck[c]
		sort.Slice(hist, func(i, j int) bool { return hist[i].Day > hist[j].Day })
		v.Checks = append(v.Checks, CheckView{Check: c, Latest: hist[0], History: hist})
	}
	err = h.erasure.evidence.Query(ctx, store.PartitionFilter(appID), func(r store.Record[erasure.EvidenceRow]) error {
		v.Evidence = append(v.Evidence, evidenceView(r.Value))
		return nil
	})
	if err != nil {
		return funcapp.Result{}, err
	}
	slices.Reverse(v.Evidence) // newest first
	return funcapp.JSON(200, v), nil
}
