package main

import (
	"context"
	"errors"
	"regexp"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/council-ict/govkit/functions/powerbifeed"
	"github.com/council-ict/govkit/shared/config"
	"github.com/council-ict/govkit/shared/feeds"
	"github.com/council-ict/govkit/shared/funcapp"
	"github.com/council-ict/govkit/shared/powerbi"
)

var workspaceIDRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

func buildPowerBIFeed(l *config.Loader, d *deps) (funcapp.Handler, error) {
	l.String("POWERBI_FEED_SCHEDULE", "0 5 7-18 * * 1-5", "NCRONTAB schedule of PowerBIFeed (CSV snapshots to blob container powerbi-feed, then the Power BI push dataset), in UTC (WEBSITE_TIME_ZONE is not supported on Flex Consumption). Default: hourly at :05, 07:05-18:05, Monday to Friday.")
	workspace := l.String("POWERBI_WORKSPACE_ID", "", "Power BI workspace (group) id to publish the push dataset to. Unset: PowerBIFeed writes the CSV snapshots only. The identity needs Dataset.ReadWrite.All and membership of the workspace.")
	if workspace != "" && !workspaceIDRE.MatchString(workspace) {
		l.Fail("POWERBI_WORKSPACE_ID", "%q is not a workspace id (a GUID)", workspace)
	}
	dataset := l.String("POWERBI_DATASET_NAME", "Council Governance", "Name of the Power BI push dataset PowerBIFeed finds or creates in the workspace.")
	base := l.URL("GOVKIT_POWERBI_BASE_URL", powerbi.DefaultBaseURL, "Power BI REST API root, up to /myorg (plain http only on loopback, for the stand-in).")
	scope := l.String("GOVKIT_POWERBI_SCOPE", powerbi.DefaultScope, "Token scope requested for the Power BI REST API.")
	if dataset == "" {
		l.Fail("POWERBI_DATASET_NAME", "must not be empty")
	}
	if d.tables == nil || d.blobs == nil {
		return nil, errors.New("storage is not configured")
	}
	deps := powerbifeed.Deps{
		Tables:  feeds.Tables(),
		Sources: feeds.NewTableSources(d.tables, feeds.DefaultTableNames()),
		CSV:     feeds.NewBlobSink(d.blobs.client, feeds.DefaultContainer),
		Runs:    feeds.NewRunLog(d.tables, ""),
		Setup: func(ctx context.Context) error {
			return d.tables.EnsureTables(ctx, feeds.FeedRunsTable, feeds.SchemasTable)
		},
	}
	if workspace != "" && base != nil {
		var cred azcore.TokenCredential = d.cred
		if cred == nil {
			c, err := azidentity.NewDefaultAzureCredential(nil)
			if err != nil {
				return nil, errors.New("power bi credential: " + err.Error())
			}
			cred = c
		}
		client, err := powerbi.New(powerbi.Config{BaseURL: base.String(), Scope: scope, Credential: cred})
		if err != nil {
			return nil, err
		}
		deps.Pusher, deps.Schemas = client, feeds.NewSchemaTable(d.tables, "")
	}
	return powerbifeed.New(powerbifeed.Config{WorkspaceID: workspace, DatasetName: dataset}, deps)
}
