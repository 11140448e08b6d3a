package main

import (
	"errors"
	"time"

	"github.com/council-ict/govkit/functions/sharepointsubscriptions"
	"github.com/council-ict/govkit/functions/sharepointsync"
	"github.com/council-ict/govkit/functions/sharepointwebhook"
	"github.com/council-ict/govkit/shared/cloudapps"
	"github.com/council-ict/govkit/shared/config"
	"github.com/council-ict/govkit/shared/contracts"
	"github.com/council-ict/govkit/shared/funcapp"
	"github.com/council-ict/govkit/shared/sharepoint"
	"github.com/council-ict/govkit/shared/store"
	sr "github.com/council-ict/govkit/shared/subjectrequests"
	"github.com/council-ict/govkit/shared/ukdates"
)

// sharepointChangesQueue is the queue between SharePointWebhook and
// SharePointSync (a Service Bus queue in Azure, an Azurite queue locally).
const sharepointChangesQueue = sharepoint.QueueName

// sharepointSettings reads the settings the three SharePoint functions
// share. With SHAREPOINT_LISTS empty (the local default) the functions
// start and do nothing.
func sharepointSettings(l *config.Loader) ([]sharepoint.List, config.Secret) {
	raw := l.String("SHAREPOINT_LISTS", "", `SharePoint lists whose forms feed the registers: a JSON array of {"name","kind","siteId","listId","ownerRoute","columns"}; kind is contracts, subject-requests or cloud-app-reviews; columns maps a register field to the list's internal column name (defaults: the sample schema in README). Empty: SharePoint is not used.`)
	secret := l.Secret("SHAREPOINT_CLIENT_STATE", "Shared secret sent as clientState when the app subscribes to a list, and required on every notification (constant-time compare; at most 128 characters). Required when SHAREPOINT_LISTS is set.")
	lists, errs := sharepoint.ParseLists(raw)
	for _, e := range errs {
		l.Fail("SHAREPOINT_LISTS", "%s: %s", e.Field, e.Detail)
	}
	if len(lists) > 0 && secret.IsZero() {
		l.Fail("SHAREPOINT_CLIENT_STATE", "is required when SHAREPOINT_LISTS names lists")
	}
	if n := len(secret.Value()); n > 128 || n > 0 && n < 16 {
		l.Fail("SHAREPOINT_CLIENT_STATE", "must be 16 to 128 characters (Graph allows at most 128)")
	}
	return lists, secret
}

func buildSharePointWebhook(l *config.Loader, d *deps) (funcapp.Handler, error) {
	lists, secret := sharepointSettings(l)
	if d.spChanges == nil {
		return nil, errors.New("the sharepoint-changes queue is not configured")
	}
	return sharepointwebhook.New(sharepointwebhook.Config{Lists: lists, ClientState: secret}, d.spChanges)
}

// sharepointGraph is what the SharePoint functions need of Microsoft Graph
// (*graph.Client, or the offline demo tenant's lazyGraph).
type sharepointGraph interface {
	sharepoint.Graph
	sharepointsubscriptions.Graph
}

// sharepointEngine builds the sync engine over Microsoft Graph. It is nil
// when no list is configured.
func sharepointEngine(l *config.Loader, d *deps, lists []sharepoint.List) (*sharepoint.Engine, sharepointGraph, error) {
	if len(lists) == 0 {
		return nil, nil, nil
	}
	if d.tables == nil || d.outbox == nil {
		return nil, nil, errors.New("storage or the notification outbox is not configured")
	}
	g, _ := graphFor(l, d)
	c, ok := g.(sharepointGraph)
	if !ok {
		return nil, nil, errors.New("no Microsoft Graph client for SharePoint lists")
	}
	cal := subjectRequestCalendar(l)
	calendar := func() (*ukdates.Calendar, error) {
		c, warn, err := cal.Calendar()
		if warn != nil {
			d.log.Warn().Err(warn).Msg("bank-holiday file not used")
		}
		return c, err
	}
	items := store.NewTable[sharepoint.ItemState](d.tables, sharepoint.ItemTable)
	appliers := map[sharepoint.Kind]sharepoint.Applier{
		sharepoint.KindContracts: sharepoint.ContractsApplier{Register: contracts.NewRegister(d.tables, "")},
		sharepoint.KindSubjectRequests: sharepoint.SubjectRequestsApplier{Items: items, Names: sr.DefaultTables,
			Service: sr.NewService(sr.NewStore(d.tables, sr.DefaultTables), calendar, nil)},
		sharepoint.KindCloudAppReviews: sharepoint.CloudAppReviewsApplier{IGs: store.NewTable[cloudapps.IG](d.tables, cloudapps.Table)},
	}
	return sharepoint.NewEngine(c, d.tables, appliers, d.outbox), c, nil
}

func buildSharePointSync(l *config.Loader, d *deps) (funcapp.Handler, error) {
	lists, _ := sharepointSettings(l)
	e, _, err := sharepointEngine(l, d, lists)
	if err != nil {
		return nil, err
	}
	if e == nil {
		return sharepointsync.New(nil, nil)
	}
	return sharepointsync.New(lists, e)
}

func buildSharePointSubscriptions(l *config.Loader, d *deps) (funcapp.Handler, error) {
	l.String("SHAREPOINT_SUBSCRIPTIONS_SCHEDULE", "0 15 2 * * *", "NCRONTAB schedule of SharePointSubscriptions (create and renew list subscriptions, then reconcile every list by delta); default 02:15 daily.")
	notifURL := l.URL("SHAREPOINT_NOTIFICATION_URL", "", "Public https URL of SharePointWebhook (https://<app>.azurewebsites.net/api/sharepoint/webhook) given to Graph when subscribing. Unset: subscriptions are not managed; the nightly reconcile still runs.")
	renew := l.Duration("SHAREPOINT_SUBSCRIPTION_RENEW_BEFORE", 30*24*time.Hour, "Renew a list subscription expiring within this time. Graph caps list subscriptions at 42,300 minutes (about 29.4 days), so the default renews on every run.")
	lists, secret := sharepointSettings(l)
	e, c, err := sharepointEngine(l, d, lists)
	if err != nil {
		return nil, err
	}
	cfg := sharepointsubscriptions.Config{Lists: lists, ClientState: secret, Policy: sharepoint.SubscriptionPolicy{RenewBefore: renew}}
	if notifURL != nil {
		if notifURL.Scheme != "https" && !config.IsLoopback(notifURL.Hostname()) {
			l.Fail("SHAREPOINT_NOTIFICATION_URL", "must be an https URL")
		}
		cfg.NotificationURL = notifURL.String()
	}
	if e == nil {
		cfg.Lists = nil
		return sharepointsubscriptions.New(cfg, nil, nil)
	}
	return sharepointsubscriptions.New(cfg, c, e)
}
