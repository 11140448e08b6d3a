package testutil

import (
	"context"
	"errors"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/data/aztables"
)

// TestPrivateAzuriteKeepsDataAcrossRestart: what Azurite acknowledged
// before Stop is there after Start; while stopped, requests are refused.
func TestPrivateAzuriteKeepsDataAcrossRestart(t *testing.T) {
	a := StartPrivateAzurite(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	svc, err := aztables.NewServiceClientFromConnectionString(a.ConnectionString(),
		&aztables.ClientOptions{ClientOptions: policy.ClientOptions{Retry: policy.RetryOptions{MaxRetries: -1}}})
	if err != nil {
		t.Fatal(err)
	}
	name := UniqueName("restart")
	if _, err := svc.CreateTable(ctx, name, nil); err != nil {
		t.Fatal(err)
	}
	tbl := svc.NewClient(name)
	if _, err := tbl.AddEntity(ctx, []byte(`{"PartitionKey":"p","RowKey":"r","Value":"kept"}`), nil); err != nil {
		t.Fatal(err)
	}

	a.Stop(t)
	_, err = tbl.GetEntity(ctx, "p", "r", nil)
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("while stopped: %v; want connection refused", err)
	}

	a.Start(t)
	got, err := tbl.GetEntity(ctx, "p", "r", nil)
	if err != nil {
		t.Fatalf("after restart: %v\n%s", err, a.Output())
	}
	if !strings.Contains(string(got.Value), `"Value":"kept"`) {
		t.Errorf("after restart the entity is %s", got.Value)
	}
}
