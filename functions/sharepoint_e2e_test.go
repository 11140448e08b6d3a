package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/council-ict/govkit/shared/cloudapps"
	"github.com/council-ict/govkit/shared/graph/graphtest"
	"github.com/council-ict/govkit/shared/sharepoint"
	"github.com/council-ict/govkit/shared/store"
	"github.com/council-ict/govkit/shared/testutil"
)

// invocationLog counts the local host's finished invocations by function
// and result from its JSON log.
type invocationLog struct {
	mu     sync.Mutex
	counts map[string]int
	buf    bytes.Buffer
	graph  string
}

var demoURLRE = regexp.MustCompile(`(http://127\.0\.0\.1:\d+/v1\.0)`)

// demoURL is the demo tenant's Graph URL, from the handler's log.
func (l *invocationLog) demoURL() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.graph
}

func (l *invocationLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf.Write(p)
	sc := bufio.NewScanner(&l.buf)
	var rest []byte
	for sc.Scan() {
		line := sc.Bytes()
		if bytes.Contains(line, []byte("offline demo Graph tenant started")) {
			if m := demoURLRE.FindSubmatch(line); m != nil {
				l.graph = string(m[1])
			}
		}
		var e struct{ Message, Function, Result string }
		if json.Unmarshal(line, &e) != nil {
			rest = append(rest[:0], line...)
			continue
		}
		if e.Message == "invocation" {
			l.counts[e.Function+" "+e.Result]++
		}
	}
	l.buf.Reset()
	l.buf.Write(rest)
	return len(p), nil
}

func (l *invocationLog) count(key string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.counts[key]
}

// waitCount waits (bounded) until key has been counted n times.
func (l *invocationLog) waitCount(t *testing.T, key string, n int) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for l.count(key) < n {
		if time.Now().After(deadline) {
			t.Fatalf("%s: %d invocations, want %d", key, l.count(key), n)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func postJSON(t *testing.T, url, body string) (int, string) {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestSharePointDemoEndToEnd is issue 8's acceptance under the local host
// with the settings of make run and the offline demo tenant's lists:
// validation echo; a notification with the right clientState is enqueued
// and SharePointSync brings the demo lists into the registers; a wrong
// clientState is refused and enqueues nothing; ten replays change nothing;
// SharePointSubscriptions subscribes each list (Graph's validation
// handshake included) and an item written to the list reaches the register
// through Graph's notification.
func TestSharePointDemoEndToEnd(t *testing.T) {
	conn := testutil.Azurite(t)
	svc, err := store.NewService(store.Config{ConnectionString: conn})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	port := freePort(t)
	base := "http://127.0.0.1:" + port
	log := &invocationLog{counts: map[string]int{}}
	_, stop := startLocalHost(t, "127.0.0.1:"+port, map[string]string{
		"SHAREPOINT_NOTIFICATION_URL": base + "/api/sharepoint/webhook",
		"GOVKIT_LOG_LEVEL":            "info",
	}, log)
	defer stop()
	settings, err := loadLocalSettings("../infra/local/local.settings.json")
	if err != nil {
		t.Fatal(err)
	}
	lists, errs := sharepoint.ParseLists(settings["SHAREPOINT_LISTS"])
	if errs != nil {
		t.Fatal(errs)
	}
	demo := graphtest.DemoLists(time.Now())
	if len(lists) != len(demo) {
		t.Fatalf("local.settings.json names %d lists, the demo tenant has %d", len(lists), len(demo))
	}
	var value []string
	for i, d := range demo {
		if l := lists[i]; l.Name != d.Name || string(l.Kind) != d.Kind || l.SiteID != d.SiteID || l.ListID != d.ListID {
			t.Fatalf("SHAREPOINT_LISTS[%d] = %+v, demo tenant list %+v", i, l, d)
		}
		value = append(value, `{"subscriptionId":"91779246-afe9-4525-b122-6c199ae89211","clientState":"`+settings["SHAREPOINT_CLIENT_STATE"]+
			`","expirationDateTime":"2027-04-30T17:27:00.0000000Z","resource":"`+d.ListID+`","tenantId":"00000000-0000-0000-0000-000000000000","siteUrl":"/","webId":"dbc5a806-e4d4-46e5-951c-6344d70b62fa"}`)
	}
	notification := `{"value":[` + strings.Join(value, ",") + `]}`
	webhook := base + "/api/sharepoint/webhook"
	synced := "SharePointSync succeeded"

	resp, err := http.Post(webhook+"?validationtoken=abc", "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(b) != "abc" || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("validation: %d %q %s", resp.StatusCode, b, resp.Header.Get("Content-Type"))
	}

	if code, body := postJSON(t, webhook, notification); code != 202 {
		t.Fatalf("notification: %d %s", code, body)
	}
	log.waitCount(t, synced, len(demo))

	contract := func(id string) (etag string) {
		t.Helper()
		resp, err := http.Get(base + "/api/contracts/" + id)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var v struct{ Supplier, ETag string }
		if resp.StatusCode != 200 || json.NewDecoder(resp.Body).Decode(&v) != nil || v.Supplier == "" {
			t.Fatalf("contract %s: %d", id, resp.StatusCode)
		}
		return v.ETag
	}
	items := store.NewTable[sharepoint.ItemState](svc, sharepoint.ItemTable)
	igs := store.NewTable[cloudapps.IG](svc, cloudapps.Table)
	snapshot := func() map[string]string {
		t.Helper()
		got := map[string]string{"SP-LIB-001": contract("SP-LIB-001"), "SP-HSG-014": contract("SP-HSG-014")}
		for _, id := range []string{"1", "2"} {
			rec, err := items.Get(ctx, "subject-requests", id)
			if err != nil || rec.Value.Target == "" || rec.Value.Status != sharepoint.StatusApplied {
				t.Fatalf("subject-requests item %s: %+v %v", id, rec.Value, err)
			}
			got["sr-item-"+id] = rec.Value.Target + " " + string(rec.ETag)
			resp, err := http.Get(base + "/api/subject-requests/" + rec.Value.Target)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Fatalf("subject request %s: %d", rec.Value.Target, resp.StatusCode)
			}
		}
		for _, it := range demo[2].Items {
			app := it.Fields["AppId"].(string)
			rec, err := igs.Get(ctx, cloudapps.PartitionIG, app)
			if err != nil || rec.Value.ReviewStatus == "" {
				t.Fatalf("IG record of %s: %+v %v", app, rec.Value, err)
			}
			got["ig-"+app] = string(rec.ETag)
		}
		bad, err := items.Get(ctx, "contracts", "3")
		if err != nil || bad.Value.Status != sharepoint.StatusError {
			t.Fatalf("broken contract item: %+v %v", bad.Value, err)
		}
		return got
	}
	before := snapshot()

	wrong := strings.ReplaceAll(notification, settings["SHAREPOINT_CLIENT_STATE"], "not-the-client-state-of-this-app")
	if code, body := postJSON(t, webhook, wrong); code != 403 || !strings.Contains(body, `"field":"clientState"`) {
		t.Fatalf("wrong clientState: %d %s", code, body)
	}
	// Ten replays: ten syncs of each list, and not one register change.
	// A wrongly enqueued message would show as one sync too many.
	for i := 0; i < 10; i++ {
		if code, body := postJSON(t, webhook, notification); code != 202 {
			t.Fatalf("replay %d: %d %s", i, code, body)
		}
	}
	log.waitCount(t, synced, 11*len(demo))
	if after := snapshot(); !equalMaps(before, after) {
		t.Fatalf("replays changed the register:\nbefore %v\nafter  %v", before, after)
	}

	// Subscriptions, then a form submission arriving by Graph notification.
	if code, body := postJSON(t, base+"/admin/functions/SharePointSubscriptions", `{"input":""}`); code != 202 {
		t.Fatalf("admin run: %d %s", code, body)
	}
	log.waitCount(t, "SharePointSubscriptions succeeded", 1)
	if n := log.count("SharePointWebhook succeeded"); n < 1+1+10+len(demo) {
		t.Fatalf("webhook invocations = %d: the validation handshakes did not reach it", n)
	}
	if count := log.count(synced); count != 11*len(demo) {
		t.Fatalf("SharePointSync ran %d times, want %d (a refused notification was enqueued?)", count, 11*len(demo))
	}
	graphURL := log.demoURL()
	if graphURL == "" {
		t.Fatal("the handler did not log the demo tenant's URL")
	}
	item := `{"fields":{"Title":"Parking permits portal","ContractId":"SP-PKG-007","Supplier":"Example Parking Ltd",
		"ServiceArea":"Parking","ContractOwner":"parking.manager@council.example","NotifyRoute":"parking",
		"StartDate":"2026-01-01","EndDate":"2027-06-30","NoticePeriod":"P3M","RenewalType":"none","ContractStatus":"active"}}`
	req, _ := http.NewRequest(http.MethodPost, graphURL+"/sites/"+demo[0].SiteID+"/lists/"+demo[0].ListID+"/items", strings.NewReader(item))
	req.Header.Set("Authorization", "Bearer demo")
	req.Header.Set("Content-Type", "application/json")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 201 {
		t.Fatalf("create list item: %d", resp.StatusCode)
	}
	log.waitCount(t, synced, 11*len(demo)+1)
	contract("SP-PKG-007")
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
