package feeds

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/bloberror"
)

// DefaultContainer is the blob container of the CSV snapshots.
const DefaultContainer = "powerbi-feed"

// BlobNames returns the dated snapshot name and the stable latest name of
// table's CSV for a run at at (UTC):
// <table>/<yyyy>/<mm>/<dd>/<table>-<yyyymmddThhmmssZ>.csv and <table>/latest.csv.
func BlobNames(table string, at time.Time) (dated, latest string) {
	at = at.UTC()
	return fmt.Sprintf("%s/%s/%s-%s.csv", table, at.Format("2006/01/02"), table, at.Format("20060102T150405Z")),
		table + "/latest.csv"
}

// BlobSink writes CSV snapshots to a blob container.
type BlobSink struct {
	client    *azblob.Client
	container string
}

// NewBlobSink returns a sink writing to container (DefaultContainer when
// empty).
func NewBlobSink(client *azblob.Client, container string) *BlobSink {
	if container == "" {
		container = DefaultContainer
	}
	return &BlobSink{client: client, container: container}
}

// Container returns the container name.
func (s *BlobSink) Container() string { return s.container }

// Ensure creates the container if it does not exist.
func (s *BlobSink) Ensure(ctx context.Context) error {
	_, err := s.client.CreateContainer(ctx, s.container, nil)
	if err != nil && !bloberror.HasCode(err, bloberror.ContainerAlreadyExists) {
		return fmt.Errorf("creating blob container %s: %w", s.container, err)
	}
	return nil
}

// WriteTable streams what write produces to both the dated blob and
// latest.csv of table at once. Each blob is committed only when write
// succeeds, so a failed run never leaves a partial latest.csv.
func (s *BlobSink) WriteTable(ctx context.Context, table string, at time.Time, write func(io.Writer) error) error {
	dated, latest := BlobNames(table, at)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type upload struct {
		name string
		pr   *io.PipeReader
		pw   *io.PipeWriter
		err  chan error
	}
	ups := []*upload{{name: dated}, {name: latest}}
	writers := make([]io.Writer, len(ups))
	for i, u := range ups {
		u.pr, u.pw = io.Pipe()
		u.err = make(chan error, 1)
		writers[i] = u.pw
		go func() {
			_, err := s.client.UploadStream(ctx, s.container, u.name, u.pr, &azblob.UploadStreamOptions{
				BlockSize: 4 << 20, Concurrency: 1,
				HTTPHeaders: &blob.HTTPHeaders{BlobContentType: to.Ptr("text/csv; charset=utf-8")},
			})
			// Unblock the writer if the upload stopped reading.
			u.pr.CloseWithError(errors.Join(err, errors.New("upload ended")))
			u.err <- err
		}()
	}
	werr := write(io.MultiWriter(writers...))
	for _, u := range ups {
		if werr != nil {
			cancel() // do not commit a partial snapshot
			u.pw.CloseWithError(werr)
		} else {
			u.pw.Close()
		}
	}
	var errs []error
	for _, u := range ups {
		if err := <-u.err; err != nil && werr == nil {
			errs = append(errs, fmt.Errorf("uploading %s/%s: %w", s.container, u.name, err))
		}
	}
	if werr != nil {
		return werr
	}
	return errors.Join(errs...)
}
