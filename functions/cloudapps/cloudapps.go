// Package cloudapps is the CloudApps function: the HTTP API of the cloud
// application register.
//
//	GET   /api/cloudapps            list, filtered and paged
//	GET   /api/cloudapps/{appId}    one application, with its IG record's ETag
//	PATCH /api/cloudapps/{appId}    change IG fields (JSON merge patch, If-Match)
//	PUT   /api/cloudapps/{appId}/erasure-evidence  file a supplier's erasure certificate record (erasure.go)
//	GET   /api/cloudapps/{appId}/erasure           every erasure check's latest result and history
//
// People can change only the IG fields; the harvested facts are read-only
// here, and the harvest never writes the IG record.
package cloudapps

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	ca "github.com/council-ict/govkit/shared/cloudapps"
	"github.com/council-ict/govkit/shared/funcapp"
	"github.com/council-ict/govkit/shared/store"
	"github.com/rs/zerolog"
)

// Name is the function name.
const Name = "CloudApps"

// Page sizes of the list.
const (
	DefaultLimit = 50
	MaxLimit     = 200
)

// Handler is the CloudApps function.
type Handler struct {
	table   string
	once    sync.Once
	onceErr error
	svc     *store.Service
	entries *store.Table[ca.Entry]
	igs     *store.Table[ca.IG]
	now     func() time.Time
	erasure erasureTables // erasure.go
}

// New builds the function over the register table (ca.Table when empty).
// It performs no I/O.
func New(svc *store.Service, table string) (*Handler, error) {
	if svc == nil {
		return nil, errors.New("cloudapps: no table service")
	}
	if table == "" {
		table = ca.Table
	}
	h := &Handler{table: table, svc: svc, entries: store.NewTable[ca.Entry](svc, table), igs: store.NewTable[ca.IG](svc, table), now: time.Now}
	h.SetErasureTables("", "", "")
	return h, nil
}

// Invoke serves one request.
func (h *Handler) Invoke(ctx context.Context, inv funcapp.Invocation) (funcapp.Result, error) {
	return funcapp.HTTPHandler(h.serve).Invoke(ctx, inv)
}

func (h *Handler) serve(ctx context.Context, req funcapp.HTTPRequest) (funcapp.Result, error) {
	h.once.Do(func() { h.onceErr = h.svc.EnsureTables(ctx, append([]string{h.table}, h.erasure.names()...)...) })
	if h.onceErr != nil {
		return funcapp.Result{}, h.onceErr
	}
	appID := req.Params["appId"]
	switch {
	case appID == "" && req.Method == "GET":
		return h.list(ctx, req)
	case appID == "":
		return funcapp.Problem(405, "Method not allowed", "the register list supports GET only", ""), nil
	case store.ValidateKeys(ca.PartitionEntra, appID) != nil:
		return funcapp.Problem(400, "Invalid application id", "the application id contains characters that cannot be an id", "appId"), nil
	case req.Params["action"] != "":
		return h.action(ctx, appID, req.Params["action"], req)
	case req.Method == "GET":
		return h.get(ctx, appID)
	case req.Method == "PATCH":
		return h.patch(ctx, appID, req)
	}
	return funcapp.Problem(405, "Method not allowed", "use GET or PATCH", ""), nil
}

// Risk is an application's risk in a View.
type Risk struct {
	Level   string   `json:"level"`
	Reasons []string `json:"reasons,omitempty"`
}

// View is one register entry as the API shows it.
type View struct {
	AppID                  string            `json:"appId"`
	ObjectID               string            `json:"objectId"`
	DisplayName            string            `json:"displayName"`
	Category               string            `json:"category"`
	ServicePrincipalType   string            `json:"servicePrincipalType"`
	AppOwnerOrganizationID string            `json:"appOwnerOrganizationId,omitempty"`
	VerifiedPublisher      string            `json:"verifiedPublisher,omitempty"`
	SignInAudience         string            `json:"signInAudience,omitempty"`
	AccountEnabled         bool              `json:"accountEnabled"`
	Tags                   []string          `json:"tags,omitempty"`
	EntraNotes             string            `json:"entraNotes,omitempty"`
	Homepage               string            `json:"homepage,omitempty"`
	MarketingURL           string            `json:"marketingUrl,omitempty"`
	PrivacyURL             string            `json:"privacyUrl,omitempty"`
	SupportURL             string            `json:"supportUrl,omitempty"`
	TermsURL               string            `json:"termsUrl,omitempty"`
	CreatedAt              string            `json:"createdAt,omitempty"`
	Permissions            []ca.Permission   `json:"permissions"`
	Owners                 []ca.Owner        `json:"owners"`
	Credentials            []ca.Credential   `json:"credentials"`
	Risk                   Risk              `json:"risk"`
	Findings               []string          `json:"findings"`
	Flags                  []string          `json:"flags"`
	FirstSeen              string            `json:"firstSeen"`
	LastSeen               string            `json:"lastSeen"`
	Removed                bool              `json:"removed"`
	RemovedAt              string            `json:"removedAt,omitempty"`
	IG                     map[string]string `json:"ig"`
	IGETag                 string            `json:"igEtag,omitempty"`
}

func (h *Handler) view(e ca.Entry, ig *ca.IG, etag azcore.ETag) View {
	v := View{AppID: e.RowKey, ObjectID: e.ObjectID, DisplayName: e.DisplayName, Category: e.Category,
		ServicePrincipalType: e.ServicePrincipalType, AppOwnerOrganizationID: e.AppOwnerOrganizationID,
		VerifiedPublisher: e.VerifiedPublisher, SignInAudience: e.SignInAudience, AccountEnabled: e.AccountEnabled,
		Tags: e.TagList(), EntraNotes: e.EntraNotes, Homepage: e.Homepage, MarketingURL: e.MarketingURL,
		PrivacyURL: e.PrivacyURL, SupportURL: e.SupportURL, TermsURL: e.TermsURL, CreatedAt: e.CreatedAt,
		Permissions: e.PermissionList(), Owners: e.OwnerList(), Credentials: e.CredentialList(),
		Risk: Risk{Level: e.RiskLevel, Reasons: ca.Keys(e.RiskReasons)}, Findings: ca.Keys(e.Findings),
		Flags: ca.Flags(e, ig, h.now()), FirstSeen: e.FirstSeen, LastSeen: e.LastSeen, Removed: e.Removed,
		RemovedAt: e.RemovedAt, IG: igMap(ig), IGETag: string(etag)}
	if v.Permissions == nil {
		v.Permissions = []ca.Permission{}
	}
	if v.Owners == nil {
		v.Owners = []ca.Owner{}
	}
	if v.Credentials == nil {
		v.Credentials = []ca.Credential{}
	}
	if v.Findings == nil {
		v.Findings = []string{}
	}
	if v.Flags == nil {
		v.Flags = []string{}
	}
	return v
}

// igMap shows the IG fields, without the table keys.
func igMap(ig *ca.IG) map[string]string {
	out := map[string]string{}
	if ig == nil {
		return out
	}
	b, _ := json.Marshal(ig)
	_ = json.Unmarshal(b, &out)
	delete(out, "PartitionKey")
	delete(out, "RowKey")
	return out
}

func withETag(res funcapp.Result, etag azcore.ETag) funcapp.Result {
	if etag == "" {
		return res
	}
	if o, ok := res.Outputs[funcapp.HTTPOutputBinding].(funcapp.HTTPOutput); ok {
		o.Headers["ETag"] = string(etag)
		res.Outputs[funcapp.HTTPOutputBinding] = o
	}
	return res
}

func (h *Handler) get(ctx context.Context, appID string) (funcapp.Result, error) {
	rec, err := h.entries.Get(ctx, ca.PartitionEntra, appID)
	if errors.Is(err, store.ErrNotFound) {
		return funcapp.Problem(404, "Not in the register", "no application with this id has been harvested", "appId"), nil
	}
	if err != nil {
		return funcapp.Result{}, err
	}
	ig, etag, err := h.ig(ctx, appID)
	if err != nil {
		return funcapp.Result{}, err
	}
	return withETag(funcapp.JSON(200, h.view(rec.Value, ig, etag)), etag), nil
}

func (h *Handler) ig(ctx context.Context, appID string) (*ca.IG, azcore.ETag, error) {
	rec, err := h.igs.Get(ctx, ca.PartitionIG, appID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, "", nil
	}
	if err != nil {
		return nil, "", err
	}
	return &rec.Value, rec.ETag, nil
}

// ListResponse is a page of the register.
type ListResponse struct {
	Items []View `json:"items"`
	// Next is the "after" value of the next page; empty on the last page.
	Next string `json:"next,omitempty"`
}

var errPageFull = errors.New("page full")

var (
	allowedFlags      = []string{ca.FlagNew, ca.FlagRisky, ca.FlagUnreviewed, ca.FlagRemoved}
	allowedCategories = []string{ca.CategoryMicrosoft, ca.CategoryCouncil, ca.CategoryThirdParty, ca.CategoryManagedIdentity}
	allowedRisks      = []string{ca.PrivilegeHigh, ca.PrivilegeMedium, ca.PrivilegeLow}
)

func oneOf(v string, allowed []string) bool {
	for _, a := range allowed {
		if a == v {
			return true
		}
	}
	return false
}

// list answers GET /api/cloudapps?flag=new,risky&category=third-party&risk=high&newSince=2026-01-01&limit=50&after=<appId>.
// Several flags must all hold. Removed applications are listed only with
// flag=removed.
func (h *Handler) list(ctx context.Context, req funcapp.HTTPRequest) (funcapp.Result, error) {
	q := req.Query
	var errs []error
	var flags []string
	for _, f := range strings.Split(q["flag"], ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		if !oneOf(f, allowedFlags) {
			errs = append(errs, funcapp.FieldError{Field: "flag", Detail: "must be one or more of " + strings.Join(allowedFlags, ", ")})
			break
		}
		flags = append(flags, f)
	}
	category, risk := q["category"], q["risk"]
	if category != "" && !oneOf(category, allowedCategories) {
		errs = append(errs, funcapp.FieldError{Field: "category", Detail: "must be one of " + strings.Join(allowedCategories, ", ")})
	}
	if risk != "" && !oneOf(risk, allowedRisks) {
		errs = append(errs, funcapp.FieldError{Field: "risk", Detail: "must be one of " + strings.Join(allowedRisks, ", ")})
	}
	var newSince string
	if s := q["newSince"]; s != "" {
		t, err := time.Parse(time.DateOnly, s)
		if err != nil {
			errs = append(errs, funcapp.FieldError{Field: "newSince", Detail: "must be a date as YYYY-MM-DD"})
		}
		newSince = ca.FormatTime(t)
	}
	limit := DefaultLimit
	if s := q["limit"]; s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > MaxLimit {
			errs = append(errs, funcapp.FieldError{Field: "limit", Detail: fmt.Sprintf("must be a whole number from 1 to %d", MaxLimit)})
		}
		limit = n
	}
	after := q["after"]
	if after != "" && store.ValidateKeys(ca.PartitionEntra, after) != nil {
		errs = append(errs, funcapp.FieldError{Field: "after", Detail: "is not a value from a previous page's next"})
	}
	if len(errs) > 0 {
		return funcapp.ValidationProblem(errors.Join(errs...)), nil
	}
	// IG records are few: one per application people have worked on.
	igs := map[string]*ca.IG{}
	err := h.igs.Query(ctx, store.PartitionFilter(ca.PartitionIG), func(r store.Record[ca.IG]) error {
		v := r.Value
		igs[v.RowKey] = &v
		return nil
	})
	if err != nil {
		return funcapp.Result{}, err
	}
	filter := store.PartitionFilter(ca.PartitionEntra)
	if after != "" {
		filter += " and RowKey gt " + store.Quote(after)
	}
	if oneOf(ca.FlagRemoved, flags) {
		filter += " and removed eq true"
	} else {
		filter += " and removed eq false"
	}
	if category != "" {
		filter += " and category eq " + store.Quote(category)
	}
	if risk != "" {
		filter += " and riskLevel eq " + store.Quote(risk)
	}
	if newSince != "" {
		filter += " and firstSeen ge " + store.Quote(newSince)
	}
	now := h.now()
	resp := ListResponse{Items: []View{}}
	err = h.entries.Query(ctx, filter, func(r store.Record[ca.Entry]) error {
		ig := igs[r.Value.RowKey]
		have := ca.Flags(r.Value, ig, now)
		for _, f := range flags {
			if !oneOf(f, have) {
				return nil
			}
		}
		if len(resp.Items) == limit {
			resp.Next = resp.Items[len(resp.Items)-1].AppID
			return errPageFull
		}
		resp.Items = append(resp.Items, h.view(r.Value, ig, ""))
		return nil
	})
	if err != nil && !errors.Is(err, errPageFull) {
		return funcapp.Result{}, err
	}
	return funcapp.JSON(200, resp), nil
}

// patch applies a JSON merge patch of IG fields. The IG record's ETag must
// be sent as If-Match once the record exists; a stale one is 412.
func (h *Handler) patch(ctx context.Context, appID string, req funcapp.HTTPRequest) (funcapp.Result, error) {
	if ct := strings.ToLower(req.Header("Content-Type")); ct != "" && !strings.HasPrefix(ct, "application/json") && !strings.HasPrefix(ct, "application/merge-patch+json") {
		return funcapp.Problem(415, "Unsupported media type", "send application/merge-patch+json or application/json", "Content-Type"), nil
	}
	var patch map[string]json.RawMessage
	if err := funcapp.DecodeJSON(req.Body, &patch); err != nil {
		return funcapp.ValidationProblem(err), nil
	}
	rec, err := h.entries.Get(ctx, ca.PartitionEntra, appID)
	if errors.Is(err, store.ErrNotFound) {
		return funcapp.Problem(404, "Not in the register", "no application with this id has been harvested", "appId"), nil
	}
	if err != nil {
		return funcapp.Result{}, err
	}
	ig, etag, err := h.ig(ctx, appID)
	if err != nil {
		return funcapp.Result{}, err
	}
	ifMatch := strings.TrimSpace(req.Header("If-Match"))
	switch {
	case ig == nil && ifMatch != "" && ifMatch != "*":
		return stale(), nil
	case ig != nil && ifMatch == "":
		return funcapp.Problem(428, "Precondition required", "send the igEtag from GET as If-Match, so that no one else's change is overwritten", "If-Match"), nil
	case ig != nil && ifMatch != "*" && ifMatch != string(etag):
		return stale(), nil
	}
	next := ca.IG{PartitionKey: ca.PartitionIG, RowKey: appID}
	if ig != nil {
		next = *ig
	}
	if err := ca.ApplyPatch(&next, patch); err != nil {
		return funcapp.ValidationProblem(err), nil
	}
	next.UpdatedAt = ca.FormatTime(h.now())
	next.UpdatedBy = "system"
	if p, ok := funcapp.PrincipalFrom(ctx); ok && p.ObjectID != "" {
		next.UpdatedBy = p.ObjectID
	}
	var newTag azcore.ETag
	if ig == nil {
		newTag, err = h.igs.Insert(ctx, next)
	} else {
		newTag, err = h.igs.Update(ctx, next, etag)
	}
	if errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrPreconditionFailed) || errors.Is(err, store.ErrNotFound) {
		return stale(), nil
	}
	if err != nil {
		return funcapp.Result{}, err
	}
	fields := make([]string, 0, len(patch))
	for k := range patch {
		fields = append(fields, k)
	}
	zerolog.Ctx(ctx).Info().Str("appId", appID).Strs("fields", fields).Msg("IG record changed")
	return withETag(funcapp.JSON(200, h.view(rec.Value, &next, newTag)), newTag), nil
}

func stale() funcapp.Result {
	return funcapp.Problem(412, "Changed since you read it", "someone else changed this record; GET it again and reapply your change", "If-Match")
}
