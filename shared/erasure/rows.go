package erasure

import (
	"encoding/json"
	"strings"
	"time"
)

// CheckRow is an application's overall erasure status (table ChecksTable),
// as the Power BI ErasureChecks feed reads it: appId, appName,
// overallStatus, terminationDate, compliantOn.
type CheckRow struct {
	PartitionKey      string `json:"PartitionKey"` // ChecksPartition
	RowKey            string `json:"RowKey"`       // appId
	AppID             string `json:"appId"`
	AppName           string `json:"appName,omitempty"`
	OverallStatus     string `json:"overallStatus"`
	Since             string `json:"since"`
	TerminationDate   string `json:"terminationDate"`
	TerminationSource string `json:"terminationSource"`
	Deadline          string `json:"deadline"`
	CompliantOn       string `json:"compliantOn,omitempty"`
	Severity          string `json:"severity"`
	Checks            string `json:"checks"`
	Reasons           string `json:"reasons,omitempty"`
	LastRun           string `json:"lastRun"`
}

// Previous returns the row as the evaluation's previous state.
func (r CheckRow) Previous() *Previous {
	return &Previous{Status: r.OverallStatus, Since: r.Since, CompliantOn: r.CompliantOn}
}

// ResultRow is one check's result on one day (table ResultsTable).
type ResultRow struct {
	PartitionKey string `json:"PartitionKey"` // appId
	RowKey       string `json:"RowKey"`       // ResultKey(check, day)
	Check        string `json:"check"`
	Day          string `json:"day"`
	Outcome      string `json:"outcome"`
	Reason       string `json:"reason,omitempty"`
	Missing      string `json:"missing,omitempty"` // JSON array
	Detail       string `json:"detail,omitempty"`  // JSON array
	CheckedAt    string `json:"checkedAt"`
}

// ResultKey is the row key of a check's result on a day.
func ResultKey(check string, day time.Time) string {
	return check + "|" + day.UTC().Format(time.DateOnly)
}

// NewResultRow stores r for appID at now.
func NewResultRow(appID string, r Result, now time.Time) ResultRow {
	return ResultRow{PartitionKey: appID, RowKey: ResultKey(r.Check, now), Check: r.Check, Day: now.UTC().Format(time.DateOnly),
		Outcome: r.Outcome, Reason: r.Reason, Missing: jsonList(r.Missing), Detail: jsonList(r.Detail),
		CheckedAt: now.UTC().Format(time.RFC3339)}
}

// Result decodes the row.
func (r ResultRow) Result() Result {
	res := Result{Check: r.Check, Outcome: r.Outcome, Reason: r.Reason}
	if r.Missing != "" {
		_ = json.Unmarshal([]byte(r.Missing), &res.Missing)
	}
	if r.Detail != "" {
		_ = json.Unmarshal([]byte(r.Detail), &res.Detail)
	}
	return res
}

// EvidenceRow is evidence filed through the API (table EvidenceTable):
// partition appId, row key the filing time (fixed width, so rows sort by
// time). Every filing is kept.
type EvidenceRow struct {
	PartitionKey string `json:"PartitionKey"`
	RowKey       string `json:"RowKey"`
	Evidence     string `json:"evidence"` // the Evidence as JSON
	FiledAt      string `json:"filedAt"`
	FiledBy      string `json:"filedBy,omitempty"`
	Complete     bool   `json:"complete"`
	Missing      string `json:"missing,omitempty"`
}

// EvidenceKeyLayout is the row-key layout of EvidenceRow.
const EvidenceKeyLayout = "20060102T150405.000000000Z"

// NewEvidenceRow stores e filed by who at now.
func NewEvidenceRow(appID string, e Evidence, who string, now time.Time) EvidenceRow {
	b, _ := json.Marshal(e)
	return EvidenceRow{PartitionKey: appID, RowKey: now.UTC().Format(EvidenceKeyLayout), Evidence: string(b),
		FiledAt: now.UTC().Format(time.RFC3339Nano), FiledBy: who, Complete: e.Complete(), Missing: strings.Join(e.Missing(), " ")}
}

// Filed decodes the row.
func (r EvidenceRow) Filed() Filed {
	f := Filed{Source: "api:" + r.RowKey, FiledBy: r.FiledBy}
	f.FiledAt, _ = time.Parse(time.RFC3339Nano, r.FiledAt)
	if err := json.Unmarshal([]byte(r.Evidence), &f.Evidence); err != nil {
		f.Problem = "stored evidence is not valid JSON"
	}
	return f
}

func jsonList(xs []string) string {
	if len(xs) == 0 {
		return ""
	}
	b, _ := json.Marshal(xs)
	return string(b)
}
