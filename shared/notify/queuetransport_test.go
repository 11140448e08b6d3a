package notify

import (
	"context"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azqueue"
	"github.com/council-ict/govkit/shared/testutil"
)

// TestQueueTransportRecoversFromAFailedCreate: a first Send that cannot
// create the queue (storage down, here a cancelled call) does not make
// every later Send of the same transport fail. It did: the creation's
// error was kept in a sync.Once, so a long-running local host stopped
// handing on notifications for good after one Azurite restart.
func TestQueueTransportRecoversFromAFailedCreate(t *testing.T) {
	conn := testutil.Azurite(t)
	name := testutil.UniqueName("notes")
	tr, err := NewQueueTransport(conn, name)
	if err != nil {
		t.Fatal(err)
	}
	q, _ := azqueue.NewQueueClientFromConnectionString(conn, name, nil)
	t.Cleanup(func() { _, _ = q.Delete(context.Background(), nil) })
	msgs := []Message{{ID: "x:1", Body: []byte(`{}`)}}
	dead, cancel := context.WithCancel(context.Background())
	cancel()
	if err := tr.Send(dead, msgs); err == nil {
		t.Fatal("Send with a cancelled context succeeded")
	}
	if err := tr.Send(context.Background(), msgs); err != nil {
		t.Fatalf("Send after a failed queue creation: %v", err)
	}
	props, err := q.GetProperties(context.Background(), nil)
	if err != nil || props.ApproximateMessagesCount == nil || *props.ApproximateMessagesCount != 1 {
		t.Fatalf("queue holds %v messages (%v); want 1", props.ApproximateMessagesCount, err)
	}
}
