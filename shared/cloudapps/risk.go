package cloudapps

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// Categories of application.
const (
	CategoryMicrosoft       = "microsoft"
	CategoryCouncil         = "council"
	CategoryThirdParty      = "third-party"
	CategoryManagedIdentity = "managed-identity"
)

// MicrosoftTenants are the tenants Microsoft's first-party applications are
// registered in (per AzureAD/MSIdentityTools).
var MicrosoftTenants = map[string]bool{
	"f8cdef31-a31e-4b4a-93e4-5f571e91255a": true,
	"72f988bf-86f1-41af-91ab-2d7cd011db47": true,
}

// Classify says whose application sp is, from the council's tenant id.
func Classify(sp ServicePrincipal, councilTenant string) string {
	switch {
	case sp.Type == TypeManagedIdentity:
		return CategoryManagedIdentity
	case MicrosoftTenants[strings.ToLower(sp.AppOwnerOrganizationID)]:
		return CategoryMicrosoft
	case councilTenant != "" && strings.EqualFold(sp.AppOwnerOrganizationID, councilTenant):
		return CategoryCouncil
	}
	return CategoryThirdParty
}

// Facts are the harvested facts the rules look at.
type Facts struct {
	AppID          string
	Category       string
	SignInAudience string
	// VerifiedPublisher is the verified publisher's name ("" when none).
	VerifiedPublisher string
	AccountEnabled    bool
	Permissions       []Permission
	OwnerCount        int
	Credentials       []Credential
	Removed           bool
}

// Risk reasons.
const (
	ReasonHighPrivilegeApp      = "high-privilege-application-permission"
	ReasonTenantWideDelegated   = "tenant-wide-delegated-grant"
	ReasonCredentialExpired     = "credential-expired"
	ReasonCredentialExpiring    = "credential-expiring"
	ReasonNoOwner               = "no-owner"
	ReasonUnverifiedPublisher   = "unverified-publisher"
	ReasonMultiTenantThirdParty = "multi-tenant-third-party"
)

// ExpiryWarning is how soon a credential expiry counts as a risk.
const ExpiryWarning = 30 * 24 * time.Hour

// Risk is the outcome of Assess.
type Risk struct {
	// Level is high when the application holds high-privilege permissions
	// (application, or delegated for every user), medium for any other
	// reason, low when there is none.
	Level   string
	Reasons []string
}

// Assess evaluates an application's risk at now.
func Assess(f Facts, now time.Time) Risk {
	if f.Removed {
		return Risk{Level: PrivilegeLow}
	}
	var reasons []string
	add := func(r string) {
		for _, x := range reasons {
			if x == r {
				return
			}
		}
		reasons = append(reasons, r)
	}
	high := false
	for _, p := range f.Permissions {
		if p.Privilege != PrivilegeHigh {
			continue
		}
		switch {
		case p.Kind == KindApplication:
			add(ReasonHighPrivilegeApp)
			high = true
		case p.AllPrincipals:
			add(ReasonTenantWideDelegated)
			high = true
		}
	}
	for _, c := range f.Credentials {
		switch {
		case c.End.IsZero():
		case !c.End.After(now):
			add(ReasonCredentialExpired)
		case c.End.Sub(now) <= ExpiryWarning:
			add(ReasonCredentialExpiring)
		}
	}
	ownable := f.Category == CategoryCouncil || f.Category == CategoryThirdParty
	if ownable && f.OwnerCount == 0 {
		add(ReasonNoOwner)
	}
	if f.Category == CategoryThirdParty {
		if f.VerifiedPublisher == "" {
			add(ReasonUnverifiedPublisher)
		}
		if f.SignInAudience == AudienceMultipleOrgs || f.SignInAudience == AudienceMultipleOrgsMSA {
			add(ReasonMultiTenantThirdParty)
		}
	}
	sort.Strings(reasons)
	switch {
	case high:
		return Risk{Level: PrivilegeHigh, Reasons: reasons}
	case len(reasons) > 0:
		return Risk{Level: PrivilegeMedium, Reasons: reasons}
	}
	return Risk{Level: PrivilegeLow}
}

// ExpiryThresholds are the days before a credential's end at which a
// finding is raised, most distant first.
var ExpiryThresholds = []int{60, 30, 14, 7}

// expiryBucket returns "expired", the smallest threshold (in days) that end
// is within, or "" when it is further off than every threshold.
func expiryBucket(end, now time.Time) string {
	if end.IsZero() {
		return ""
	}
	if !end.After(now) {
		return "expired"
	}
	left := end.Sub(now)
	bucket := ""
	for _, d := range ExpiryThresholds {
		if left <= time.Duration(d)*24*time.Hour {
			bucket = fmt.Sprint(d)
		}
	}
	return bucket
}

// Finding is something the IG Steering Group must be told about one
// application, once. Key is stable for the same finding across runs.
type Finding struct {
	Key      string
	Severity string // info | warning | urgent | overdue (the notify severities)
	Title    string
}

// Findings returns what is wrong with an application now. prev are the
// permissions it had at the last harvest (nil when it is new), isNew says
// the harvest saw it for the first time, ig is its IG record (nil when none).
func Findings(f Facts, prev []Permission, isNew bool, ig *IG, now time.Time) []Finding {
	if f.Removed {
		return nil
	}
	var out []Finding
	if isNew && f.Category == CategoryThirdParty {
		out = append(out, Finding{Key: "new", Severity: "info", Title: "New third-party application"})
	}
	had := map[string]bool{}
	for _, p := range prev {
		had[p.Kind+":"+p.Resource+":"+p.Name] = true
	}
	if f.Category != CategoryMicrosoft {
		for _, p := range f.Permissions {
			if p.Privilege != PrivilegeHigh || (p.Kind == KindDelegated && !p.AllPrincipals) {
				continue
			}
			verb := "has"
			if prev != nil && !had[p.Kind+":"+p.Resource+":"+p.Name] {
				verb = "gained"
			}
			out = append(out, Finding{Key: "perm:" + p.Kind + ":" + p.Name, Severity: "warning",
				Title: fmt.Sprintf("Application %s high-risk %s permission %s", verb, p.Kind, p.Name)})
		}
	}
	if (f.Category == CategoryCouncil || f.Category == CategoryThirdParty) && f.OwnerCount == 0 {
		out = append(out, Finding{Key: "no-owner", Severity: "warning", Title: "Application has no owner"})
	}
	if f.Category != CategoryMicrosoft {
		for _, c := range f.Credentials {
			switch b := expiryBucket(c.End, now); b {
			case "":
			case "expired":
				out = append(out, Finding{Key: "cred:" + c.KeyID + ":expired", Severity: "overdue",
					Title: fmt.Sprintf("A %s credential expired on %s", c.Kind, c.End.UTC().Format(time.DateOnly))})
			default:
				sev := "warning"
				if b == "7" || b == "14" {
					sev = "urgent"
				}
				out = append(out, Finding{Key: "cred:" + c.KeyID + ":" + b, Severity: sev,
					Title: fmt.Sprintf("A %s credential expires within %s days (%s)", c.Kind, b, c.End.UTC().Format(time.DateOnly))})
			}
		}
	}
	if ig != nil && f.Category == CategoryThirdParty && (ig.PersonalData == PersonalSome || ig.PersonalData == PersonalSpecial) {
		if ig.AgreementInPlace != AgreementYes {
			out = append(out, Finding{Key: "ig:no-agreement", Severity: "urgent",
				Title: "Third-party application holds personal data without a data processing agreement"})
		}
		if ig.DataLocation == "" || ig.DataLocation == LocationUnknown {
			out = append(out, Finding{Key: "ig:unknown-location", Severity: "urgent",
				Title: "Third-party application holds personal data in an unknown location"})
		}
	}
	if ig != nil && ig.ReviewDate != "" && ig.ReviewDate < now.UTC().Format(time.DateOnly) {
		out = append(out, Finding{Key: "review-overdue:" + ig.ReviewDate, Severity: "overdue",
			Title: "IG review overdue since " + ig.ReviewDate})
	}
	return out
}

// NextCheck returns when an application's time-based findings next change
// (a credential crossing an expiry threshold, a review falling due), or the
// zero time when nothing is scheduled.
func NextCheck(f Facts, ig *IG, now time.Time) time.Time {
	var next time.Time
	consider := func(t time.Time) {
		if t.After(now) && (next.IsZero() || t.Before(next)) {
			next = t
		}
	}
	if f.Removed {
		return next
	}
	for _, c := range f.Credentials {
		if c.End.IsZero() {
			continue
		}
		consider(c.End)
		for _, d := range ExpiryThresholds {
			consider(c.End.Add(-time.Duration(d) * 24 * time.Hour))
		}
	}
	if ig != nil && ig.ReviewDate != "" {
		if d, err := time.Parse(time.DateOnly, ig.ReviewDate); err == nil {
			consider(d.AddDate(0, 0, 1))
		}
	}
	return next
}
