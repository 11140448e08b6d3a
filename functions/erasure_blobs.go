package main

import (
	"context"
	"fmt"
	"io"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/bloberror"
	"github.com/council-ict/govkit/functions/dataerasurechecks"
)

// erasureBlobs adds the listing and reading DataErasureChecks needs to the
// blob writer.
type erasureBlobs struct{ *blobWriter }

// ListBlobs lists the blobs under prefix; a missing container is empty.
func (b erasureBlobs) ListBlobs(ctx context.Context, container, prefix string) ([]dataerasurechecks.Blob, error) {
	var out []dataerasurechecks.Blob
	pager := b.client.NewListBlobsFlatPager(container, &azblob.ListBlobsFlatOptions{Prefix: &prefix})
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if bloberror.HasCode(err, bloberror.ContainerNotFound) {
			return nil, nil
		}
		if err != nil {
			return nil, fmt.Errorf("list %s/%s: %w", container, prefix, err)
		}
		for _, it := range page.Segment.BlobItems {
			x := dataerasurechecks.Blob{}
			if it.Name != nil {
				x.Name = *it.Name
			}
			if it.Properties != nil && it.Properties.LastModified != nil {
				x.Modified = it.Properties.LastModified.UTC()
			}
			out = append(out, x)
		}
	}
	return out, nil
}

// maxEvidenceRecord bounds a metadata record read into memory.
const maxEvidenceRecord = 1 << 20

// GetBlob reads a small blob.
func (b erasureBlobs) GetBlob(ctx context.Context, container, name string) ([]byte, error) {
	resp, err := b.client.DownloadStream(ctx, container, name, nil)
	if err != nil {
		return nil, fmt.Errorf("read %s/%s: %w", container, name, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxEvidenceRecord+1))
	if err != nil {
		return nil, err
	}
	if len(body) > maxEvidenceRecord {
		return nil, fmt.Errorf("%s/%s is larger than %d bytes; a metadata record should be small JSON", container, name, maxEvidenceRecord)
	}
	return body, nil
}
