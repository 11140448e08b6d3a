// Package localhost is the project's local Functions host: what `func
// start` does, for the trigger types the app uses, without Azure Functions
// Core Tools.
//
// It reads the staged app the real host reads (host.json and
// <Function>/function.json), starts the custom handler with
// FUNCTIONS_CUSTOMHANDLER_PORT, waits for it to answer GET /, and then
// invokes functions over the real custom-handler protocol on loopback:
//
//   - HTTP triggers on http://127.0.0.1:7071/<routePrefix>/<route>;
//   - timers on their NCRONTAB schedules (UTC);
//   - Storage queue triggers from Azurite, and Service Bus queue triggers
//     from Azurite storage queues standing in for Service Bus, with the
//     host's retry, poison (-poison) and dead-letter (-deadletter) handling;
//   - POST /admin/functions/<Name> {"input":"..."} to run a non-HTTP
//     function now, GET /admin/functions to list them.
//
// Queue and serviceBus output bindings are written to Azurite queues; other
// output bindings (blob, table) are not performed (a warning is logged).
package localhost

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
)

// Options configures Run. Zero values take the defaults noted.
type Options struct {
	// AppDir is the staged app: host.json, the handler executable and
	// <FunctionName>/function.json folders.
	AppDir string
	// Addr is where HTTP triggers and the admin API are served
	// (default "127.0.0.1:7071"; "127.0.0.1:0" picks a free port, see Ready).
	Addr string
	// Settings are the app settings: the worker's extra environment, and
	// the source for %Setting% references.
	Settings map[string]string
	// StorageConnectionString is the Azurite account used for queue
	// triggers, the Service Bus stand-in queues and queue outputs. Default:
	// Settings["AzureWebJobsStorage"]. Needed only if a function uses queues.
	StorageConnectionString string
	// Worker, if set, is an already running handler to call instead of
	// spawning host.json's executable (for tests).
	Worker *url.URL
	// VisibilityTimeout is how long a received message stays invisible
	// while its function runs; the lease is renewed at half this interval,
	// and a message whose host died reappears after it (default 30s).
	VisibilityTimeout time.Duration
	// RetryDelay is how long a failed message stays invisible before it is
	// retried, unless host.json sets extensions.queues.visibilityTimeout
	// for Storage queues (default 1s).
	RetryDelay time.Duration
	// PollInterval is the wait after an empty receive (default 1s).
	PollInterval time.Duration
	// MaxDeliveries bounds deliveries of a Service Bus stand-in message
	// before it is dead-lettered (default 5; Azure's MaxDeliveryCount is an
	// entity setting, 10 unless the project's Bicep sets it).
	MaxDeliveries int
	// MaxRequestBodyBytes bounds HTTP trigger request bodies (default
	// DefaultMaxRequestBodyBytes, 100 MB as on Azure); larger ones get 413.
	MaxRequestBodyBytes int64
	// StartupTimeout bounds the wait for the worker to answer GET / (default 30s).
	StartupTimeout time.Duration
	// ShutdownGrace is how long the worker gets to exit after SIGTERM
	// before it is killed (default 10s).
	ShutdownGrace time.Duration
	// Ready, if set, is called once the worker answers, queues exist and
	// the HTTP listener is open, with the listener's address.
	Ready func(addr string)
	// Log receives one line per invocation and the host's own messages.
	Log zerolog.Logger
}

func (o Options) withDefaults() Options {
	if o.Addr == "" {
		o.Addr = "127.0.0.1:7071"
	}
	if o.VisibilityTimeout <= 0 {
		o.VisibilityTimeout = 30 * time.Second
	}
	if o.RetryDelay < 0 {
		o.RetryDelay = 0
	} else if o.RetryDelay == 0 {
		o.RetryDelay = time.Second
	}
	if o.PollInterval <= 0 {
		o.PollInterval = time.Second
	}
	if o.MaxDeliveries <= 0 {
		o.MaxDeliveries = 5
	}
	if o.MaxRequestBodyBytes <= 0 {
		o.MaxRequestBodyBytes = DefaultMaxRequestBodyBytes
	}
	if o.StartupTimeout <= 0 {
		o.StartupTimeout = 30 * time.Second
	}
	if o.ShutdownGrace <= 0 {
		o.ShutdownGrace = 10 * time.Second
	}
	if o.StorageConnectionString == "" {
		o.StorageConnectionString = o.Settings["AzureWebJobsStorage"]
	}
	return o
}

// host is one Run.
type host struct {
	app *App
	o   Options
	inv *invoker
	log zerolog.Logger
}

// Run loads the app, starts the worker (unless o.Worker is set) and serves
// triggers until ctx is done. It then stops accepting work, cancels
// in-flight invocations (their queue messages reappear after the
// visibility timeout), and stops the worker: SIGTERM, then a kill after
// o.ShutdownGrace. It returns nil after a clean shutdown, and an error if
// the app does not load, the worker does not start or dies, or a listener
// cannot be opened.
func Run(ctx context.Context, o Options) error {
	o = o.withDefaults()
	app, err := LoadApp(o.AppDir, o.Settings)
	if err != nil {
		return err
	}
	for _, w := range app.Warnings {
		o.Log.Warn().Msg(w)
	}
	h := &host{app: app, o: o, log: o.Log}

	// Storage first: it is cheap to check and fails fast.
	var store *queueStore
	if needsStorage(app) {
		if o.StorageConnectionString == "" {
			return errors.New("functions use queues but no storage connection string is set (Options.StorageConnectionString or the AzureWebJobsStorage setting)")
		}
		if store, err = newQueueStore(o.StorageConnectionString); err != nil {
			return err
		}
		if err := h.ensureQueues(ctx, store); err != nil {
			return err
		}
	}

	ln, err := net.Listen("tcp", o.Addr)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", o.Addr, err)
	}
	defer ln.Close()

	var wk *worker
	base := o.Worker
	if base == nil {
		if wk, err = startWorker(ctx, app, o); err != nil {
			return err
		}
		base = wk.url
		defer wk.stop(o.ShutdownGrace)
	}
	h.inv = &invoker{base: base, client: &http.Client{}, log: o.Log}
	if store != nil {
		h.inv.out = store
	}

	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	busy := map[string]*atomic.Int32{}
	for _, fn := range app.Functions {
		busy[fn.Name] = &atomic.Int32{}
	}
	admin := func(fn *Function, input string) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b := busy[fn.Name]
			b.Add(1)
			defer b.Add(-1)
			h.inv.call(runCtx, h.adminInvocation(fn, input))
		}()
	}
	srv := &http.Server{
		Handler:           newFrontEnd(app, h.inv, o.MaxRequestBodyBytes, admin),
		ReadHeaderTimeout: 10 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return runCtx },
	}
	srvErr := make(chan error, 1)
	go func() { srvErr <- srv.Serve(ln) }()

	for _, fn := range app.Functions {
		switch fn.Trigger.Type {
		case TriggerTimer:
			wg.Add(1)
			go func() { defer wg.Done(); h.runTimer(runCtx, fn, busy[fn.Name]) }()
		case TriggerQueue, TriggerServiceBus:
			l := h.newListener(fn, store)
			wg.Add(1)
			go func() { defer wg.Done(); l.run(runCtx) }()
		}
	}
	o.Log.Info().Str("addr", ln.Addr().String()).Int("functions", len(app.Functions)).Msg("local host running")
	if o.Ready != nil {
		o.Ready(ln.Addr().String())
	}

	var exited <-chan struct{}
	if wk != nil {
		exited = wk.done()
	}
	var runErr error
	select {
	case <-ctx.Done():
	case err := <-srvErr:
		runErr = fmt.Errorf("http server: %w", err)
	case <-exited:
		runErr = fmt.Errorf("worker exited unexpectedly: %v", wk.exitErr())
	}
	o.Log.Info().Msg("local host stopping")
	cancel()
	shut, stop := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer stop()
	_ = srv.Shutdown(shut)
	wg.Wait()
	return runErr
}

func needsStorage(app *App) bool {
	for _, fn := range app.Functions {
		if fn.queue != "" || len(fn.outputs) > 0 {
			return true
		}
	}
	return false
}

// ensureQueues creates every trigger queue, its poison / dead-letter queue,
// and every output queue.
func (h *host) ensureQueues(ctx context.Context, store *queueStore) error {
	var errs []error
	for _, fn := range h.app.Functions {
		names := []string{}
		if fn.queue != "" {
			names = append(names, fn.queue, deadQueue(fn))
		}
		for _, ob := range fn.outputs {
			names = append(names, ob.queue)
		}
		for _, n := range names {
			if err := store.ensure(ctx, n); err != nil {
				errs = append(errs, fmt.Errorf("function %s: %w", fn.Name, err))
			}
		}
	}
	return errors.Join(errs...)
}

func deadQueue(fn *Function) string {
	if fn.Trigger.Type == TriggerServiceBus {
		return fn.queue + "-deadletter"
	}
	return fn.queue + "-poison"
}

func (h *host) newListener(fn *Function, store *queueStore) *listener {
	sb := fn.Trigger.Type == TriggerServiceBus
	l := &listener{
		fn:         fn,
		sb:         sb,
		q:          store.svc.NewQueueClient(fn.queue),
		deadName:   deadQueue(fn),
		visibility: h.o.VisibilityTimeout,
		retryDelay: h.o.RetryDelay,
		poll:       h.o.PollInterval,
		base64:     true,
		inv:        h.inv,
		log:        h.log,
	}
	l.dead = store.svc.NewQueueClient(l.deadName)
	if sb {
		l.maxTries = int64(h.o.MaxDeliveries)
		l.concurrency = h.app.Host.ServiceBusMaxConcurrentCalls
	} else {
		l.maxTries = int64(h.app.Host.MaxDequeueCount)
		l.concurrency = h.app.Host.QueueBatchSize
		l.base64 = h.app.Host.Base64Messages
		if h.app.Host.QueueVisibilityTimeout > 0 {
			l.retryDelay = h.app.Host.QueueVisibilityTimeout
		}
	}
	return l
}

// adminInvocation builds the payload for POST /admin/functions/<Name>.
// A timer gets a null ScheduleStatus; a queue or Service Bus function gets
// input as the message body, with metadata of a first delivery.
func (h *host) adminInvocation(fn *Function, input string) *invocation {
	inv := newInvocation(fn, "admin")
	now := time.Now().UTC()
	switch fn.Trigger.Type {
	case TriggerTimer:
		inv.data[fn.Trigger.Name] = timerData(false, time.Time{}, time.Time{}, false)
	case TriggerQueue:
		inv.data[fn.Trigger.Name] = input
		inv.metadata["Id"] = metaString(newUUID())
		inv.metadata["DequeueCount"] = metaString(1)
		inv.metadata["InsertionTime"] = hostTime(now)
		inv.metadata["ExpirationTime"] = hostTime(now.Add(7 * 24 * time.Hour))
		inv.metadata["NextVisibleTime"] = hostTime(now)
		inv.metadata["PopReceipt"] = metaString("")
	case TriggerServiceBus:
		inv.data[fn.Trigger.Name] = input
		sbMetadata(inv, strings.ReplaceAll(newUUID(), "-", ""), newUUID(), 1, now, now.Add(14*24*time.Hour), input)
	}
	return inv
}
