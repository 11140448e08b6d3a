package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"syscall"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
)

// Sentinel errors. Every error returned by this package that matches one of
// them says so through errors.Is; the SDK error, when there is one, stays
// reachable with errors.As for logging.
var (
	// ErrNotFound: the entity does not exist (HTTP 404). A missing table is
	// not ErrNotFound: it is a deployment fault and is reported as is.
	ErrNotFound = errors.New("not found")
	// ErrConflict: the entity (or table) already exists (HTTP 409).
	ErrConflict = errors.New("already exists")
	// ErrPreconditionFailed: the ETag given no longer matches (HTTP 412).
	ErrPreconditionFailed = errors.New("etag does not match (changed since read)")
	// ErrInvalidKey: a PartitionKey or RowKey is empty, too long or has a
	// character Azure Tables forbids. Detected before any call.
	ErrInvalidKey = errors.New("invalid key")
	// ErrInvalidEntity: a value cannot be stored as an entity (not a JSON
	// object, nested value, number out of range). Detected before any call.
	ErrInvalidEntity = errors.New("invalid entity")
)

// opError is the one error type this package returns for failed operations.
// It names the operation and table, keeps the HTTP status and service error
// code, and unwraps to both the sentinel and the underlying error.
type opError struct {
	op, table string
	where     string // keys or batch position; ids only, never values
	status    int    // HTTP status; for a failed transaction, the inner one
	code      string // service error code, e.g. EntityAlreadyExists
	action    int    // failed action index in a transaction, or -1
	kind      error  // sentinel, or nil
	err       error
}

func (e *opError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "store: %s %s", e.op, e.table)
	if e.where != "" {
		fmt.Fprintf(&b, " (%s)", e.where)
	}
	b.WriteString(": ")
	if e.kind != nil {
		b.WriteString(e.kind.Error())
		b.WriteString(": ")
	}
	if e.status != 0 {
		// The SDK's message is a multi-line request dump; the status and
		// code are what a reader needs. The full error stays in the chain.
		fmt.Fprintf(&b, "HTTP %d", e.status)
		if e.code != "" {
			b.WriteString(" " + e.code)
		}
	} else {
		b.WriteString(e.err.Error())
	}
	return b.String()
}

func (e *opError) Unwrap() []error {
	if e.kind == nil {
		return []error{e.err}
	}
	return []error{e.kind, e.err}
}

// wrap turns err into an *opError for operation op on table, classifying SDK
// response errors (including failed transactions, which the service answers
// with 202 and the real status inside the multipart body).
func wrap(op, table, where string, err error) *opError {
	e := &opError{op: op, table: table, where: where, action: -1, err: err}
	var re *azcore.ResponseError
	if errors.As(err, &re) {
		e.status, e.code = re.StatusCode, re.ErrorCode
		if re.StatusCode == http.StatusAccepted && re.RawResponse != nil {
			if body, perr := runtime.Payload(re.RawResponse); perr == nil {
				e.status, e.code, e.action = parseTransactionFailure(body)
			}
		}
	}
	e.kind = classify(e.status, e.code)
	return e
}

func classify(status int, code string) error {
	switch {
	case status == http.StatusNotFound && code != "TableNotFound":
		return ErrNotFound
	case status == http.StatusConflict && code != "TableBeingDeleted":
		return ErrConflict
	case status == http.StatusPreconditionFailed:
		return ErrPreconditionFailed
	}
	return nil
}

var (
	innerStatusRE = regexp.MustCompile(`(?m)^HTTP/1\.[01] (\d{3})`)
	innerCodeRE   = regexp.MustCompile(`"code"\s*:\s*"([A-Za-z]+)"`)
	innerIndexRE  = regexp.MustCompile(`"value"\s*:\s*"(\d+):`)
)

// parseTransactionFailure reads the first failed inner response of a
// transaction: its status, error code and the index of the failed action
// (the service prefixes the message with "<index>:"). Unknown parts are
// 202, "" and -1.
func parseTransactionFailure(body []byte) (status int, code string, action int) {
	status, action = http.StatusAccepted, -1
	for _, m := range innerStatusRE.FindAllSubmatch(body, -1) {
		if s, _ := strconv.Atoi(string(m[1])); s >= 400 {
			status = s
			break
		}
	}
	if m := innerCodeRE.FindSubmatch(body); m != nil {
		code = string(m[1])
	}
	if m := innerIndexRE.FindSubmatch(body); m != nil {
		action, _ = strconv.Atoi(string(m[1]))
	}
	return status, code, action
}

// IsTransient reports whether err is worth retrying later: throttling (429),
// timeouts (408), server errors (5xx), network failures and an expired
// deadline. Not-found, conflicts, precondition failures, invalid input and a
// cancelled context are not transient.
func IsTransient(err error) bool {
	if err == nil {
		return false
	}
	status := 0
	var oe *opError
	var re *azcore.ResponseError
	switch {
	case errors.As(err, &oe) && oe.status != 0:
		status = oe.status
	case errors.As(err, &re):
		status = re.StatusCode
	}
	if status != 0 {
		return status == http.StatusRequestTimeout || status == http.StatusTooManyRequests || status >= 500
	}
	var netOp *net.OpError
	var dns *net.DNSError
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) ||
		errors.As(err, &netOp) || errors.As(err, &dns) ||
		(errors.As(err, &ne) && ne.Timeout()) ||
		errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.EPIPE)
}
