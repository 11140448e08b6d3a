package graph_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/council-ict/govkit/shared/graph"
	"github.com/council-ict/govkit/shared/graph/graphtest"
)

func TestServicePrincipalAccess(t *testing.T) {
	s := graphtest.New(graphtest.Options{Generated: 40, ChildPageSize: 1})
	defer s.Close()
	c := newClient(t, s, graph.Policy{})
	ctx := context.Background()

	// Generated app 35: i%7==0 (an app role assignment), i%5==0 (a grant).
	a, err := c.ServicePrincipalAccess(ctx, graphtest.GeneratedAppID(35))
	if err != nil {
		t.Fatal(err)
	}
	if !a.Found || a.SP.ID != graphtest.GeneratedID(35) || !a.SP.AccountEnabled {
		t.Fatalf("access %+v", a)
	}
	if len(a.Children.AppRoleAssignments) != 1 || len(a.Children.Grants) != 1 || len(a.Children.Owners) != 0 {
		t.Errorf("children %+v", a.Children)
	}
	// Generated app 7 has a secret (i%6==1).
	a, err = c.ServicePrincipalAccess(ctx, graphtest.GeneratedAppID(7))
	if err != nil || len(a.SP.Credentials) != 1 {
		t.Fatalf("credentials %+v %v", a.SP.Credentials, err)
	}

	s.Update(graphtest.GeneratedID(35), func(a *graphtest.App) { a.SP.AccountEnabled = false; a.Grants = nil; a.Assignments = nil })
	a, err = c.ServicePrincipalAccess(ctx, graphtest.GeneratedAppID(35))
	if err != nil || a.SP.AccountEnabled || len(a.Children.Grants)+len(a.Children.AppRoleAssignments) != 0 {
		t.Fatalf("after disabling: %+v %v", a, err)
	}

	s.Remove(graphtest.GeneratedID(35))
	a, err = c.ServicePrincipalAccess(ctx, graphtest.GeneratedAppID(35))
	if err != nil || a.Found {
		t.Fatalf("deleted: %+v %v", a, err)
	}
	if a, err := c.ServicePrincipalAccess(ctx, "99999999-0000-4000-8000-000000000000"); err != nil || a.Found {
		t.Fatalf("unknown app: %+v %v", a, err)
	}
}

func TestServicePrincipalAccessFailures(t *testing.T) {
	s := graphtest.New(graphtest.Options{Generated: 10})
	defer s.Close()
	c := newClient(t, s, graph.Policy{MaxAttempts: 3})
	ctx := context.Background()

	s.Inject(graphtest.Fault{Status: http.StatusServiceUnavailable, RetryAfter: "0", Times: 10})
	_, err := c.ServicePrincipalAccess(ctx, graphtest.GeneratedAppID(5))
	var ge *graph.Error
	if !errors.As(err, &ge) || ge.Status != http.StatusServiceUnavailable {
		t.Fatalf("503 storm: %v", err)
	}

	s2 := graphtest.New(graphtest.Options{Generated: 10})
	defer s2.Close()
	c2 := newClient(t, s2, graph.Policy{})
	s2.Inject(graphtest.Fault{Status: http.StatusForbidden, Code: "Authorization_RequestDenied"})
	_, err = c2.ServicePrincipalAccess(ctx, graphtest.GeneratedAppID(5))
	if !errors.As(err, &ge) || ge.Status != http.StatusForbidden {
		t.Fatalf("403: %v", err)
	}
	// A permission missing on a relationship shows inside the batch.
	s2.Inject(graphtest.Fault{Where: "item", Status: http.StatusForbidden, Code: "Authorization_RequestDenied"})
	if _, err = c2.ServicePrincipalAccess(ctx, graphtest.GeneratedAppID(5)); !errors.As(err, &ge) || ge.Status != http.StatusForbidden {
		t.Fatalf("403 in batch: %v", err)
	}
}

func TestStandInDisableByPatch(t *testing.T) {
	s := graphtest.New(graphtest.Options{Generated: 10})
	defer s.Close()
	req, _ := http.NewRequest(http.MethodPatch, s.BaseURL()+"/servicePrincipals(appId='"+graphtest.GeneratedAppID(4)+"')", strings.NewReader(`{"accountEnabled":false}`))
	req.Header.Set("Authorization", "Bearer x")
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusNoContent {
		t.Fatalf("patch: %v %v", resp, err)
	}
	resp.Body.Close()
	c := newClient(t, s, graph.Policy{})
	a, err := c.ServicePrincipalAccess(context.Background(), graphtest.GeneratedAppID(4))
	if err != nil || !a.Found || a.SP.AccountEnabled {
		t.Fatalf("%+v %v", a, err)
	}
}
