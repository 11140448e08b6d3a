package localhost

import (
	"strings"
	"testing"
	"time"
)

func TestLoadApp(t *testing.T) {
	dir := writeApp(t, `{"version":"2.0","customHandler":{"description":{"defaultExecutablePath":"handler","arguments":["--x"]}},
		"extensions":{"http":{"routePrefix":"/v1/"},"queues":{"maxDequeueCount":7,"visibilityTimeout":"00:00:10","messageEncoding":"none"}}}`,
		map[string]string{
			"Harvest":      `{"bindings":[{"name":"myTimer","type":"timerTrigger","direction":"in","schedule":"%SCHED%"}]}`,
			"Sync":         `{"bindings":[{"name":"msg","type":"serviceBusTrigger","direction":"in","queueName":"SharePoint-Changes","connection":"ServiceBusConnection"}]}`,
			"Api":          `{"bindings":[{"name":"req","type":"httpTrigger","direction":"in","route":"things/{id}"},{"name":"res","type":"http","direction":"out"},{"name":"snap","type":"blob","direction":"out","path":"x/y"}]}`,
			"Off":          `{"disabled":true,"bindings":[{"name":"req","type":"httpTrigger","direction":"in"}]}`,
			"OffBySetting": `{"bindings":[{"name":"req","type":"httpTrigger","direction":"in"}]}`,
		})
	app, err := LoadApp(dir, map[string]string{"SCHED": "0 */5 * * * *", "AzureWebJobs.OffBySetting.Disabled": "true"})
	if err != nil {
		t.Fatal(err)
	}
	h := app.Host
	if h.ExecutablePath != "handler" || h.RoutePrefix != "v1" || h.MaxDequeueCount != 7 || h.QueueVisibilityTimeout != 10*time.Second || h.Base64Messages {
		t.Fatalf("host config %+v", h)
	}
	if len(app.Functions) != 3 || app.Function("harvest") == nil || app.Function("Off") != nil || app.Function("OffBySetting") != nil {
		t.Fatalf("functions %v", app.Functions)
	}
	if s := app.Function("Harvest").schedule.String(); s != "0 */5 * * * *" {
		t.Fatalf("schedule %q", s)
	}
	if q := app.Function("Sync").queue; q != "sharepoint-changes" {
		t.Fatalf("queue %q", q)
	}
	if len(app.Warnings) != 3 || !strings.Contains(strings.Join(app.Warnings, "\n"), `"blob" are not performed`) {
		t.Fatalf("warnings %q", app.Warnings)
	}
}

func TestLoadAppErrors(t *testing.T) {
	const okHost = testHostJSON
	tests := []struct {
		name      string
		host      string
		functions map[string]string
		want      []string
	}{
		{"host.json not JSON", `{`, nil, []string{"host.json: not valid JSON"}},
		{"no custom handler", `{"version":"2.0"}`, nil, []string{"host.json: customHandler.description is missing"}},
		{"wrong version", `{"version":"1.0","customHandler":{"description":{"defaultExecutablePath":"h"}}}`, nil, []string{`"version" must be "2.0"`}},
		{"forwarding unsupported", `{"version":"2.0","customHandler":{"description":{"defaultExecutablePath":"h"},"enableForwardingHttpRequest":true}}`, nil, []string{"enableForwardingHttpRequest"}},
		{"bad encoding", `{"version":"2.0","customHandler":{"description":{"defaultExecutablePath":"h"}},"extensions":{"queues":{"messageEncoding":"utf8"}}}`, nil, []string{"messageEncoding"}},
		{"function.json not JSON", okHost, map[string]string{"Bad": `{"bindings":[`}, []string{"Bad/function.json: not valid function.json"}},
		{"unsupported trigger", okHost, map[string]string{"Blobby": `{"bindings":[{"name":"b","type":"blobTrigger","direction":"in","path":"c/{name}"}]}`}, []string{"Blobby/function.json", `trigger type "blobTrigger" is not supported`}},
		{"two triggers", okHost, map[string]string{"Two": `{"bindings":[{"name":"a","type":"httpTrigger","direction":"in"},{"name":"b","type":"timerTrigger","direction":"in","schedule":"0 * * * * *"}]}`}, []string{"exactly one trigger binding, found 2"}},
		{"no trigger", okHost, map[string]string{"None": `{"bindings":[{"name":"res","type":"http","direction":"out"}]}`}, []string{"found 0"}},
		{"unknown setting", okHost, map[string]string{"T": `{"bindings":[{"name":"t","type":"timerTrigger","direction":"in","schedule":"%NOPE%"}]}`}, []string{"T/function.json", "app setting NOPE is not set"}},
		{"bad schedule", okHost, map[string]string{"T": `{"bindings":[{"name":"t","type":"timerTrigger","direction":"in","schedule":"0 0 25 * * *"}]}`}, []string{"hour field"}},
		{"missing queueName", okHost, map[string]string{"Q": `{"bindings":[{"name":"m","type":"queueTrigger","direction":"in"}]}`}, []string{"Q/function.json", "queueName is missing"}},
		{"bad queue name", okHost, map[string]string{"Q": `{"bindings":[{"name":"m","type":"queueTrigger","direction":"in","queueName":"a_b"}]}`}, []string{"cannot be used as a local storage queue"}},
		{"topic trigger", okHost, map[string]string{"S": `{"bindings":[{"name":"m","type":"serviceBusTrigger","direction":"in","topicName":"t","subscriptionName":"s"}]}`}, []string{"topic subscriptions are not supported"}},
		{"input binding", okHost, map[string]string{"I": `{"bindings":[{"name":"req","type":"httpTrigger","direction":"in"},{"name":"doc","type":"blob","direction":"in","path":"a/b"}]}`}, []string{`input bindings of type "blob" are not supported`}},
		{"bad route", okHost, map[string]string{"R": `{"bindings":[{"name":"req","type":"httpTrigger","direction":"in","route":"a/{*x}/b"}]}`}, []string{"R/function.json", "must be the last segment"}},
		{"bad method", okHost, map[string]string{"R": `{"bindings":[{"name":"req","type":"httpTrigger","direction":"in","methods":["fetch"]}]}`}, []string{`"fetch" is not an HTTP method`}},
		{"route clash", okHost, map[string]string{
			"A": `{"bindings":[{"name":"req","type":"httpTrigger","direction":"in","route":"x/{id}","methods":["get"]}]}`,
			"B": `{"bindings":[{"name":"req","type":"httpTrigger","direction":"in","route":"X/{key}","methods":["GET"]}]}`,
		}, []string{"functions A and B both serve GET /api/"}},
		{"duplicate binding names", okHost, map[string]string{"D": `{"bindings":[{"name":"req","type":"httpTrigger","direction":"in"},{"name":"REQ","type":"http","direction":"out"}]}`}, []string{"duplicate binding name"}},
		{"every problem at once", okHost, map[string]string{
			"A": `{"bindings":[{"name":"m","type":"queueTrigger","direction":"in"}]}`,
			"B": `{"bindings":[{"name":"t","type":"timerTrigger","direction":"in","schedule":"%MISSING%"}]}`,
		}, []string{"A/function.json", "B/function.json"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeApp(t, tt.host, tt.functions)
			_, err := LoadApp(dir, nil)
			if err == nil {
				t.Fatal("LoadApp succeeded")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\ndoes not mention %q", err, w)
				}
			}
		})
	}
}
