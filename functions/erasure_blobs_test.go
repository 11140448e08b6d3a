package main

import (
	"context"
	"testing"

	"github.com/council-ict/govkit/shared/testutil"
)

func TestErasureBlobsListAndRead(t *testing.T) {
	conn := testutil.Azurite(t)
	w, err := newBlobWriter(conn, "", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	b := erasureBlobs{w}
	ctx := context.Background()
	container := testutil.UniqueName("ev")
	if got, err := b.ListBlobs(ctx, container, "app/"); err != nil || len(got) != 0 {
		t.Fatalf("missing container: %v %v", got, err)
	}
	if err := w.PutBlob(ctx, container, "app/cert.json", []byte(`{"method":"purge"}`), "application/json"); err != nil {
		t.Fatal(err)
	}
	if err := w.PutBlob(ctx, container, "other/x.json", []byte(`{}`), "application/json"); err != nil {
		t.Fatal(err)
	}
	got, err := b.ListBlobs(ctx, container, "app/")
	if err != nil || len(got) != 1 || got[0].Name != "app/cert.json" || got[0].Modified.IsZero() {
		t.Fatalf("list: %+v %v", got, err)
	}
	body, err := b.GetBlob(ctx, container, "app/cert.json")
	if err != nil || string(body) != `{"method":"purge"}` {
		t.Fatalf("get: %s %v", body, err)
	}
}
