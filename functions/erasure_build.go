package main

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/council-ict/govkit/functions/dataerasurechecks"
	"github.com/council-ict/govkit/shared/config"
	"github.com/council-ict/govkit/shared/erasure"
	"github.com/council-ict/govkit/shared/funcapp"
	"github.com/council-ict/govkit/shared/graph"
	"github.com/council-ict/govkit/shared/graph/graphtest"
	"github.com/rs/zerolog"
)

func buildDataErasureChecks(l *config.Loader, d *deps) (funcapp.Handler, error) {
	l.String("DATA_ERASURE_CHECKS_SCHEDULE", "0 0 6 * * *", "NCRONTAB schedule of DataErasureChecks (default 06:00 UTC daily, after CloudAppHarvest).")
	window := l.Int("ERASURE_WINDOW_DAYS", erasure.DefaultWindowDays, 1, 3650, "Days after an application's termination within which erasure must be evidenced; after that a non-compliant application is overdue and alerts escalate.")
	route := l.String("ERASURE_ROUTE", erasure.DefaultRoute, "Notification route (Teams channel) of data-erasure findings.")
	if !routeRE.MatchString(route) {
		l.Fail("ERASURE_ROUTE", "%q must be a lower-case kebab-case route", route)
	}
	checksText := l.String("ERASURE_CHECKS", erasure.DefaultChecks, "Erasure checks per data classification, as classification=check,check;… (* for any other or none). Checks: access-removed, supplier-certificate, council-copies-deleted.")
	checks, err := erasure.ParseChecks(checksText)
	if err != nil {
		l.Fail("ERASURE_CHECKS", "%v", err)
	}
	copiesText := l.String("ERASURE_COUNCIL_COPY_PREFIXES", erasure.DefaultCouncilCopies, "Comma-separated container/prefix templates of council-held copies of an application's data ({appId} is replaced); the council-copies-deleted check passes when each is empty or absent.")
	copies, err := erasure.ParseLocations(copiesText)
	if err != nil {
		l.Fail("ERASURE_COUNCIL_COPY_PREFIXES", "%v", err)
	}
	registerURL := l.String("CLOUD_APPS_REGISTER_URL", "", "Optional link to the register shown on finding digests.")
	g, _ := graphFor(l, d)
	if d.tables == nil || d.outbox == nil || d.blobs == nil {
		return nil, errors.New("storage or the notification outbox is not configured")
	}
	eg, ok := g.(dataerasurechecks.Graph)
	if !ok {
		return nil, errors.New("no Microsoft Graph client")
	}
	cfg := dataerasurechecks.Config{Policy: erasure.Policy{WindowDays: window, Checks: checks, Route: route},
		CouncilCopies: copies, RegisterURL: registerURL}
	return dataerasurechecks.New(cfg, d.tables, eg, erasureBlobs{d.blobs}, d.outbox)
}

// ServicePrincipalAccess lets the demo tenant serve DataErasureChecks.
func (g *lazyGraph) ServicePrincipalAccess(ctx context.Context, appID string) (graph.Access, error) {
	c, err := g.client()
	if err != nil {
		return graph.Access{}, err
	}
	return c.ServicePrincipalAccess(ctx, appID)
}

var (
	demoOnce   sync.Once
	demoServer *graphtest.Server
)

// demoTenant starts the offline demo tenant once per process, so that
// CloudAppHarvest and DataErasureChecks see the same tenant (disable an
// application with PATCH <url>/v1.0/servicePrincipals(appId='…')
// {"accountEnabled": false}, as an administrator would in Entra ID).
func demoTenant(log zerolog.Logger) *graphtest.Server {
	demoOnce.Do(func() {
		demoServer = graphtest.NewDemo(time.Now())
		log.Info().Str("url", demoServer.BaseURL()).Msg("offline demo Graph tenant started (GOVKIT_GRAPH_DEMO)")
	})
	return demoServer
}
