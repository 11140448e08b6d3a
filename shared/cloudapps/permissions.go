package cloudapps

import (
	"sort"
	"strings"
)

// Permission kinds.
const (
	KindApplication = "application"
	KindDelegated   = "delegated"
)

// Privilege levels, in rising order.
const (
	PrivilegeLow    = "low"
	PrivilegeMedium = "medium"
	PrivilegeHigh   = "high"
)

// Permission is one permission an application holds on a resource.
type Permission struct {
	Kind          string `json:"kind"`
	Resource      string `json:"resource"`
	ResourceAppID string `json:"resourceAppId,omitempty"`
	Name          string `json:"name"`
	// AllPrincipals is set for a delegated permission an administrator
	// granted for every user in the tenant.
	AllPrincipals bool `json:"allPrincipals,omitempty"`
	// Users counts single users' grants of a delegated permission.
	Users     int    `json:"users,omitempty"`
	Privilege string `json:"privilege"`
}

// PrivilegeTable ranks permission names. The zero value is not usable; use
// DefaultPrivileges, optionally extended with Extend.
type PrivilegeTable struct {
	high     map[string]bool
	patterns []string // "*.ReadWrite.All", "Mail.*": one leading or trailing *
	low      map[string]bool
	medium   map[string]bool
}

// DefaultPrivileges returns the built-in table: the permissions that can
// read or change council data at scale, or change the directory itself.
// Sources: Microsoft's permission reference and the consent-grant privilege
// table of AzureAD/MSIdentityTools.
func DefaultPrivileges() PrivilegeTable {
	t := PrivilegeTable{high: map[string]bool{}, low: map[string]bool{}, medium: map[string]bool{}}
	for _, n := range []string{
		"Sites.FullControl.All", "Sites.Manage.All", "Sites.Read.All", "Sites.ReadWrite.All",
		"RoleManagement.ReadWrite.Directory", "AppRoleAssignment.ReadWrite.All",
		"Application.ReadWrite.All", "Application.ReadWrite.OwnedBy", "Domain.ReadWrite.All",
		"User.ManageCreds.All", "User.Export.All", "Member.Read.Hidden",
		"UserAuthenticationMethod.ReadWrite.All", "CallRecords.Read.All",
		"Directory.AccessAsUser.All", "user_impersonation", "People.Read.All",
		"Chat.Read.All", "ChannelMessage.Read.All", "EWS.AccessAsUser.All", "full_access_as_app",
	} {
		t.high[n] = true
	}
	t.patterns = []string{"*.ReadWrite.All", "Directory.*", "Mail.*", "Files.*", "MailboxSettings.*",
		"Contacts.*", "Notes.*", "PrivilegedAccess.*", "Policy.ReadWrite.*"}
	for _, n := range []string{"User.Read", "User.ReadBasic.All", "openid", "email", "profile", "offline_access"} {
		t.low[n] = true
	}
	for _, n := range []string{"Mail.ReadBasic", "Mail.ReadBasic.All", "Files.Read", "Files.ReadWrite.AppFolder",
		"Files.SelectedOperations.Selected", "Files.ReadWrite.Selected", "Files.Read.Selected"} {
		t.medium[n] = true
	}
	return t
}

// Extend adds names (exact, or with one leading or trailing "*") to the
// high-privilege set and returns the table. Blank entries are ignored.
func (t PrivilegeTable) Extend(names ...string) PrivilegeTable {
	high := make(map[string]bool, len(t.high)+len(names))
	for k := range t.high {
		high[k] = true
	}
	patterns := append([]string(nil), t.patterns...)
	for _, n := range names {
		n = strings.TrimSpace(n)
		switch {
		case n == "":
		case strings.HasPrefix(n, "*") || strings.HasSuffix(n, "*"):
			patterns = append(patterns, n)
		default:
			high[n] = true
		}
	}
	t.high, t.patterns = high, patterns
	return t
}

// Rank returns the privilege of permission name of the given kind. Explicit
// entries win; then the high patterns; then an unlisted application
// permission that can write is high, anything else medium.
func (t PrivilegeTable) Rank(kind, name string) string {
	switch {
	case t.high[name]:
		return PrivilegeHigh
	case t.low[name]:
		return PrivilegeLow
	case t.medium[name]:
		return PrivilegeMedium
	}
	for _, p := range t.patterns {
		if matchPattern(p, name) {
			return PrivilegeHigh
		}
	}
	if kind == KindApplication && strings.Contains(name, "Write") {
		return PrivilegeHigh
	}
	return PrivilegeMedium
}

func matchPattern(p, name string) bool {
	switch {
	case strings.HasPrefix(p, "*"):
		return strings.HasSuffix(name, p[1:])
	case strings.HasSuffix(p, "*"):
		return strings.HasPrefix(name, p[:len(p)-1])
	}
	return p == name
}

// Permissions turns an application's role assignments and delegated grants
// into its permission list, naming each through resources (keyed by
// resource service principal id) and ranking it with t. Single users'
// grants of the same permission are counted, not listed. The result is
// sorted by kind, resource and name.
func Permissions(c Children, resources map[string]Resource, t PrivilegeTable) []Permission {
	type key struct{ kind, resource, name string }
	byKey := map[key]*Permission{}
	var order []key
	add := func(kind, resourceID, name string) *Permission {
		r := resources[resourceID]
		rname := r.DisplayName
		if rname == "" {
			rname = resourceID
		}
		k := key{kind, rname, name}
		if p, ok := byKey[k]; ok {
			return p
		}
		p := &Permission{Kind: kind, Resource: rname, ResourceAppID: r.AppID, Name: name, Privilege: t.Rank(kind, name)}
		byKey[k] = p
		order = append(order, k)
		return p
	}
	for _, a := range c.AppRoleAssignments {
		r := resources[a.ResourceID]
		name := r.Roles[a.AppRoleID]
		if name == "" {
			if a.AppRoleID == "00000000-0000-0000-0000-000000000000" {
				name = "default-access"
			} else {
				name = "role:" + a.AppRoleID
			}
		}
		p := add(KindApplication, a.ResourceID, name)
		if p.Resource == a.ResourceID && a.ResourceDisplayName != "" {
			p.Resource = a.ResourceDisplayName
		}
	}
	for _, g := range c.Grants {
		for _, s := range strings.Fields(g.Scope) {
			p := add(KindDelegated, g.ResourceID, s)
			if strings.EqualFold(g.ConsentType, "AllPrincipals") {
				p.AllPrincipals = true
			} else {
				p.Users++
			}
		}
	}
	out := make([]Permission, 0, len(order))
	for _, k := range order {
		out = append(out, *byKey[k])
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Kind != b.Kind {
			return a.Kind < b.Kind
		}
		if a.Resource != b.Resource {
			return a.Resource < b.Resource
		}
		return a.Name < b.Name
	})
	return out
}
