package main

import (
	"context"
	"errors"

	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/council-ict/govkit/shared/config"
	"github.com/council-ict/govkit/shared/store"
	"github.com/rs/zerolog"
)

// deps are the clients shared by the functions. They are built once, from
// settings, without I/O.
type deps struct {
	log     zerolog.Logger
	version string
	tables  *store.Service
}

func newDeps(l *config.Loader, log zerolog.Logger) (*deps, error) {
	d := &deps{log: log, version: version}
	conn := l.Secret("GOVKIT_STORAGE_CONNECTION_STRING", "Storage connection string for the app's own tables, blobs and queues. For local runs only (UseDevelopmentStorage=true means Azurite); in Azure leave it unset and set GOVKIT_STORAGE_ACCOUNT to use the managed identity.")
	account := l.String("GOVKIT_STORAGE_ACCOUNT", "", "Storage account name, used with the managed identity (AZURE_CLIENT_ID) when no connection string is set.")
	suffix := l.String("GOVKIT_STORAGE_ENDPOINT_SUFFIX", "core.windows.net", "Storage endpoint suffix (national clouds: core.usgovcloudapi.net, core.chinacloudapi.cn).")
	cfg := store.Config{ConnectionString: config.ExpandConnectionString(conn.Value()), AccountName: account, EndpointSuffix: suffix}
	switch {
	case conn.IsZero() && account == "":
		l.Fail("GOVKIT_STORAGE_ACCOUNT", "set it (Azure, managed identity) or GOVKIT_STORAGE_CONNECTION_STRING (local)")
		return d, nil
	case !conn.IsZero() && account != "":
		l.Fail("GOVKIT_STORAGE_CONNECTION_STRING", "set either it or GOVKIT_STORAGE_ACCOUNT, not both")
		return d, nil
	case conn.IsZero():
		cred, err := azidentity.NewDefaultAzureCredential(nil)
		if err != nil {
			return d, errors.New("managed identity credential: " + err.Error())
		}
		cfg.Credential = cred
	}
	svc, err := store.NewService(cfg)
	if err != nil {
		return d, err
	}
	d.tables = svc
	return d, nil
}

// Close releases clients.
func (d *deps) Close() {}

// storagePinger adapts the table service for the Health function.
type storagePinger struct{ svc *store.Service }

func (p storagePinger) Ping(ctx context.Context) error {
	if p.svc == nil {
		return errors.New("storage not configured")
	}
	return p.svc.Ping(ctx)
}
