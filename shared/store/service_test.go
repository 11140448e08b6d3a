package store

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

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

// An endpoint that accepts the connection and never answers fails the
// call after the bounded attempts instead of holding the run.
func TestTryTimeoutBoundsASilentEndpoint(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	done := make(chan struct{})
	defer close(done)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { <-done; c.Close() }() // held open, never answered
		}
	}()
	// Azurite's well-known development key: this is no real account.
	conn := "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;" +
		"AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;" +
		"TableEndpoint=http://" + ln.Addr().String() + "/devstoreaccount1;"
	svc, err := NewService(Config{ConnectionString: conn, TryTimeout: 100 * time.Millisecond, MaxRetries: 1})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err = svc.Ping(ctx)
	if err == nil || ctx.Err() != nil {
		t.Fatalf("Ping = %v (context %v), want a timeout error well before the context ends", err, ctx.Err())
	}
}
