package store

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

	"github.com/council-ict/govkit/shared/testutil"
)

type fakeCredential struct{}

func (fakeCredential) GetToken(context.Context, policy.TokenRequestOptions) (azcore.AccessToken, error) {
	return azcore.AccessToken{}, errors.New("fake")
}

func TestNewService(t *testing.T) {
	cred := fakeCredential{}
	tests := []struct {
		name    string
		cfg     Config
		wantErr []string // substrings; nil means success
	}{
		{"connection string", Config{ConnectionString: testutil.AzuriteConnectionString}, nil},
		{"account and credential", Config{AccountName: "councilgov01", Credential: cred}, nil},
		{"national cloud suffix", Config{AccountName: "councilgov01", Credential: cred, EndpointSuffix: "core.usgovcloudapi.net"}, nil},
		{"empty", Config{}, []string{"ConnectionString", "AccountName and Credential"}},
		{"both ways", Config{ConnectionString: testutil.AzuriteConnectionString, AccountName: "councilgov01", Credential: cred}, []string{"exactly one"}},
		{"account without credential", Config{AccountName: "councilgov01"}, []string{"Credential is required"}},
		{"credential without account", Config{Credential: cred}, []string{"AccountName is required"}},
		{"bad account name and suffix", Config{AccountName: "Council_Gov", Credential: cred, EndpointSuffix: "https://evil/"},
			[]string{`AccountName "Council_Gov"`, "EndpointSuffix"}},
		{"malformed connection string", Config{ConnectionString: "not-a-connection-string-SECRET"}, []string{"ConnectionString"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svc, err := NewService(tt.cfg)
			if tt.wantErr == nil {
				if err != nil || svc == nil {
					t.Fatalf("NewService() = %v, %v; want a service", svc, err)
				}
				return
			}
			if err == nil {
				t.Fatal("NewService() succeeded; want an error")
			}
			for _, want := range tt.wantErr {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not mention %q", err, want)
				}
			}
			if strings.Contains(err.Error(), "SECRET") {
				t.Errorf("error %q leaks the connection string", err)
			}
		})
	}
}

func TestPingAndEnsureTables(t *testing.T) {
	svc := azuriteService(t)
	ctx := testCtx(t)
	if err := svc.Ping(ctx); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	name := testutil.UniqueName("ensure")
	t.Cleanup(func() { _, _ = svc.client.DeleteTable(context.Background(), name, nil) })
	for i := range 2 { // the second call finds the table already there
		if err := svc.EnsureTables(ctx, name); err != nil {
			t.Fatalf("EnsureTables call %d: %v", i+1, err)
		}
	}
	err := svc.EnsureTables(ctx, "ok"+name, "1bad", "no-dashes")
	if err == nil || !strings.Contains(err.Error(), `"1bad"`) || !strings.Contains(err.Error(), `"no-dashes"`) {
		t.Fatalf("EnsureTables with bad names = %v; want both named", err)
	}
}
