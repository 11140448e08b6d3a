package main

import (
	"errors"
	"regexp"

	"github.com/council-ict/govkit/functions/subjectrequests"
	"github.com/council-ict/govkit/functions/subjectrequestsweep"
	"github.com/council-ict/govkit/shared/config"
	"github.com/council-ict/govkit/shared/funcapp"
	sr "github.com/council-ict/govkit/shared/subjectrequests"
	"github.com/council-ict/govkit/shared/ukdates"
)

// subjectRequestCalendar reads the bank-holiday settings both subject-request
// functions share.
func subjectRequestCalendar(l *config.Loader) *sr.CalendarSource {
	div := l.OneOf("UK_BANK_HOLIDAY_DIVISION", string(ukdates.EnglandAndWales),
		"Whose bank holidays move a statutory deadline off a holiday.",
		string(ukdates.EnglandAndWales), string(ukdates.Scotland), string(ukdates.NorthernIreland))
	file := l.String("UK_BANK_HOLIDAYS_FILE", "",
		"Optional path to a newer bank-holidays file in the gov.uk/bank-holidays.json format (e.g. on an Azure Files mount); re-read when it changes. Unset or unreadable: the data embedded in the release (a date beyond it is an error, never a guess).")
	return sr.NewCalendarSource(ukdates.Division(div), file)
}

func buildSubjectRequests(l *config.Loader, d *deps) (funcapp.Handler, error) {
	cal := subjectRequestCalendar(l)
	if d.tables == nil {
		return nil, errors.New("storage is not configured")
	}
	calendar := func() (*ukdates.Calendar, error) {
		c, warn, err := cal.Calendar()
		if warn != nil {
			d.log.Warn().Err(warn).Msg("bank-holiday file not used")
		}
		return c, err
	}
	svc := sr.NewService(sr.NewStore(d.tables, sr.DefaultTables), calendar, nil)
	return subjectrequests.New(svc)
}

var routeRE = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

func buildSubjectRequestSweep(l *config.Loader, d *deps) (funcapp.Handler, error) {
	l.String("SUBJECT_REQUEST_SWEEP_SCHEDULE", "0 30 6 * * *", "NCRONTAB schedule of SubjectRequestSweep (reminders, escalations, retention purge), in UTC (WEBSITE_TIME_ZONE is not supported on Flex Consumption).")
	days := l.String("SUBJECT_REQUEST_REMINDER_DAYS", "10,5,2,1", "Calendar days before a subject request's due date when reminders go to its service area and the IG route; after missed days only the most urgent is sent.")
	offsets, err := sr.ParseOffsets(days)
	if err != nil {
		l.Fail("SUBJECT_REQUEST_REMINDER_DAYS", "%v", err)
	}
	route := func(name, def, desc string) string {
		v := l.String(name, def, desc)
		if !routeRE.MatchString(v) {
			l.Fail(name, "%q must be a lower-case kebab-case route", v)
		}
		return v
	}
	ig := route("SUBJECT_REQUEST_IG_ROUTE", "igsg", "Notification route (Teams channel) of the information governance group: every subject-request reminder and warning.")
	dpo := route("SUBJECT_REQUEST_DPO_ROUTE", "dpo", "Notification route of the data protection officer: overdue subject requests and late extension notices.")
	prefix := l.String("SUBJECT_REQUEST_SERVICE_AREA_ROUTE_PREFIX", "sar-", "A subject request's service area is told on route <prefix><service-area-in-kebab-case>, e.g. sar-adult-social-care. Empty: only the IG and DPO routes are used.")
	if prefix != "" && !regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`).MatchString(prefix) {
		l.Fail("SUBJECT_REQUEST_SERVICE_AREA_ROUTE_PREFIX", "%q must be lower-case letters, digits and -", prefix)
	}
	warn := l.Int("SUBJECT_REQUEST_EXTENSION_NOTICE_WARN_DAYS", 2, 0, 31, "Days before the extension-notice date that a warning goes out when an extended request has no notice recorded.")
	retText := l.String("SUBJECT_REQUEST_RETENTION", "6y", "How long a subject request's personal details are kept after closure (6y, 18m or 400d); the sweep then deletes them, keeping the statistics.")
	ret, err := subjectrequestsweep.ParseRetention(retText)
	if err != nil {
		l.Fail("SUBJECT_REQUEST_RETENTION", "%v", err)
	}
	if d.tables == nil || d.outbox == nil {
		return nil, errors.New("storage or the notification outbox is not configured")
	}
	if len(offsets) == 0 {
		offsets = []int{1}
	}
	cfg := subjectrequestsweep.Config{Retention: ret, Reminders: sr.ReminderConfig{Offsets: offsets, IGRoute: ig, DPORoute: dpo,
		ServiceAreaPrefix: prefix, ExtensionNoticeWarnDays: warn}}
	return subjectrequestsweep.New(cfg, sr.NewStore(d.tables, sr.DefaultTables), subjectRequestNotifier(d))
}

// subjectRequestNotifier is the sweep's notification pipeline: the shared
// outbox (ledger first, then the "notifications" queue).
func subjectRequestNotifier(d *deps) subjectrequestsweep.Notifier {
	if d.outbox == nil {
		return nil
	}
	return d.outbox
}
