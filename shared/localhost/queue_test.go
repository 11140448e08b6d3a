package localhost

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/council-ict/govkit/shared/funcapp"
	"github.com/council-ict/govkit/shared/testutil"
)

// delivery is what a queue handler saw.
type delivery struct {
	body  string
	count int64
	id    string
}

func decodeDelivery(inv funcapp.Invocation, sb bool) (delivery, error) {
	if sb {
		m, err := inv.ServiceBusMessage("msg")
		return delivery{string(m.Body), m.DeliveryCount, m.MessageID}, err
	}
	m, err := inv.QueueMessage("msg")
	return delivery{string(m.Body), m.DequeueCount, m.ID}, err
}

func TestQueueDelivery(t *testing.T) {
	conn := testutil.Azurite(t)
	const bound = 3
	type behaviour int
	const (
		succeed behaviour = iota
		alwaysFail
		failOnce
	)
	tests := []struct {
		name      string
		sb        bool
		behaviour behaviour
		text      string
		raw       bool // enqueue the text as is, not base64
		wantCalls int
		wantDead  int32
	}{
		{"storage success", false, succeed, `{"contractId":"c-1"}`, false, 1, 0},
		{"storage raw text fallback", false, succeed, "not base64 at all!", true, 1, 0},
		{"storage always failing goes to poison", false, alwaysFail, "fail", false, bound, 1},
		{"storage failing once is retried", false, failOnce, "flaky", false, 2, 0},
		{"servicebus success", true, succeed, `{"listId":"l-1"}`, false, 1, 0},
		{"servicebus always failing is dead-lettered", true, alwaysFail, "fail", false, bound, 1},
		{"servicebus failing once is retried", true, failOnce, "flaky", false, 2, 0},
	}

	handlers := map[string]funcapp.Handler{}
	functions := map[string]string{}
	settings := map[string]string{}
	type state struct {
		mu    sync.Mutex
		seen  []delivery
		errs  []error
		calls atomic.Int32
	}
	states := make([]*state, len(tests))
	queues := make([]string, len(tests))
	for i, tt := range tests {
		st := &state{}
		states[i] = st
		queues[i] = testutil.UniqueName(fmt.Sprintf("q%d", i))
		name := fmt.Sprintf("Fn%d", i)
		typ := "queueTrigger"
		if tt.sb {
			typ = "serviceBusTrigger"
		}
		// The queue name comes from a setting, as %Setting% in function.json.
		settings[fmt.Sprintf("QUEUE_%d", i)] = queues[i]
		functions[name] = fmt.Sprintf(`{"bindings":[{"name":"msg","type":%q,"direction":"in","queueName":"%%QUEUE_%d%%","connection":"X"}]}`, typ, i)
		sb, b := tt.sb, tt.behaviour
		handlers[name] = funcapp.HandlerFunc(func(ctx context.Context, inv funcapp.Invocation) (funcapp.Result, error) {
			d, err := decodeDelivery(inv, sb)
			st.mu.Lock()
			st.seen = append(st.seen, d)
			st.errs = append(st.errs, err)
			st.mu.Unlock()
			n := st.calls.Add(1)
			if b == alwaysFail || (b == failOnce && n == 1) {
				return funcapp.Result{}, errBoom
			}
			return funcapp.Result{}, nil
		})
	}
	host := fmt.Sprintf(`{"version":"2.0","customHandler":{"description":{"defaultExecutablePath":"handler"}},"extensions":{"queues":{"maxDequeueCount":%d}}}`, bound)
	dir := writeApp(t, host, functions)
	startHost(t, Options{
		AppDir: dir, Worker: testWorker(t, handlers), StorageConnectionString: conn, Settings: settings,
		MaxDeliveries: bound, PollInterval: 100 * time.Millisecond, RetryDelay: -1, VisibilityTimeout: 5 * time.Second,
	})
	for i, tt := range tests {
		q := queueClient(t, conn, queues[i])
		if tt.raw {
			_, err := q.EnqueueMessage(context.Background(), tt.text, nil)
			must(t, err)
		} else {
			enqueueBase64(t, q, tt.text)
		}
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := states[i]
			q := queueClient(t, conn, queues[i])
			deadName := queues[i] + "-poison"
			if tt.sb {
				deadName = queues[i] + "-deadletter"
			}
			dead := queueClient(t, conn, deadName)
			eventually(t, 90*time.Second, "the message to be finished", func() bool {
				return int(st.calls.Load()) >= tt.wantCalls && messageCount(t, q) == 0
			})
			time.Sleep(300 * time.Millisecond) // would a stray extra delivery show up?
			st.mu.Lock()
			defer st.mu.Unlock()
			if len(st.seen) != tt.wantCalls {
				t.Fatalf("%d deliveries, want %d", len(st.seen), tt.wantCalls)
			}
			for n, d := range st.seen {
				if st.errs[n] != nil {
					t.Fatalf("delivery %d did not decode: %v", n+1, st.errs[n])
				}
				if d.body != tt.text || d.count != int64(n+1) || d.id == "" || d.id != st.seen[0].id {
					t.Fatalf("delivery %d = %+v, want body %q count %d and a stable id", n+1, d, tt.text, n+1)
				}
			}
			if got := messageCount(t, dead); got != tt.wantDead {
				t.Fatalf("%d messages in %s, want %d", got, deadName, tt.wantDead)
			}
		})
	}
}

// TestKillMidRun stops the host while an invocation is in flight: the
// message must come back to a new host and complete; nothing is lost.
func TestKillMidRun(t *testing.T) {
	conn := testutil.Azurite(t)
	queue := testutil.UniqueName("kill")
	started := make(chan int64, 4)
	var completed atomic.Int32
	handlers := map[string]funcapp.Handler{
		"Slow": funcapp.HandlerFunc(func(ctx context.Context, inv funcapp.Invocation) (funcapp.Result, error) {
			m, err := inv.QueueMessage("msg")
			if err != nil {
				return funcapp.Result{}, err
			}
			started <- m.DequeueCount
			if m.DequeueCount == 1 {
				<-ctx.Done() // blocks until the host goes away
				return funcapp.Result{}, ctx.Err()
			}
			completed.Add(1)
			return funcapp.Result{}, nil
		}),
	}
	dir := writeApp(t, testHostJSON, map[string]string{
		"Slow": `{"bindings":[{"name":"msg","type":"queueTrigger","direction":"in","queueName":"` + queue + `"}]}`,
	})
	worker := testWorker(t, handlers)
	o := Options{AppDir: dir, Worker: worker, StorageConnectionString: conn, VisibilityTimeout: 6 * time.Second, PollInterval: 100 * time.Millisecond}

	first := startHost(t, o)
	enqueueBase64(t, queueClient(t, conn, queue), "work item")
	if n := recv(t, started, 60*time.Second, "first delivery"); n != 1 {
		t.Fatalf("first delivery count %d", n)
	}
	time.Sleep(7 * time.Second) // longer than the visibility timeout: the lease is renewed
	select {
	case n := <-started:
		t.Fatalf("delivered again (count %d) while the first invocation was running", n)
	default:
	}
	if err := first.stop(t); err != nil {
		t.Fatalf("first Run: %v", err)
	}

	startHost(t, o)
	if n := recv(t, started, 60*time.Second, "redelivery after restart"); n != 2 {
		t.Fatalf("redelivery count %d, want 2", n)
	}
	q := queueClient(t, conn, queue)
	eventually(t, 60*time.Second, "the message to be deleted", func() bool { return messageCount(t, q) == 0 })
	if completed.Load() != 1 {
		t.Fatalf("completed %d times", completed.Load())
	}
	if n := messageCount(t, queueClient(t, conn, queue+"-poison")); n != 0 {
		t.Fatalf("%d poison messages", n)
	}
}

// TestQueueOutput checks that queue and serviceBus outputs are written as
// base64 messages that the stand-in triggers read back.
func TestQueueOutput(t *testing.T) {
	conn := testutil.Azurite(t)
	in, out := testutil.UniqueName("outin"), testutil.UniqueName("outsb")
	got := make(chan string, 4)
	handlers := map[string]funcapp.Handler{
		"Producer": funcapp.HandlerFunc(func(ctx context.Context, inv funcapp.Invocation) (funcapp.Result, error) {
			return funcapp.Result{Outputs: map[string]any{"notify": []any{"first message!", map[string]any{"n": 2}}}}, nil
		}),
		"Consumer": funcapp.HandlerFunc(func(ctx context.Context, inv funcapp.Invocation) (funcapp.Result, error) {
			m, err := inv.ServiceBusMessage("msg")
			if err != nil {
				return funcapp.Result{}, err
			}
			got <- string(m.Body)
			return funcapp.Result{}, nil
		}),
	}
	dir := writeApp(t, testHostJSON, map[string]string{
		"Producer": `{"bindings":[{"name":"msg","type":"queueTrigger","direction":"in","queueName":"` + in + `"},` +
			`{"name":"notify","type":"serviceBus","direction":"out","queueName":"` + out + `"}]}`,
		"Consumer": `{"bindings":[{"name":"msg","type":"serviceBusTrigger","direction":"in","queueName":"` + out + `"}]}`,
	})
	startHost(t, Options{AppDir: dir, Worker: testWorker(t, handlers), StorageConnectionString: conn, PollInterval: 100 * time.Millisecond})
	enqueueBase64(t, queueClient(t, conn, in), "go")
	seen := map[string]bool{}
	for range 2 {
		seen[recv(t, got, 60*time.Second, "consumer delivery")] = true
	}
	if !seen["first message!"] || !seen[`{"n":2}`] {
		t.Fatalf("consumer saw %v", seen)
	}
}
