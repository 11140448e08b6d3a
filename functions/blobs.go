package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/bloberror"
)

// blobWriter writes small blobs (cards in teams-outbox, run reports),
// creating each container on first use.
type blobWriter struct {
	client  *azblob.Client
	mu      sync.Mutex
	created map[string]bool
}

func newBlobWriter(connectionString, account, suffix string, cred azcore.TokenCredential) (*blobWriter, error) {
	var c *azblob.Client
	var err error
	if connectionString != "" {
		c, err = azblob.NewClientFromConnectionString(connectionString, nil)
	} else {
		c, err = azblob.NewClient(fmt.Sprintf("https://%s.blob.%s/", account, suffix), cred, nil)
	}
	if err != nil {
		return nil, errors.New("blob client: " + err.Error())
	}
	return &blobWriter{client: c, created: map[string]bool{}}, nil
}

// PutBlob writes body to container/name, replacing any blob there.
func (w *blobWriter) PutBlob(ctx context.Context, container, name string, body []byte, contentType string) error {
	w.mu.Lock()
	done := w.created[container]
	w.mu.Unlock()
	if !done {
		if _, err := w.client.CreateContainer(ctx, container, nil); err != nil && !bloberror.HasCode(err, bloberror.ContainerAlreadyExists) {
			return fmt.Errorf("create container %s: %w", container, err)
		}
		w.mu.Lock()
		w.created[container] = true
		w.mu.Unlock()
	}
	_, err := w.client.UploadStream(ctx, container, name, bytes.NewReader(body), &azblob.UploadStreamOptions{
		HTTPHeaders: &blob.HTTPHeaders{BlobContentType: &contentType},
	})
	if err != nil {
		return fmt.Errorf("write blob %s/%s: %w", container, name, err)
	}
	return nil
}
