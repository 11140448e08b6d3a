package main

import (
	"context"
	"errors"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/council-ict/govkit/functions/cloudappharvest"
	fcloudapps "github.com/council-ict/govkit/functions/cloudapps"
	"github.com/council-ict/govkit/shared/cloudapps"
	"github.com/council-ict/govkit/shared/config"
	"github.com/council-ict/govkit/shared/funcapp"
	"github.com/council-ict/govkit/shared/graph"
	"github.com/council-ict/govkit/shared/graph/graphtest"
)

func buildCloudAppHarvest(l *config.Loader, d *deps) (funcapp.Handler, error) {
	l.String("CLOUD_APP_HARVEST_SCHEDULE", "0 0 5 * * *", "NCRONTAB schedule of CloudAppHarvest (default 05:00 daily).")
	route := l.String("CLOUD_APPS_ROUTE", "igsg", "Notification route (Teams channel) of cloud application findings.")
	budget := l.Int("GRAPH_REQUEST_BUDGET", 20000, 0, 10_000_000, "Most Microsoft Graph requests one CloudAppHarvest run may make (0: unlimited); a run that spends it stops cleanly and the next resumes.")
	extra := l.String("CLOUD_APP_HIGH_RISK_PERMISSIONS", "", "Comma-separated permissions to rank high risk besides the built-in table; a leading or trailing * matches a suffix or prefix (e.g. Tasks.ReadWrite.All,*.Manage.All).")
	resync := l.Duration("CLOUD_APP_FULL_RESYNC_AFTER", 7*24*time.Hour, "Longest time between full synchronisations of the register (delta links expire after about 7 days, and grant changes may not show in the service principal delta).")
	registerURL := l.String("CLOUD_APPS_REGISTER_URL", "", "Optional link to the register shown on finding digests.")
	g, tenant := graphFor(l, d)
	if d.tables == nil {
		return nil, errors.New("storage is not configured")
	}
	if d.outbox == nil {
		return nil, errors.New("notifications are not configured")
	}
	return cloudappharvest.New(cloudappharvest.Config{CouncilTenant: tenant, Route: route, Budget: budget,
		Privileges: cloudapps.DefaultPrivileges().Extend(strings.Split(extra, ",")...), FullResyncAfter: resync,
		RegisterURL: registerURL}, g, d.tables, d.outbox)
}

func buildCloudApps(l *config.Loader, d *deps) (funcapp.Handler, error) {
	if d.tables == nil {
		return nil, errors.New("storage is not configured")
	}
	return fcloudapps.New(d.tables, "")
}

// graphFor returns the Graph client of the harvest and the council's tenant
// id. With GOVKIT_GRAPH_DEMO=auto (the default) a local run (storage by
// connection string) with no Azure identity settings uses the offline demo
// tenant, started on a loopback port on first use.
func graphFor(l *config.Loader, d *deps) (cloudappharvest.Graph, string) {
	base := l.URL("GOVKIT_GRAPH_BASE_URL", graph.DefaultBaseURL, "Microsoft Graph service root including the version (national clouds: https://graph.microsoft.us/v1.0, https://microsoftgraph.chinacloudapi.cn/v1.0).")
	scope := l.String("GOVKIT_GRAPH_SCOPE", graph.DefaultScope, "Token scope for Microsoft Graph (national clouds differ).")
	demo := l.OneOf("GOVKIT_GRAPH_DEMO", "auto", "Use the bundled offline demo tenant instead of Microsoft Graph: auto means on for a local run (storage by connection string, no AZURE_CLIENT_ID or AZURE_TENANT_ID).", "auto", "on", "off")
	tenant := l.String("GOVKIT_TENANT_ID", os.Getenv("AZURE_TENANT_ID"), "The council's Entra tenant id: applications registered there are classed as the council's own (default AZURE_TENANT_ID).")
	local := d.cred == nil && os.Getenv("AZURE_CLIENT_ID") == "" && os.Getenv("AZURE_TENANT_ID") == ""
	if demo == "on" || demo == "auto" && local {
		return &lazyGraph{start: func() (*graph.Client, error) {
			s := demoTenant(d.log) // shared with DataErasureChecks (erasure_build.go)
			return graph.New(graph.Config{BaseURL: s.BaseURL(), Credential: graph.StaticToken("demo")})
		}}, graphtest.CouncilTenant
	}
	if tenant == "" {
		l.Fail("GOVKIT_TENANT_ID", "set it (or AZURE_TENANT_ID) to the council's tenant id, so that its own applications are told from third parties")
	}
	cred := d.cred
	if cred == nil {
		// Other hosts: client secret or certificate through the AZURE_* variables.
		c, err := azidentity.NewDefaultAzureCredential(nil)
		if err != nil {
			l.Fail("AZURE_CLIENT_ID", "no Azure credential for Microsoft Graph: %v", err)
			return nil, tenant
		}
		cred = c
	}
	cfg := graph.Config{Scope: scope, Credential: cred}
	if base != nil {
		cfg.BaseURL = base.String()
	}
	c, err := graph.New(cfg)
	if err != nil {
		l.Fail("GOVKIT_GRAPH_BASE_URL", "%v", err)
		return nil, tenant
	}
	return c, tenant
}

// lazyGraph starts the demo tenant on first use (builders perform no I/O).
type lazyGraph struct {
	once  sync.Once
	start func() (*graph.Client, error)
	c     *graph.Client
	err   error
}

func (g *lazyGraph) client() (*graph.Client, error) {
	g.once.Do(func() { g.c, g.err = g.start() })
	return g.c, g.err
}

func (g *lazyGraph) ServicePrincipalsDelta(ctx context.Context, link string) (graph.DeltaPage, error) {
	c, err := g.client()
	if err != nil {
		return graph.DeltaPage{}, err
	}
	return c.ServicePrincipalsDelta(ctx, link)
}

func (g *lazyGraph) Children(ctx context.Context, ids []string) (map[string]cloudapps.Children, error) {
	c, err := g.client()
	if err != nil {
		return nil, err
	}
	return c.Children(ctx, ids)
}

func (g *lazyGraph) Resources(ctx context.Context, ids []string) (map[string]cloudapps.Resource, error) {
	c, err := g.client()
	if err != nil {
		return nil, err
	}
	return c.Resources(ctx, ids)
}

// ListItemsDelta lets the demo tenant serve SharePointSync.
func (g *lazyGraph) ListItemsDelta(ctx context.Context, site, list, link string) (graph.ListDeltaPage, error) {
	c, err := g.client()
	if err != nil {
		return graph.ListDeltaPage{}, err
	}
	return c.ListItemsDelta(ctx, site, list, link)
}

// Subscriptions lets the demo tenant serve SharePointSubscriptions.
func (g *lazyGraph) Subscriptions(ctx context.Context) ([]graph.Subscription, error) {
	c, err := g.client()
	if err != nil {
		return nil, err
	}
	return c.Subscriptions(ctx)
}

// CreateSubscription lets the demo tenant serve SharePointSubscriptions.
func (g *lazyGraph) CreateSubscription(ctx context.Context, s graph.Subscription) (graph.Subscription, error) {
	c, err := g.client()
	if err != nil {
		return graph.Subscription{}, err
	}
	return c.CreateSubscription(ctx, s)
}

// RenewSubscription lets the demo tenant serve SharePointSubscriptions.
func (g *lazyGraph) RenewSubscription(ctx context.Context, id string, exp time.Time) (time.Time, error) {
	c, err := g.client()
	if err != nil {
		return time.Time{}, err
	}
	return c.RenewSubscription(ctx, id, exp)
}
