package main

import (
	"context"
	"errors"
	"sync"

	"github.com/council-ict/govkit/functions/contractexpiryalerts"
	fcontracts "github.com/council-ict/govkit/functions/contracts"
	"github.com/council-ict/govkit/functions/contractsimport"
	"github.com/council-ict/govkit/functions/teamsnotify"
	"github.com/council-ict/govkit/shared/config"
	"github.com/council-ict/govkit/shared/contracts"
	"github.com/council-ict/govkit/shared/funcapp"
	"github.com/council-ict/govkit/shared/store"
	"github.com/council-ict/govkit/shared/teams"
)

// withTables creates the named tables on the first invocation (builders
// must not perform I/O), retrying on the next invocation if that fails.
func withTables(svc *store.Service, h funcapp.Handler, names ...string) funcapp.Handler {
	var mu sync.Mutex
	done := false
	return funcapp.HandlerFunc(func(ctx context.Context, inv funcapp.Invocation) (funcapp.Result, error) {
		mu.Lock()
		if !done {
			if err := svc.EnsureTables(ctx, names...); err != nil {
				mu.Unlock()
				return funcapp.Result{}, err
			}
			done = true
		}
		mu.Unlock()
		return h.Invoke(ctx, inv)
	})
}

func buildContracts(l *config.Loader, d *deps) (funcapp.Handler, error) {
	if d.tables == nil {
		return nil, errors.New("storage is not configured")
	}
	h, err := fcontracts.New(fcontracts.Config{}, contracts.NewRegister(d.tables, ""))
	if err != nil {
		return nil, err
	}
	return withTables(d.tables, h, contracts.DefaultTable), nil
}

func buildContractsImport(l *config.Loader, d *deps) (funcapp.Handler, error) {
	if d.tables == nil {
		return nil, errors.New("storage is not configured")
	}
	h, err := contractsimport.New(contracts.NewRegister(d.tables, ""))
	if err != nil {
		return nil, err
	}
	return withTables(d.tables, h, contracts.DefaultTable), nil
}

func buildContractExpiryAlerts(l *config.Loader, d *deps) (funcapp.Handler, error) {
	l.String("CONTRACT_ALERTS_SCHEDULE", "0 0 7 * * 1-5", "NCRONTAB schedule of ContractExpiryAlerts (default 07:00 on weekdays, UTC: WEBSITE_TIME_ZONE is not supported on Flex Consumption). Referenced by its function.json, so it must be set.")
	ladderText := l.String("CONTRACT_ALERT_LADDER", "180,90,60,30,14,7,1,0", "Days before each contract milestone (decision date, notice deadline, end or renewal) at which an alert is due. After a missed run only the most urgent due one is sent.")
	ladder, err := contracts.ParseLadder(ladderText)
	if err != nil {
		l.Fail("CONTRACT_ALERT_LADDER", "%v", err)
		ladder = contracts.DefaultLadder
	}
	window := l.Int("CONTRACT_ESCALATION_WINDOW_DAYS", 30, 0, 3660, "A milestone this many days away or closer, with no exit plan or renewal decision recorded, is also sent to the contract's escalationRoute.")
	base := l.URL("GOVKIT_PUBLIC_BASE_URL", "", "Public base URL of the function app (e.g. https://govkit-func.azurewebsites.net), for the \"Open register entry\" links on cards. Unset: cards carry no links.")
	dry := l.Bool("CONTRACT_ALERTS_DRY_RUN", false, "Evaluate and write the run report without claiming or sending any alert.")
	if d.tables == nil || d.outbox == nil {
		return nil, errors.New("storage or the notification outbox is not configured")
	}
	p := contracts.DefaultPolicy()
	p.Ladder, p.EscalationWindowDays = ladder, window
	cfg := contractexpiryalerts.Config{Policy: p, DryRun: dry}
	if base != nil {
		cfg.PublicBaseURL = base.String()
	}
	h, err := contractexpiryalerts.New(cfg, contracts.NewRegister(d.tables, ""), contracts.NewClaimLedger(d.tables, ""), d.outbox, d.blobs)
	if err != nil {
		return nil, err
	}
	return withTables(d.tables, h, contracts.DefaultTable, contracts.ClaimTable), nil
}

func buildTeamsNotify(l *config.Loader, d *deps) (funcapp.Handler, error) {
	routes, err := teams.RoutesFromEnv()
	if err != nil {
		return nil, err
	}
	if d.tables == nil || d.blobs == nil {
		return nil, errors.New("storage is not configured")
	}
	if routes.Len() == 0 {
		d.log.Info().Msg("no TEAMS_ROUTE_* settings: TeamsNotify writes every card to the teams-outbox blob container")
	}
	h, err := teamsnotify.New(teamsnotify.Config{Routes: routes}, teamsnotify.NewTableLedger(d.tables, ""), teams.New(nil), d.blobs)
	if err != nil {
		return nil, err
	}
	return withTables(d.tables, h, teamsnotify.DeliveryTable), nil
}
