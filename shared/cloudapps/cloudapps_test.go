package cloudapps

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/council-ict/govkit/shared/funcapp"
)

var now = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func TestRank(t *testing.T) {
	tbl := DefaultPrivileges().Extend("Tasks.ReadWrite.All", "*.Manage.All", " ")
	for _, tc := range []struct{ kind, name, want string }{
		{KindApplication, "Mail.Read", PrivilegeHigh},
		{KindDelegated, "Mail.Send", PrivilegeHigh},
		{KindDelegated, "Mail.ReadBasic", PrivilegeMedium},
		{KindApplication, "Files.ReadWrite.All", PrivilegeHigh},
		{KindDelegated, "Files.Read", PrivilegeMedium},
		{KindApplication, "Sites.FullControl.All", PrivilegeHigh},
		{KindApplication, "Directory.Read.All", PrivilegeHigh},
		{KindApplication, "Group.ReadWrite.All", PrivilegeHigh},
		{KindApplication, "RoleManagement.ReadWrite.Directory", PrivilegeHigh},
		{KindDelegated, "User.Read", PrivilegeLow},
		{KindDelegated, "openid", PrivilegeLow},
		{KindApplication, "Calendars.Read", PrivilegeMedium},
		{KindApplication, "Reports.Write", PrivilegeHigh}, // unlisted application write
		{KindDelegated, "Reports.Write", PrivilegeMedium},
		{KindApplication, "Tasks.ReadWrite.All", PrivilegeHigh},
		{KindApplication, "Bookings.Manage.All", PrivilegeHigh},
	} {
		if got := tbl.Rank(tc.kind, tc.name); got != tc.want {
			t.Errorf("Rank(%s, %s) = %s; want %s", tc.kind, tc.name, got, tc.want)
		}
	}
	if DefaultPrivileges().Rank(KindApplication, "Bookings.Manage.All") != PrivilegeMedium {
		t.Error("Extend changed the default table")
	}
}

func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		sp   ServicePrincipal
		want string
	}{
		{ServicePrincipal{Type: TypeManagedIdentity}, CategoryManagedIdentity},
		{ServicePrincipal{Type: TypeApplication, AppOwnerOrganizationID: "F8CDEF31-A31E-4B4A-93E4-5F571E91255A"}, CategoryMicrosoft},
		{ServicePrincipal{Type: TypeApplication, AppOwnerOrganizationID: "72f988bf-86f1-41af-91ab-2d7cd011db47"}, CategoryMicrosoft},
		{ServicePrincipal{Type: TypeApplication, AppOwnerOrganizationID: "council-t"}, CategoryCouncil},
		{ServicePrincipal{Type: TypeApplication, AppOwnerOrganizationID: "vendor"}, CategoryThirdParty},
		{ServicePrincipal{Type: TypeLegacy}, CategoryThirdParty},
	} {
		if got := Classify(tc.sp, "council-t"); got != tc.want {
			t.Errorf("Classify(%+v) = %s; want %s", tc.sp, got, tc.want)
		}
	}
}

func TestPermissions(t *testing.T) {
	res := map[string]Resource{"graph": {ID: "graph", AppID: "00000003", DisplayName: "Microsoft Graph", Roles: map[string]string{"r1": "Mail.Read"}}}
	c := Children{
		AppRoleAssignments: []AppRoleAssignment{{AppRoleID: "r1", ResourceID: "graph"}, {AppRoleID: "zz", ResourceID: "other", ResourceDisplayName: "LOB API"}},
		Grants: []Grant{
			{ConsentType: "AllPrincipals", ResourceID: "graph", Scope: "openid User.Read"},
			{ConsentType: "Principal", ResourceID: "graph", Scope: "Mail.Read"},
			{ConsentType: "Principal", ResourceID: "graph", Scope: "Mail.Read  User.Read"},
		},
	}
	got := Permissions(c, res, DefaultPrivileges())
	b, _ := json.Marshal(got)
	want := `[{"kind":"application","resource":"LOB API","name":"role:zz","privilege":"medium"},` +
		`{"kind":"application","resource":"Microsoft Graph","resourceAppId":"00000003","name":"Mail.Read","privilege":"high"},` +
		`{"kind":"delegated","resource":"Microsoft Graph","resourceAppId":"00000003","name":"Mail.Read","users":2,"privilege":"high"},` +
		`{"kind":"delegated","resource":"Microsoft Graph","resourceAppId":"00000003","name":"User.Read","allPrincipals":true,"users":1,"privilege":"low"},` +
		`{"kind":"delegated","resource":"Microsoft Graph","resourceAppId":"00000003","name":"openid","allPrincipals":true,"privilege":"low"}]`
	if string(b) != want {
		t.Errorf("Permissions =\n%s\nwant\n%s", b, want)
	}
}

func TestAssess(t *testing.T) {
	highApp := Permission{Kind: KindApplication, Name: "Mail.Read", Privilege: PrivilegeHigh}
	highAll := Permission{Kind: KindDelegated, Name: "Files.ReadWrite.All", Privilege: PrivilegeHigh, AllPrincipals: true}
	highUser := Permission{Kind: KindDelegated, Name: "Files.ReadWrite.All", Privilege: PrivilegeHigh, Users: 3}
	for _, tc := range []struct {
		name  string
		f     Facts
		level string
		why   string
	}{
		{"microsoft app, nothing", Facts{Category: CategoryMicrosoft}, PrivilegeLow, ""},
		{"high app permission", Facts{Category: CategoryCouncil, OwnerCount: 1, Permissions: []Permission{highApp}}, PrivilegeHigh, ReasonHighPrivilegeApp},
		{"tenant-wide delegated", Facts{Category: CategoryCouncil, OwnerCount: 1, Permissions: []Permission{highAll}}, PrivilegeHigh, ReasonTenantWideDelegated},
		{"one user's delegated is not tenant-wide", Facts{Category: CategoryCouncil, OwnerCount: 1, Permissions: []Permission{highUser}}, PrivilegeLow, ""},
		{"expired credential", Facts{Category: CategoryCouncil, OwnerCount: 1, Credentials: []Credential{{End: now.Add(-time.Hour)}}}, PrivilegeMedium, ReasonCredentialExpired},
		{"expiring in 30 days", Facts{Category: CategoryCouncil, OwnerCount: 1, Credentials: []Credential{{End: now.Add(30 * 24 * time.Hour)}}}, PrivilegeMedium, ReasonCredentialExpiring},
		{"expiring in 31 days", Facts{Category: CategoryCouncil, OwnerCount: 1, Credentials: []Credential{{End: now.Add(31 * 24 * time.Hour)}}}, PrivilegeLow, ""},
		{"no owner", Facts{Category: CategoryCouncil}, PrivilegeMedium, ReasonNoOwner},
		{"managed identity needs no owner", Facts{Category: CategoryManagedIdentity}, PrivilegeLow, ""},
		{"unverified multi-tenant third party", Facts{Category: CategoryThirdParty, OwnerCount: 1, SignInAudience: AudienceMultipleOrgs},
			PrivilegeMedium, ReasonMultiTenantThirdParty + " " + ReasonUnverifiedPublisher},
		{"verified single-tenant third party", Facts{Category: CategoryThirdParty, OwnerCount: 1, VerifiedPublisher: "V", SignInAudience: AudienceMyOrg}, PrivilegeLow, ""},
		{"removed", Facts{Category: CategoryThirdParty, Removed: true, Permissions: []Permission{highApp}}, PrivilegeLow, ""},
	} {
		r := Assess(tc.f, now)
		if r.Level != tc.level || strings.Join(r.Reasons, " ") != tc.why {
			t.Errorf("%s: %s %v; want %s %q", tc.name, r.Level, r.Reasons, tc.level, tc.why)
		}
	}
}

func keys(fs []Finding) string {
	var ks []string
	for _, f := range fs {
		ks = append(ks, f.Key)
	}
	return strings.Join(ks, " ")
}

func TestFindings(t *testing.T) {
	mail := Permission{Kind: KindApplication, Resource: "Microsoft Graph", Name: "Mail.Read", Privilege: PrivilegeHigh}
	cred := func(days float64) []Credential {
		return []Credential{{KeyID: "k", Kind: CredentialPassword, End: now.Add(time.Duration(days * 24 * float64(time.Hour)))}}
	}
	for _, tc := range []struct {
		name  string
		f     Facts
		prev  []Permission
		isNew bool
		ig    *IG
		want  string
	}{
		{"new third party", Facts{Category: CategoryThirdParty, OwnerCount: 1}, nil, true, nil, "new"},
		{"new council app is not news", Facts{Category: CategoryCouncil, OwnerCount: 1}, nil, true, nil, ""},
		{"gained permission", Facts{Category: CategoryCouncil, OwnerCount: 1, Permissions: []Permission{mail}}, []Permission{}, false, nil, "perm:application:Mail.Read"},
		{"microsoft apps' permissions are not findings", Facts{Category: CategoryMicrosoft, Permissions: []Permission{mail}}, nil, false, nil, ""},
		{"no owner", Facts{Category: CategoryThirdParty}, nil, false, nil, "no-owner"},
		{"expires in 61 days", Facts{Category: CategoryCouncil, OwnerCount: 1, Credentials: cred(61)}, nil, false, nil, ""},
		{"expires in 59 days", Facts{Category: CategoryCouncil, OwnerCount: 1, Credentials: cred(59)}, nil, false, nil, "cred:k:60"},
		{"expires in 20 days", Facts{Category: CategoryCouncil, OwnerCount: 1, Credentials: cred(20)}, nil, false, nil, "cred:k:30"},
		{"expires in 10 days", Facts{Category: CategoryCouncil, OwnerCount: 1, Credentials: cred(10)}, nil, false, nil, "cred:k:14"},
		{"expires in 2 days", Facts{Category: CategoryCouncil, OwnerCount: 1, Credentials: cred(2)}, nil, false, nil, "cred:k:7"},
		{"expired", Facts{Category: CategoryCouncil, OwnerCount: 1, Credentials: cred(-1)}, nil, false, nil, "cred:k:expired"},
		{"personal data, no agreement, unknown location", Facts{Category: CategoryThirdParty, OwnerCount: 1}, nil, false,
			&IG{PersonalData: PersonalSome, AgreementInPlace: AgreementNo}, "ig:no-agreement ig:unknown-location"},
		{"personal data with agreement in the UK", Facts{Category: CategoryThirdParty, OwnerCount: 1}, nil, false,
			&IG{PersonalData: PersonalSpecial, AgreementInPlace: AgreementYes, DataLocation: LocationUK}, ""},
		{"no personal data", Facts{Category: CategoryThirdParty, OwnerCount: 1}, nil, false, &IG{PersonalData: PersonalNone}, ""},
		{"review overdue", Facts{Category: CategoryCouncil, OwnerCount: 1}, nil, false, &IG{ReviewDate: "2026-02-28"}, "review-overdue:2026-02-28"},
		{"review due today is not overdue", Facts{Category: CategoryCouncil, OwnerCount: 1}, nil, false, &IG{ReviewDate: "2026-03-01"}, ""},
		{"removed", Facts{Category: CategoryThirdParty, Removed: true}, nil, true, nil, ""},
	} {
		if got := keys(Findings(tc.f, tc.prev, tc.isNew, tc.ig, now)); got != tc.want {
			t.Errorf("%s: %q; want %q", tc.name, got, tc.want)
		}
	}
}

func TestNextCheck(t *testing.T) {
	f := Facts{Credentials: []Credential{{End: now.Add(100 * 24 * time.Hour)}, {End: now.Add(20 * 24 * time.Hour)}}}
	if got, want := NextCheck(f, nil, now), now.Add(6*24*time.Hour); !got.Equal(want) {
		t.Errorf("NextCheck = %v; want %v (the 14-day mark of the second credential)", got, want)
	}
	if got := NextCheck(Facts{}, &IG{ReviewDate: "2026-04-01"}, now); !got.Equal(time.Date(2026, 4, 2, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("NextCheck with review date = %v", got)
	}
	if got := NextCheck(Facts{}, nil, now); !got.IsZero() {
		t.Errorf("NextCheck with nothing = %v", got)
	}
}

func TestApplyPatch(t *testing.T) {
	g := IG{DataLocation: LocationEEA, Notes: "keep"}
	err := ApplyPatch(&g, map[string]json.RawMessage{"dataLocation": json.RawMessage(`"moon"`), "agreementDate": json.RawMessage(`"1/2/2026"`),
		"objectId": json.RawMessage(`"x"`), "notes": json.RawMessage(`3`)})
	var fields []string
	for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
		var fe funcapp.FieldError
		if errors.As(e, &fe) {
			fields = append(fields, fe.Field)
		}
	}
	if strings.Join(fields, " ") != "agreementDate dataLocation notes objectId" || g.DataLocation != LocationEEA {
		t.Errorf("fields %v, value %+v", fields, g)
	}
	if err := ApplyPatch(&g, map[string]json.RawMessage{}); err == nil {
		t.Error("empty patch accepted")
	}
	err = ApplyPatch(&g, map[string]json.RawMessage{"dataLocation": json.RawMessage(`"uk"`), "notes": json.RawMessage(`null`),
		"reviewDate": json.RawMessage(`"2026-09-30"`), "personalDataDetail": json.RawMessage(`" names and addresses "`)})
	if err != nil || g.DataLocation != LocationUK || g.Notes != "" || g.ReviewDate != "2026-09-30" || g.PersonalDataDetail != "names and addresses" {
		t.Errorf("ApplyPatch = %v, %+v", err, g)
	}
}

func TestFlags(t *testing.T) {
	e := Entry{FirstSeen: FormatTime(now.Add(-24 * time.Hour)), RiskLevel: PrivilegeHigh}
	if got := strings.Join(Flags(e, nil, now), " "); got != "new risky unreviewed" {
		t.Errorf("flags %q", got)
	}
	old := Entry{FirstSeen: FormatTime(now.AddDate(-1, 0, 0)), RiskLevel: PrivilegeMedium}
	if got := strings.Join(Flags(old, &IG{LastReviewed: "2026-01-01", ReviewDate: "2027-01-01"}, now), " "); got != "" {
		t.Errorf("reviewed, old, medium: %q", got)
	}
	if got := strings.Join(Flags(old, &IG{LastReviewed: "2025-01-01", ReviewDate: "2026-01-01"}, now), " "); got != "unreviewed" {
		t.Errorf("review passed: %q", got)
	}
	if got := strings.Join(Flags(Entry{Removed: true, RiskLevel: PrivilegeHigh}, nil, now), " "); got != "removed" {
		t.Errorf("removed: %q", got)
	}
}
