package localhost

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azqueue"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azqueue/queueerror"
	"github.com/rs/zerolog"
)

// queueStore is the Azurite queue service.
type queueStore struct {
	svc *azqueue.ServiceClient

	mu      sync.Mutex
	created map[string]bool
}

// devStorage is the well-known Azurite account, for "UseDevelopmentStorage=true".
const devStorage = "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;" +
	"AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;" +
	"QueueEndpoint=http://127.0.0.1:10001/devstoreaccount1;"

func newQueueStore(conn string) (*queueStore, error) {
	if strings.Contains(strings.ToLower(conn), "usedevelopmentstorage=true") {
		conn = devStorage
	}
	svc, err := azqueue.NewServiceClientFromConnectionString(conn, nil)
	if err != nil {
		return nil, fmt.Errorf("storage connection string: %w", err)
	}
	return &queueStore{svc: svc, created: map[string]bool{}}, nil
}

// ensure creates the queue if it does not exist.
func (s *queueStore) ensure(ctx context.Context, name string) error {
	s.mu.Lock()
	done := s.created[name]
	s.mu.Unlock()
	if done {
		return nil
	}
	if _, err := s.svc.CreateQueue(ctx, name, nil); err != nil && !queueerror.HasCode(err, queueerror.QueueAlreadyExists) {
		return fmt.Errorf("creating queue %s: %w", name, err)
	}
	s.mu.Lock()
	s.created[name] = true
	s.mu.Unlock()
	return nil
}

// enqueue adds already-encoded message texts to a queue, creating it if needed.
func (s *queueStore) enqueue(ctx context.Context, queue string, texts []string) error {
	if err := s.ensure(ctx, queue); err != nil {
		return err
	}
	q := s.svc.NewQueueClient(queue)
	for _, t := range texts {
		if _, err := q.EnqueueMessage(ctx, t, nil); err != nil {
			return fmt.Errorf("enqueue to %s: %w", queue, err)
		}
	}
	return nil
}

// listener delivers one queue's messages to a function.
type listener struct {
	fn          *Function
	sb          bool // a Service Bus queue stand-in
	q, dead     *azqueue.QueueClient
	deadName    string
	maxTries    int64
	visibility  time.Duration
	retryDelay  time.Duration
	poll        time.Duration
	concurrency int
	base64      bool
	inv         *invoker
	log         zerolog.Logger
}

func secs(d time.Duration) *int32 {
	s := int32((d + time.Second - 1) / time.Second)
	return &s
}

// run polls the queue until ctx ends. At most concurrency messages are in
// flight. A message is deleted only after the function succeeded, so
// stopping the host at any moment loses nothing: an unfinished message
// reappears when its visibility timeout runs out.
func (l *listener) run(ctx context.Context) {
	sem := make(chan struct{}, l.concurrency)
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			return
		}
		n := 1
	more:
		for n < l.concurrency && n < 32 {
			select {
			case sem <- struct{}{}:
				n++
			default:
				break more
			}
		}
		vis := secs(max(l.visibility, time.Second))
		resp, err := l.q.DequeueMessages(ctx, &azqueue.DequeueMessagesOptions{NumberOfMessages: ptr(int32(n)), VisibilityTimeout: vis})
		got := 0
		if err == nil {
			got = len(resp.Messages)
		} else if ctx.Err() == nil {
			l.log.Warn().Err(err).Str("function", l.fn.Name).Msg("receiving from queue failed")
		}
		for i := got; i < n; i++ {
			<-sem
		}
		for _, m := range resp.Messages {
			wg.Add(1)
			go func(m *azqueue.DequeuedMessage) {
				defer wg.Done()
				defer func() { <-sem }()
				l.handle(ctx, m)
			}(m)
		}
		if got == 0 {
			select {
			case <-time.After(l.poll):
			case <-ctx.Done():
				return
			}
		}
	}
}

func ptr[T any](v T) *T { return &v }

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// lease tracks a message's current pop receipt, which changes every time
// its visibility is extended.
type lease struct {
	mu      sync.Mutex
	receipt string
}

func (l *lease) get() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.receipt
}

func (l *lease) set(r string) {
	l.mu.Lock()
	l.receipt = r
	l.mu.Unlock()
}

func (l *listener) handle(ctx context.Context, m *azqueue.DequeuedMessage) {
	id, text, count := deref(m.MessageID), deref(m.MessageText), deref(m.DequeueCount)
	ls := &lease{receipt: deref(m.PopReceipt)}
	log := l.log.With().Str("function", l.fn.Name).Str("messageId", id).Int64("dequeueCount", count).Logger()
	// Storage copies a message that was already tried too often (the host
	// died during its last try) straight to the poison queue.
	if count > l.maxTries {
		l.deadLetter(ctx, log, id, text, ls)
		return
	}
	body := text
	if l.base64 {
		if b, err := base64.StdEncoding.DecodeString(text); err == nil {
			body = string(b)
		}
	}
	trigger := "queue"
	if l.sb {
		trigger = "serviceBus"
	}
	inv := newInvocation(l.fn, trigger)
	inv.data[l.fn.Trigger.Name] = body
	l.fillMetadata(inv, m, body)

	stop := make(chan struct{})
	renewed := make(chan struct{})
	go func() { defer close(renewed); l.renew(ctx, stop, log, id, text, ls) }()
	o := l.inv.call(ctx, inv)
	close(stop)
	<-renewed // an in-flight renewal completes, so ls holds the current pop receipt

	// Finish the message even when shutdown began just after the function
	// succeeded, so a completed message is not delivered again.
	fin, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	switch {
	case o.err == nil:
		if _, err := l.q.DeleteMessage(fin, id, ls.get(), nil); err != nil {
			log.Warn().Err(err).Msg("deleting a completed message failed; it will be delivered again")
		}
	case ctx.Err() != nil:
		// Shutting down mid-invocation: leave the message; it reappears
		// after its visibility timeout.
	case count >= l.maxTries:
		l.deadLetter(fin, log, id, text, ls)
	default:
		if _, err := l.q.UpdateMessage(fin, id, ls.get(), text, &azqueue.UpdateMessageOptions{VisibilityTimeout: secs(l.retryDelay)}); err != nil {
			log.Warn().Err(err).Msg("releasing a failed message failed; it reappears after its visibility timeout")
		}
	}
}

// renew keeps the message invisible while the function runs, as the host
// does, so a long invocation is not delivered twice. A renewal is never
// cancelled half-way: the service may already have rotated the pop receipt,
// and losing the new one would make the final delete fail.
func (l *listener) renew(ctx context.Context, stop <-chan struct{}, log zerolog.Logger, id, text string, ls *lease) {
	every := max(l.visibility/2, 500*time.Millisecond)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-stop:
			return
		case <-t.C:
		}
		call, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		resp, err := l.q.UpdateMessage(call, id, ls.get(), text, &azqueue.UpdateMessageOptions{VisibilityTimeout: secs(max(l.visibility, time.Second))})
		cancel()
		if err != nil {
			log.Warn().Err(err).Msg("extending message visibility failed")
			continue
		}
		ls.set(deref(resp.PopReceipt))
	}
}

// deadLetter copies the message text to the poison / dead-letter queue and
// deletes the original.
func (l *listener) deadLetter(ctx context.Context, log zerolog.Logger, id, text string, ls *lease) {
	if _, err := l.dead.EnqueueMessage(ctx, text, &azqueue.EnqueueMessageOptions{TimeToLive: ptr(int32(-1))}); err != nil {
		log.Error().Err(err).Str("queue", l.deadName).Msg("moving message to the poison queue failed; it will be tried again")
		return
	}
	if _, err := l.q.DeleteMessage(ctx, id, ls.get(), nil); err != nil {
		log.Warn().Err(err).Msg("deleting a poisoned message failed")
	}
	log.Warn().Str("queue", l.deadName).Msg("message moved to the poison queue after too many failed deliveries")
}

// fillMetadata adds the trigger metadata with the real host's shapes:
// scalars JSON-encoded and embedded as strings.
func (l *listener) fillMetadata(inv *invocation, m *azqueue.DequeuedMessage, body string) {
	id, receipt, count := deref(m.MessageID), deref(m.PopReceipt), deref(m.DequeueCount)
	ins, exp, next := deref(m.InsertionTime), deref(m.ExpirationTime), deref(m.TimeNextVisible)
	if !l.sb {
		inv.metadata["Id"] = metaString(id)
		inv.metadata["DequeueCount"] = metaString(count)
		inv.metadata["InsertionTime"] = hostTime(ins)
		inv.metadata["ExpirationTime"] = hostTime(exp)
		inv.metadata["NextVisibleTime"] = hostTime(next)
		inv.metadata["PopReceipt"] = metaString(receipt)
		return
	}
	sbMetadata(inv, id, receipt, count, ins, exp, body)
}

func sbMetadata(inv *invocation, id, lockToken string, count int64, enqueued, expires time.Time, body string) {
	const utc = "2006-01-02T15:04:05.9999999Z"
	inv.metadata["MessageId"] = metaString(id)
	inv.metadata["DeliveryCount"] = metaString(count)
	inv.metadata["LockToken"] = metaString(lockToken)
	inv.metadata["EnqueuedTimeUtc"] = enqueued.UTC().Format(utc)
	inv.metadata["EnqueuedTime"] = hostTime(enqueued)
	inv.metadata["ExpiresAtUtc"] = expires.UTC().Format(utc)
	inv.metadata["ExpiresAt"] = hostTime(expires)
	// Storage messages have no sequence number; the insertion time in
	// microseconds is stable across redeliveries and roughly ordered.
	inv.metadata["SequenceNumber"] = metaString(enqueued.UnixMicro())
	// Nor a content type: a JSON object or array body is labelled
	// application/json, anything else gets none (the host omits nulls).
	if t := strings.TrimSpace(body); (strings.HasPrefix(t, "{") || strings.HasPrefix(t, "[")) && json.Valid([]byte(t)) {
		inv.metadata["ContentType"] = metaString("application/json")
	}
	inv.metadata["ApplicationProperties"] = map[string]any{}
	inv.metadata["UserProperties"] = map[string]any{}
}
