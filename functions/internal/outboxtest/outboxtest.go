// Package outboxtest helps tests prove that a job's notifications are
// recorded, handed on and delivered exactly once when the job is
// interrupted: a transport that a testutil.Gate can hold at each step of a
// hand-on, readers of the outbox ledger and of the notifications queue, a
// blob writer that counts the cards TeamsNotify writes, and the end state
// of all three (Delivered, End.CheckLikeClean).
//
// It lives apart from testutil because it imports shared/notify,
// shared/store and TeamsNotify, whose own tests import testutil.
package outboxtest

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"maps"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azqueue"
	"github.com/council-ict/govkit/functions/teamsnotify"
	"github.com/council-ict/govkit/shared/notify"
	"github.com/council-ict/govkit/shared/store"
	"github.com/council-ict/govkit/shared/teams"
	"github.com/council-ict/govkit/shared/testutil"
)

// Points GatedTransport passes.
const (
	// PointSend is passed before each Send: the outbox has recorded the
	// notifications as pending and hands none on yet.
	PointSend = "send"
	// PointEnqueue is passed before each message is handed on (they go
	// one at a time), so a hold can fall in the middle of a Send.
	PointEnqueue = "enqueue"
	// PointSent is passed after a Send succeeded, before the outbox marks
	// the notifications handed on.
	PointSent = "sent"
)

// GatedTransport is a notify.Transport that passes Gate at each step of a
// hand-on and hands messages on through Next one at a time.
type GatedTransport struct {
	Next notify.Transport
	Gate testutil.Passer
}

// Send hands msgs on through Next, passing the gate around each step.
func (t GatedTransport) Send(ctx context.Context, msgs []notify.Message) error {
	if err := t.Gate.Pass(ctx, PointSend); err != nil {
		return err
	}
	for _, m := range msgs {
		if err := t.Gate.Pass(ctx, PointEnqueue); err != nil {
			return err
		}
		if err := t.Next.Send(ctx, []notify.Message{m}); err != nil {
			return err
		}
	}
	return t.Gate.Pass(ctx, PointSent)
}

// ledgerEntry is the part of notify's ledger row a test needs.
type ledgerEntry struct {
	PartitionKey string `json:"PartitionKey"`
	RowKey       string `json:"RowKey"`
	State        string `json:"state"`
}

// Ledger returns the outbox ledger in table: "source/id" → state
// ("pending" or "handed-on").
func Ledger(tb testing.TB, svc *store.Service, table string) map[string]string {
	tb.Helper()
	out := map[string]string{}
	err := store.NewTable[ledgerEntry](svc, table).Query(context.Background(), "", func(r store.Record[ledgerEntry]) error {
		out[r.Value.PartitionKey+"/"+r.Value.RowKey] = r.Value.State
		return nil
	})
	if err != nil {
		tb.Fatalf("read ledger %s: %v", table, err)
	}
	return out
}

// Drain takes every message off the storage queue (as the TeamsNotify
// trigger would, duplicates included, in queue order) and decodes each as
// a notification. A queue that was never created is empty.
func Drain(tb testing.TB, connectionString, queue string) []notify.Notification {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	q, err := azqueue.NewQueueClientFromConnectionString(connectionString, queue, nil)
	if err != nil {
		tb.Fatal(err)
	}
	var out []notify.Notification
	for {
		n, vis := int32(32), int32(600)
		resp, err := q.DequeueMessages(ctx, &azqueue.DequeueMessagesOptions{NumberOfMessages: &n, VisibilityTimeout: &vis})
		var re *azcore.ResponseError
		if errors.As(err, &re) && re.StatusCode == 404 {
			return out
		}
		if err != nil {
			tb.Fatalf("dequeue from %s: %v", queue, err)
		}
		if len(resp.Messages) == 0 {
			return out
		}
		for _, m := range resp.Messages {
			raw, err := base64.StdEncoding.DecodeString(*m.MessageText)
			if err != nil {
				tb.Fatalf("queue %s: message is not base64: %v", queue, err)
			}
			n, err := notify.Decode(raw)
			if err != nil {
				tb.Fatalf("queue %s: %v", queue, err)
			}
			out = append(out, n)
		}
	}
}

// Copies counts the notifications by id.
func Copies(ns []notify.Notification) map[string]int {
	out := map[string]int{}
	for _, n := range ns {
		out[n.ID]++
	}
	return out
}

// Content describes each distinct notification by what a reader sees
// (route, severity, title, summary and item titles; not its creation
// time), so that two runs compare equal when they said the same thing.
func Content(ns []notify.Notification) map[string]string {
	out := map[string]string{}
	for _, n := range ns {
		items := make([]string, 0, len(n.Items))
		for _, it := range n.Items {
			items = append(items, it.Severity+" "+it.Title)
		}
		sort.Strings(items)
		out[n.ID] = fmt.Sprintf("%s|%s|%s|%s|%s|%q", n.Source, n.Route, n.Severity, n.Title, n.Summary, items)
	}
	return out
}

// Cards is a BlobWriter for TeamsNotify that counts the cards written per
// blob name: with no webhook configured for a route, TeamsNotify delivers
// a card by writing it to a blob, so a count above one is a card delivered
// twice.
type Cards struct {
	mu sync.Mutex
	n  map[string]int
}

// PutBlob counts a card.
func (c *Cards) PutBlob(_ context.Context, container, name string, _ []byte, _ string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n == nil {
		c.n = map[string]int{}
	}
	c.n[container+"/"+name]++
	return nil
}

// Counts returns the writes per blob.
func (c *Cards) Counts() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return maps.Clone(c.n)
}

// NoWebhook is TeamsNotify's sender when no route has a webhook: it is
// never called, and fails if it is.
type NoWebhook struct{}

// Send fails: no webhook is configured.
func (NoWebhook) Send(context.Context, teams.WebhookURL, teams.Message) error {
	return errors.New("outboxtest: no webhook is configured")
}

// End is what a job's notifications came to: the outbox ledger
// ("source/id" → state), what each notification on the queue says, how
// many copies of each were queued, and how many times TeamsNotify wrote
// each card when every copy was delivered.
type End struct {
	Ledger  map[string]string
	Content map[string]string
	Copies  map[string]int
	Cards   map[string]int
}

// Delivered reads the outbox ledger in ledgerTable, takes every message off
// queue, and delivers every copy through TeamsNotify (no webhook: cards go
// to a counting blob writer, with a fresh delivery ledger), as the queue
// trigger would.
func Delivered(tb testing.TB, svc *store.Service, connectionString, ledgerTable, queue string) End {
	tb.Helper()
	ctx := context.Background()
	e := End{Ledger: Ledger(tb, svc, ledgerTable)}
	queued := Drain(tb, connectionString, queue)
	e.Copies, e.Content = Copies(queued), Content(queued)
	deliveries := testutil.UniqueName("deliveries")
	if err := svc.EnsureTables(ctx, deliveries); err != nil {
		tb.Fatal(err)
	}
	cards := &Cards{}
	tn, err := teamsnotify.New(teamsnotify.Config{}, teamsnotify.NewTableLedger(svc, deliveries), NoWebhook{}, cards)
	if err != nil {
		tb.Fatal(err)
	}
	for _, n := range queued {
		if _, err := tn.Deliver(ctx, n); err != nil {
			tb.Fatalf("deliver %s: %v", n.ID, err)
		}
	}
	e.Cards = cards.Counts()
	return e
}

// CheckLikeClean fails tb where got differs from want, the end of a clean
// run: the same ledger, notifications and cards, each notification queued
// once except requeued of them queued twice (the outbox hands on at least
// once; TeamsNotify's delivery ledger makes delivery exactly once).
func (got End) CheckLikeClean(tb testing.TB, want End, requeued int) {
	tb.Helper()
	if !maps.Equal(got.Ledger, want.Ledger) {
		tb.Errorf("outbox ledger differs from a clean run's:\n got %v\nwant %v", got.Ledger, want.Ledger)
	}
	if !maps.Equal(got.Content, want.Content) {
		tb.Errorf("notifications differ from a clean run's:\n got %v\nwant %v", got.Content, want.Content)
	}
	twice := 0
	for id, n := range got.Copies {
		switch {
		case n == 2:
			twice++
		case n != 1:
			tb.Errorf("notification %s queued %d times", id, n)
		}
	}
	if twice != requeued {
		tb.Errorf("%d notifications queued twice; want %d", twice, requeued)
	}
	if !maps.Equal(got.Cards, want.Cards) {
		tb.Errorf("TeamsNotify wrote %d cards; after a clean run %d", len(got.Cards), len(want.Cards))
		for k, n := range got.Cards {
			if n != want.Cards[k] {
				tb.Errorf("card %s written %d times; after a clean run %d", k, n, want.Cards[k])
			}
		}
	}
}

// StopStorageUnder runs run in the background, stops az once gate holds
// it, releases the gate, and requires run to fail with a transient storage
// error within three minutes (not hang, not panic); then starts az again
// on the same data.
func StopStorageUnder(tb testing.TB, az *testutil.PrivateAzurite, gate *testutil.Gate, run func() error) {
	tb.Helper()
	done := make(chan error, 1)
	go func() { done <- run() }()
	gate.WaitReached(tb, time.Minute, nil)
	az.Stop(tb)
	gate.Release()
	select {
	case err := <-done:
		if err == nil || !store.IsTransient(err) {
			tb.Fatalf("run with Azurite stopped returned %v; want a transient error", err)
		}
		tb.Logf("run with Azurite stopped: %v", err)
	case <-time.After(3 * time.Minute):
		tb.Fatal("run with Azurite stopped still running after 3 minutes")
	}
	az.Start(tb)
}
