package notify

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"sync"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/messaging/azservicebus"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azqueue"
)

// Message is what a transport carries: an id and a JSON body.
type Message struct {
	ID   string
	Body []byte
}

// Transport hands messages to the notifications queue. Implementations
// are thin: Service Bus in Azure, an Azurite storage queue locally.
type Transport interface {
	Send(ctx context.Context, msgs []Message) error
}

// ServiceBusTransport sends to a Service Bus queue. MessageId is the
// notification ID, so the queue's duplicate detection (when enabled) drops
// repeats within its window; TeamsNotify dedupes beyond it.
type ServiceBusTransport struct {
	sender *azservicebus.Sender
	client *azservicebus.Client
}

// NewServiceBusTransport connects to queue on namespace (fully qualified,
// e.g. council-gov.servicebus.windows.net) with the given credential.
func NewServiceBusTransport(namespace, queue string, cred azcore.TokenCredential) (*ServiceBusTransport, error) {
	client, err := azservicebus.NewClient(namespace, cred, nil)
	if err != nil {
		return nil, fmt.Errorf("service bus %s: %w", namespace, err)
	}
	sender, err := client.NewSender(queue, nil)
	if err != nil {
		return nil, fmt.Errorf("service bus sender for %s: %w", queue, err)
	}
	return &ServiceBusTransport{sender: sender, client: client}, nil
}

// ServiceBusMessage is the exact message sent for m: JSON body, content
// type application/json, MessageId = notification ID.
func ServiceBusMessage(m Message) *azservicebus.Message {
	id := m.ID
	ct := "application/json"
	return &azservicebus.Message{MessageID: &id, ContentType: &ct, Body: m.Body}
}

// Send sends msgs in as few batches as the size limit allows.
func (t *ServiceBusTransport) Send(ctx context.Context, msgs []Message) error {
	batch, err := t.sender.NewMessageBatch(ctx, nil)
	if err != nil {
		return fmt.Errorf("service bus batch: %w", err)
	}
	for i := 0; i < len(msgs); {
		err := batch.AddMessage(ServiceBusMessage(msgs[i]), nil)
		switch {
		case err == nil:
			i++
			continue
		case errors.Is(err, azservicebus.ErrMessageTooLarge) && batch.NumMessages() > 0:
			if err := t.sender.SendMessageBatch(ctx, batch, nil); err != nil {
				return fmt.Errorf("service bus send: %w", err)
			}
			if batch, err = t.sender.NewMessageBatch(ctx, nil); err != nil {
				return fmt.Errorf("service bus batch: %w", err)
			}
		default:
			return fmt.Errorf("service bus message %s: %w", msgs[i].ID, err)
		}
	}
	if batch.NumMessages() > 0 {
		if err := t.sender.SendMessageBatch(ctx, batch, nil); err != nil {
			return fmt.Errorf("service bus send: %w", err)
		}
	}
	return nil
}

// Close closes the connection.
func (t *ServiceBusTransport) Close(ctx context.Context) error {
	_ = t.sender.Close(ctx)
	return t.client.Close(ctx)
}

// QueueTransport sends to a Storage queue, base64-encoded as the Functions
// queue trigger expects by default. Locally it stands in for Service Bus.
type QueueTransport struct {
	q       *azqueue.QueueClient
	mu      sync.Mutex
	created bool
}

// NewQueueTransport returns a transport to queue in the account behind
// connectionString.
func NewQueueTransport(connectionString, queue string) (*QueueTransport, error) {
	q, err := azqueue.NewQueueClientFromConnectionString(connectionString, queue, nil)
	if err != nil {
		return nil, fmt.Errorf("storage queue %s: %w", queue, err)
	}
	return &QueueTransport{q: q}, nil
}

// Send enqueues each message; the queue is created on first use.
func (t *QueueTransport) Send(ctx context.Context, msgs []Message) error {
	if err := t.create(ctx); err != nil {
		return err
	}
	for _, m := range msgs {
		if _, err := t.q.EnqueueMessage(ctx, base64.StdEncoding.EncodeToString(m.Body), nil); err != nil {
			return fmt.Errorf("enqueue notification %s: %w", m.ID, err)
		}
	}
	return nil
}

// create creates the queue unless an earlier call did. Only success is
// remembered: a failure (storage unreachable for a moment) is tried again
// on the next Send rather than failing every Send for the life of the
// process.
func (t *QueueTransport) create(ctx context.Context) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.created {
		return nil
	}
	_, err := t.q.Create(ctx, nil)
	var re *azcore.ResponseError
	if err != nil && !(errors.As(err, &re) && re.StatusCode == 409) {
		return fmt.Errorf("create queue: %w", err)
	}
	t.created = true
	return nil
}
