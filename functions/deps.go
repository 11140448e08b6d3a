package main

import (
	"context"
	"errors"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/council-ict/govkit/shared/config"
	"github.com/council-ict/govkit/shared/notify"
	"github.com/council-ict/govkit/shared/store"
	"github.com/rs/zerolog"
)

// deps are the clients shared by the functions. They are built once, from
// settings, without I/O.
type deps struct {
	log     zerolog.Logger
	version string
	tables  *store.Service
	// cred is the managed identity credential (nil with a connection string).
	cred azcore.TokenCredential
	// outbox hands notifications to the "notifications" queue (see wireNotifications).
	outbox *notify.Outbox
	// blobs writes teams-outbox cards and run reports.
	blobs *blobWriter
	// spChanges carries SharePoint change notifications to SharePointSync
	// (queue "sharepoint-changes"; chosen like the notifications transport).
	spChanges notify.Transport
}

func newDeps(l *config.Loader, log zerolog.Logger) (*deps, error) {
	d := &deps{log: log, version: version}
	conn := l.Secret("GOVKIT_STORAGE_CONNECTION_STRING", "Storage connection string for the app's own tables, blobs and queues. For local runs only (UseDevelopmentStorage=true means Azurite); in Azure leave it unset and set GOVKIT_STORAGE_ACCOUNT to use the managed identity.")
	account := l.String("GOVKIT_STORAGE_ACCOUNT", "", "Storage account name, used with the managed identity (AZURE_CLIENT_ID) when no connection string is set.")
	sbNamespace := l.String("GOVKIT_SERVICEBUS_NAMESPACE", "", "Service Bus namespace (e.g. council-gov.servicebus.windows.net) of the notifications queue, reached with the managed identity. Unset: notifications go to the storage queue \"notifications\" of GOVKIT_STORAGE_CONNECTION_STRING (local runs, Azurite).")
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
		d.cred = cred
	}
	svc, err := store.NewService(cfg)
	if err != nil {
		return d, err
	}
	d.tables = svc
	if err := d.wireNotifications(l, cfg, sbNamespace); err != nil {
		return d, err
	}
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

// wireNotifications builds the notification pipeline's clients: the Outbox
// every producer publishes through, and the blob writer. This is the one
// place the transport is chosen: Service Bus (managed identity) when
// GOVKIT_SERVICEBUS_NAMESPACE is set, else the Azurite/Storage queue
// "notifications" of the storage connection string (local runs).
func (d *deps) wireNotifications(l *config.Loader, cfg store.Config, sbNamespace string) error {
	blobs, err := newBlobWriter(cfg.ConnectionString, cfg.AccountName, cfg.EndpointSuffix, d.cred)
	if err != nil {
		return err
	}
	d.blobs = blobs
	var transport notify.Transport
	switch {
	case sbNamespace != "":
		cred := d.cred
		if cred == nil {
			c, err := azidentity.NewDefaultAzureCredential(nil)
			if err != nil {
				return errors.New("service bus credential: " + err.Error())
			}
			cred = c
		}
		t, err := notify.NewServiceBusTransport(sbNamespace, notify.QueueName, cred)
		if err != nil {
			return err
		}
		transport = t
		if d.spChanges, err = notify.NewServiceBusTransport(sbNamespace, sharepointChangesQueue, cred); err != nil {
			return err
		}
	case cfg.ConnectionString != "":
		t, err := notify.NewQueueTransport(cfg.ConnectionString, notify.QueueName)
		if err != nil {
			return err
		}
		transport = t
		if d.spChanges, err = notify.NewQueueTransport(cfg.ConnectionString, sharepointChangesQueue); err != nil {
			return err
		}
	default:
		l.Fail("GOVKIT_SERVICEBUS_NAMESPACE", "is required when storage uses the managed identity (the storage-queue transport is for local runs)")
		return nil
	}
	d.outbox = notify.NewOutbox(d.tables, "", transport)
	return nil
}
