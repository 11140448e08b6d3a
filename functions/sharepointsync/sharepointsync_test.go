package sharepointsync

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/council-ict/govkit/shared/funcapp"
	"github.com/council-ict/govkit/shared/sharepoint"
)

type fakeSync struct {
	calls []string
	err   error
}

func (f *fakeSync) Sync(_ context.Context, l sharepoint.List) (sharepoint.Result, error) {
	f.calls = append(f.calls, l.Name)
	return sharepoint.Result{Pages: 1}, f.err
}

func invocation(t *testing.T, body string) funcapp.Invocation {
	t.Helper()
	b, _ := json.Marshal(body)
	inv, err := funcapp.DecodeInvocation("SharePointSync", "inv-1",
		[]byte(`{"Data":{"msg":`+string(b)+`},"Metadata":{"MessageId":"\"m-1\"","DeliveryCount":"1"}}`))
	if err != nil {
		t.Fatal(err)
	}
	return inv
}

// Every message outcome: a sync of the named list, a permanent failure
// (straight to the dead-letter path, no retries) for a message no retry
// can mend, and a retryable failure when the sync itself fails.
func TestInvoke(t *testing.T) {
	lists := []sharepoint.List{{Name: "contracts", Kind: sharepoint.KindContracts}, {Name: "subject-requests", Kind: sharepoint.KindSubjectRequests}}
	tests := []struct {
		name      string
		body      string
		syncErr   error
		wantCalls []string
		wantErr   bool
		permanent bool
	}{
		{"syncs the named list", `{"list":"subject-requests","subscriptionId":"s1","receivedAt":"2026-12-03T10:00:00Z"}`, nil, []string{"subject-requests"}, false, false},
		{"not JSON", `lists please`, nil, nil, true, true},
		{"no list", `{"subscriptionId":"s1"}`, nil, nil, true, true},
		{"list not configured", `{"list":"payroll"}`, nil, nil, true, true},
		{"transient Graph failure is retried", `{"list":"contracts"}`, errors.New("graph: 503"), []string{"contracts"}, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &fakeSync{err: tt.syncErr}
			h, err := New(lists, s)
			if err != nil {
				t.Fatal(err)
			}
			_, err = h.Invoke(context.Background(), invocation(t, tt.body))
			if (err != nil) != tt.wantErr || funcapp.IsPermanent(err) != tt.permanent {
				t.Fatalf("err = %v (permanent %v), want error %v permanent %v", err, funcapp.IsPermanent(err), tt.wantErr, tt.permanent)
			}
			if len(s.calls) != len(tt.wantCalls) || len(s.calls) > 0 && s.calls[0] != tt.wantCalls[0] {
				t.Fatalf("synced %v, want %v", s.calls, tt.wantCalls)
			}
		})
	}
}

func TestNewNeedsEngineForLists(t *testing.T) {
	if _, err := New([]sharepoint.List{{Name: "contracts"}}, nil); err == nil {
		t.Fatal("New accepted lists without a sync engine")
	}
	if _, err := New(nil, nil); err != nil {
		t.Fatalf("no lists, no engine: %v", err)
	}
}
