package store

import (
	"context"
	"errors"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/data/aztables"

	"github.com/council-ict/govkit/shared/testutil"
)

// contract is a representative entity: every supported field type.
type contract struct {
	PartitionKey string  `json:"PartitionKey"`
	RowKey       string  `json:"RowKey"`
	Title        string  `json:"Title"`
	Value        float64 `json:"Value"`
	Renewals     int     `json:"Renewals"`
	Bytes        int64   `json:"Bytes"`
	Active       bool    `json:"Active"`
	Expires      string  `json:"Expires"` // ISO date
	Note         *string `json:"Note,omitempty"`
}

func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// azuriteService returns a Service on Azurite, or skips.
func azuriteService(t testing.TB) *Service {
	t.Helper()
	svc, err := NewService(Config{ConnectionString: testutil.Azurite(t)})
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

// newTable creates a fresh table on Azurite, deleted when the test ends.
func newTable(t testing.TB) (*Service, *Table[contract]) {
	t.Helper()
	svc := azuriteService(t)
	name := testutil.UniqueName("store")
	if err := svc.EnsureTables(testCtx(t), name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = svc.client.DeleteTable(context.Background(), name, nil) })
	return svc, NewTable[contract](svc, name)
}

// countingTransport fails every request and counts them, to prove that
// validation happens before any call.
type countingTransport struct{ n atomic.Int64 }

func (c *countingTransport) Do(*http.Request) (*http.Response, error) {
	c.n.Add(1)
	return nil, errors.New("countingTransport: no network in this test")
}

func offlineService(t *testing.T) (*Service, *countingTransport) {
	t.Helper()
	tr := &countingTransport{}
	opts := &aztables.ClientOptions{ClientOptions: azcore.ClientOptions{
		Transport: tr,
		Retry:     policy.RetryOptions{MaxRetries: -1},
	}}
	c, err := aztables.NewServiceClientFromConnectionString(testutil.AzuriteConnectionString, opts)
	if err != nil {
		t.Fatal(err)
	}
	return &Service{client: c}, tr
}

func offlineTable(t *testing.T) (*Table[contract], *countingTransport) {
	svc, tr := offlineService(t)
	return NewTable[contract](svc, "offline"), tr
}

func ptr[T any](v T) *T { return &v }
