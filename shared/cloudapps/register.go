package cloudapps

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/council-ict/govkit/shared/funcapp"
)

// Table is the register's table. Each application has two entities, so
// that the harvest and people never write the same entity: the harvested
// facts (partition PartitionEntra) and the IG record (partition PartitionIG),
// both with the application id as row key.
const (
	Table          = "cloudapps"
	PartitionEntra = "entra"
	PartitionIG    = "ig"
)

// Entry is the harvested facts about one application, as stored. Lists are
// stored as JSON text (Azure Tables has no list type). Only CloudAppHarvest
// writes it.
type Entry struct {
	PartitionKey           string `json:"PartitionKey"`
	RowKey                 string `json:"RowKey"` // appId
	ObjectID               string `json:"objectId"`
	DisplayName            string `json:"displayName"`
	AppDisplayName         string `json:"appDisplayName,omitempty"`
	ServicePrincipalType   string `json:"servicePrincipalType"`
	Category               string `json:"category"`
	AppOwnerOrganizationID string `json:"appOwnerOrganizationId,omitempty"`
	PublisherName          string `json:"publisherName,omitempty"`
	VerifiedPublisher      string `json:"verifiedPublisher,omitempty"`
	VerifiedPublisherID    string `json:"verifiedPublisherId,omitempty"`
	SignInAudience         string `json:"signInAudience,omitempty"`
	AccountEnabled         bool   `json:"accountEnabled"`
	Tags                   string `json:"tags,omitempty"`
	EntraNotes             string `json:"entraNotes,omitempty"`
	Homepage               string `json:"homepage,omitempty"`
	MarketingURL           string `json:"marketingUrl,omitempty"`
	PrivacyURL             string `json:"privacyUrl,omitempty"`
	SupportURL             string `json:"supportUrl,omitempty"`
	TermsURL               string `json:"termsUrl,omitempty"`
	CreatedAt              string `json:"createdAt,omitempty"`
	Permissions            string `json:"permissions,omitempty"`
	Owners                 string `json:"owners,omitempty"`
	OwnerCount             int    `json:"ownerCount"`
	Credentials            string `json:"credentials,omitempty"`
	RiskLevel              string `json:"riskLevel"`
	RiskReasons            string `json:"riskReasons,omitempty"`
	// Findings are the keys of the findings now true; Notified those already
	// sent to the IGSG (a finding is sent once per application).
	Findings  string `json:"findings,omitempty"`
	Notified  string `json:"notified,omitempty"`
	FirstSeen string `json:"firstSeen"`
	LastSeen  string `json:"lastSeen"`
	Removed   bool   `json:"removed"`
	RemovedAt string `json:"removedAt,omitempty"`
	// SyncGen is the full synchronisation that last saw the application:
	// after a full resync, entries of an older generation were deleted in
	// Entra while the delta link was not usable.
	SyncGen string `json:"syncGen,omitempty"`
	// NextCheck (RFC 3339 UTC, fixed width) is when a time-based finding can
	// next change; each harvest re-evaluates entries that are due.
	NextCheck string `json:"nextCheck,omitempty"`
}

// TimeLayout is the fixed-width UTC layout of stored times, so that filters
// compare them correctly as strings.
const TimeLayout = "2006-01-02T15:04:05Z"

// FormatTime formats t for storage ("" for the zero time).
func FormatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(TimeLayout)
}

// ParseTime parses a stored time ("" is the zero time).
func ParseTime(s string) time.Time {
	t, _ := time.Parse(time.RFC3339, s)
	return t
}

// Facts returns the entry's facts for the rules.
func (e Entry) Facts() Facts {
	return Facts{AppID: e.RowKey, Category: e.Category, SignInAudience: e.SignInAudience,
		VerifiedPublisher: e.VerifiedPublisher, AccountEnabled: e.AccountEnabled,
		Permissions: e.PermissionList(), OwnerCount: e.OwnerCount, Credentials: e.CredentialList(), Removed: e.Removed}
}

// PermissionList decodes Permissions.
func (e Entry) PermissionList() []Permission {
	var ps []Permission
	if e.Permissions != "" {
		_ = json.Unmarshal([]byte(e.Permissions), &ps)
	}
	return ps
}

// CredentialList decodes Credentials.
func (e Entry) CredentialList() []Credential {
	var cs []Credential
	if e.Credentials != "" {
		_ = json.Unmarshal([]byte(e.Credentials), &cs)
	}
	return cs
}

// OwnerList decodes Owners.
func (e Entry) OwnerList() []Owner {
	var os []Owner
	if e.Owners != "" {
		_ = json.Unmarshal([]byte(e.Owners), &os)
	}
	return os
}

// TagList decodes Tags.
func (e Entry) TagList() []string {
	var ts []string
	if e.Tags != "" {
		_ = json.Unmarshal([]byte(e.Tags), &ts)
	}
	return ts
}

// Keys splits a space-separated key list.
func Keys(s string) []string { return strings.Fields(s) }

// JoinKeys joins keys, sorted and deduplicated, for storage.
func JoinKeys(keys []string) string {
	sort.Strings(keys)
	out := keys[:0]
	for i, k := range keys {
		if i == 0 || k != keys[i-1] {
			out = append(out, k)
		}
	}
	return strings.Join(out, " ")
}

func mustJSON(v any) string {
	if v == nil {
		return ""
	}
	b, _ := json.Marshal(v)
	if string(b) == "null" || string(b) == "[]" {
		return ""
	}
	return string(b)
}

// Harvested is everything one harvest learned about an application.
type Harvested struct {
	SP          ServicePrincipal
	Children    Children
	Permissions []Permission
}

// NewEntry builds the facts entity for a harvested application, carrying
// over from prev (nil for a new application) what the harvest does not
// learn: when it was first seen and what was already notified.
func NewEntry(h Harvested, councilTenant string, prev *Entry, now time.Time) Entry {
	sp := h.SP
	e := Entry{PartitionKey: PartitionEntra, RowKey: sp.AppID, ObjectID: sp.ID, DisplayName: sp.DisplayName,
		AppDisplayName: sp.AppDisplayName, ServicePrincipalType: sp.Type, Category: Classify(sp, councilTenant),
		AppOwnerOrganizationID: sp.AppOwnerOrganizationID, PublisherName: sp.PublisherName,
		VerifiedPublisher: sp.VerifiedPublisher, VerifiedPublisherID: sp.VerifiedPublisherID,
		SignInAudience: sp.SignInAudience, AccountEnabled: sp.AccountEnabled, Tags: mustJSON(sp.Tags),
		EntraNotes: truncate(sp.Notes, 1024), Homepage: sp.Homepage, MarketingURL: sp.MarketingURL,
		PrivacyURL: sp.PrivacyURL, SupportURL: sp.SupportURL, TermsURL: sp.TermsURL,
		CreatedAt: FormatTime(sp.CreatedAt), Permissions: mustJSON(h.Permissions),
		Owners: mustJSON(h.Children.Owners), OwnerCount: len(h.Children.Owners),
		Credentials: mustJSON(sp.Credentials), FirstSeen: FormatTime(now), LastSeen: FormatTime(now)}
	if prev != nil {
		e.FirstSeen = prev.FirstSeen
		e.Notified = prev.Notified
		e.SyncGen = prev.SyncGen
	}
	return e
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// Data locations, personal data, agreement states, review states and data
// classifications an IG record may hold.
const (
	LocationUK        = "uk"
	LocationEEA       = "eea"
	LocationAdequacy  = "adequacy"
	LocationOther     = "other"
	LocationUnknown   = "unknown"
	PersonalNone      = "none"
	PersonalSome      = "some"
	PersonalSpecial   = "special-category"
	AgreementYes      = "yes"
	AgreementNo       = "no"
	AgreementNA       = "n/a"
	ReviewNotReviewed = "not-reviewed"
	ReviewInReview    = "in-review"
	ReviewApproved    = "approved"
	ReviewRejected    = "rejected"
)

// IG is the information-governance record of one application: the fields
// only people can supply. Only the CloudApps API writes it, with ETags.
type IG struct {
	PartitionKey       string `json:"PartitionKey"`
	RowKey             string `json:"RowKey"`
	DataLocation       string `json:"dataLocation,omitempty"`
	DataLocationDetail string `json:"dataLocationDetail,omitempty"`
	PersonalData       string `json:"personalData,omitempty"`
	PersonalDataDetail string `json:"personalDataDetail,omitempty"`
	AgreementInPlace   string `json:"agreementInPlace,omitempty"`
	AgreementDate      string `json:"agreementDate,omitempty"`
	AgreementRef       string `json:"agreementRef,omitempty"`
	ContractID         string `json:"contractId,omitempty"`
	BusinessOwner      string `json:"businessOwner,omitempty"`
	ReviewStatus       string `json:"reviewStatus,omitempty"`
	LastReviewed       string `json:"lastReviewed,omitempty"`
	ReviewDate         string `json:"reviewDate,omitempty"`
	ReviewedBy         string `json:"reviewedBy,omitempty"`
	DPIARef            string `json:"dpiaRef,omitempty"`
	Classification     string `json:"classification,omitempty"`
	TerminationDate    string `json:"terminationDate,omitempty"`
	Notes              string `json:"notes,omitempty"`
	UpdatedAt          string `json:"updatedAt,omitempty"`
	// UpdatedBy is who made the last change: the caller's Entra object id,
	// or "sharepoint:<list>" for edits that came from a list form.
	UpdatedBy string `json:"updatedBy,omitempty"`
}

type igField struct {
	get     func(*IG) *string
	allowed []string // enum; nil for text or date
	date    bool
	max     int
}

var igFields = map[string]igField{
	"dataLocation":       {get: func(g *IG) *string { return &g.DataLocation }, allowed: []string{LocationUK, LocationEEA, LocationAdequacy, LocationOther, LocationUnknown}},
	"dataLocationDetail": {get: func(g *IG) *string { return &g.DataLocationDetail }, max: 500},
	"personalData":       {get: func(g *IG) *string { return &g.PersonalData }, allowed: []string{PersonalNone, PersonalSome, PersonalSpecial}},
	"personalDataDetail": {get: func(g *IG) *string { return &g.PersonalDataDetail }, max: 2000},
	"agreementInPlace":   {get: func(g *IG) *string { return &g.AgreementInPlace }, allowed: []string{AgreementYes, AgreementNo, AgreementNA}},
	"agreementDate":      {get: func(g *IG) *string { return &g.AgreementDate }, date: true},
	"agreementRef":       {get: func(g *IG) *string { return &g.AgreementRef }, max: 200},
	"contractId":         {get: func(g *IG) *string { return &g.ContractID }, max: 100},
	"businessOwner":      {get: func(g *IG) *string { return &g.BusinessOwner }, max: 200},
	"reviewStatus":       {get: func(g *IG) *string { return &g.ReviewStatus }, allowed: []string{ReviewNotReviewed, ReviewInReview, ReviewApproved, ReviewRejected}},
	"lastReviewed":       {get: func(g *IG) *string { return &g.LastReviewed }, date: true},
	"reviewDate":         {get: func(g *IG) *string { return &g.ReviewDate }, date: true},
	"reviewedBy":         {get: func(g *IG) *string { return &g.ReviewedBy }, max: 200},
	"dpiaRef":            {get: func(g *IG) *string { return &g.DPIARef }, max: 200},
	"classification":     {get: func(g *IG) *string { return &g.Classification }, allowed: []string{"official", "official-sensitive", "secret", "top-secret"}},
	"terminationDate":    {get: func(g *IG) *string { return &g.TerminationDate }, date: true},
	"notes":              {get: func(g *IG) *string { return &g.Notes }, max: 4000},
}

// IGFieldNames lists the fields a PATCH may set, sorted.
func IGFieldNames() []string {
	names := make([]string, 0, len(igFields))
	for n := range igFields {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// ApplyPatch applies a JSON merge patch (RFC 7396) of IG fields to g: a
// field set to a string replaces it, null clears it, an absent field is
// kept. It checks every field first and changes nothing unless all are
// valid; the error joins one funcapp.FieldError per bad field.
func ApplyPatch(g *IG, patch map[string]json.RawMessage) error {
	var errs []error
	vals := map[string]string{}
	names := make([]string, 0, len(patch))
	for n := range patch {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		raw := patch[name]
		f, ok := igFields[name]
		if !ok {
			detail := "is not an IG field; the fields people can edit are " + strings.Join(IGFieldNames(), ", ")
			errs = append(errs, funcapp.FieldError{Field: name, Detail: detail})
			continue
		}
		if string(raw) == "null" {
			vals[name] = ""
			continue
		}
		var v string
		if err := json.Unmarshal(raw, &v); err != nil {
			errs = append(errs, funcapp.FieldError{Field: name, Detail: "must be a string or null"})
			continue
		}
		v = strings.TrimSpace(v)
		switch {
		case f.allowed != nil && v != "" && !contains(f.allowed, v):
			errs = append(errs, funcapp.FieldError{Field: name, Detail: "must be one of " + strings.Join(f.allowed, ", ")})
			continue
		case f.date && v != "":
			if _, err := time.Parse(time.DateOnly, v); err != nil {
				errs = append(errs, funcapp.FieldError{Field: name, Detail: "must be a date as YYYY-MM-DD"})
				continue
			}
		case f.max > 0 && utf8.RuneCountInString(v) > f.max:
			errs = append(errs, funcapp.FieldError{Field: name, Detail: fmt.Sprintf("must be at most %d characters", f.max)})
			continue
		}
		vals[name] = v
	}
	if len(errs) == 0 && len(patch) == 0 {
		errs = append(errs, funcapp.FieldError{Field: "body", Detail: "name at least one IG field to change"})
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	for name, v := range vals {
		*igFields[name].get(g) = v
	}
	return nil
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// Flags a register entry can carry.
const (
	FlagNew        = "new"
	FlagRisky      = "risky"
	FlagUnreviewed = "unreviewed"
	FlagRemoved    = "removed"
)

// NewWindow is how long an application counts as new after it first
// appears.
const NewWindow = 30 * 24 * time.Hour

// Flags returns the entry's flags at now: new (first seen within NewWindow),
// risky (high risk), unreviewed (no IG review recorded, or the next review
// date has passed), removed (deleted in Entra).
func Flags(e Entry, ig *IG, now time.Time) []string {
	var fs []string
	if first := ParseTime(e.FirstSeen); !first.IsZero() && now.Sub(first) < NewWindow && !e.Removed {
		fs = append(fs, FlagNew)
	}
	if e.RiskLevel == PrivilegeHigh && !e.Removed {
		fs = append(fs, FlagRisky)
	}
	if !e.Removed && (ig == nil || ig.LastReviewed == "" || (ig.ReviewDate != "" && ig.ReviewDate < now.UTC().Format(time.DateOnly))) {
		fs = append(fs, FlagUnreviewed)
	}
	if e.Removed {
		fs = append(fs, FlagRemoved)
	}
	return fs
}
