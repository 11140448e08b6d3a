package main

import (
	"embed"
	"time"

	"github.com/council-ict/govkit/functions/health"
	"github.com/council-ict/govkit/shared/config"
	"github.com/council-ict/govkit/shared/funcapp"
)

// functionFiles holds every function's function.json, staged next to the
// binary by "handler stage".
//
//go:embed */function.json
var functionFiles embed.FS

// function is one registry entry. Its function.json lives in
// functions/<lower-case Name>/function.json and the Go package of the same
// name implements it.
type function struct {
	// Name is the function name: the folder the host sees and the path it POSTs to.
	Name string
	// Trigger is the trigger binding type its function.json must declare.
	Trigger string
	// Build reads the function's settings from l (recording problems there)
	// and constructs it. It must not perform I/O.
	Build func(l *config.Loader, d *deps) (funcapp.Handler, error)
}

// registry is the one explicit list of functions. Adding a function costs
// one folder, one line here, its settings in infra/ and one README row;
// registry_test.go catches anything forgotten.
func registry() []function {
	return []function{
		{Name: "Health", Trigger: "httpTrigger", Build: buildHealth},
		{Name: "Contracts", Trigger: "httpTrigger", Build: buildContracts},
		{Name: "ContractsImport", Trigger: "httpTrigger", Build: buildContractsImport},
		{Name: "ContractExpiryAlerts", Trigger: "timerTrigger", Build: buildContractExpiryAlerts},
		{Name: "TeamsNotify", Trigger: "serviceBusTrigger", Build: buildTeamsNotify},
		{Name: "SubjectRequests", Trigger: "httpTrigger", Build: buildSubjectRequests},
		{Name: "SubjectRequestSweep", Trigger: "timerTrigger", Build: buildSubjectRequestSweep},
		{Name: "PowerBIFeed", Trigger: "timerTrigger", Build: buildPowerBIFeed},
		{Name: "CloudAppHarvest", Trigger: "timerTrigger", Build: buildCloudAppHarvest},
		{Name: "CloudApps", Trigger: "httpTrigger", Build: buildCloudApps},
		{Name: "SharePointWebhook", Trigger: "httpTrigger", Build: buildSharePointWebhook},
		{Name: "SharePointSync", Trigger: "serviceBusTrigger", Build: buildSharePointSync},
		{Name: "SharePointSubscriptions", Trigger: "timerTrigger", Build: buildSharePointSubscriptions},
		{Name: "DataErasureChecks", Trigger: "timerTrigger", Build: buildDataErasureChecks},
	}
}

func buildHealth(l *config.Loader, d *deps) (funcapp.Handler, error) {
	timeout := l.Duration("GOVKIT_HEALTH_TIMEOUT", 5*time.Second, "Time limit for each Health dependency check.")
	return health.New(health.Config{Version: d.version, Timeout: timeout}, map[string]health.Pinger{
		"storage": storagePinger{d.tables},
	})
}
