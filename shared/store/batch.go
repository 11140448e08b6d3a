package store

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/data/aztables"
)

// Azure Tables transaction limits.
const (
	// MaxTransactionActions is the most actions one transaction may hold.
	MaxTransactionActions = 100
	// maxTransactionBytes keeps a transaction's payload under the 4 MiB
	// limit, leaving room for the multipart envelope.
	maxTransactionBytes = 4<<20 - 64<<10
	// actionOverhead is a generous estimate of one action's headers and URL,
	// beyond its body and keys.
	actionOverhead = 512
)

// OpKind is the kind of write in a batch Op.
type OpKind int

// The kinds of Op. The zero OpKind is invalid, so an Op must say what it is.
const (
	// OpUpsert inserts or replaces the entity.
	OpUpsert OpKind = iota + 1
	// OpInsert inserts the entity; the transaction fails with ErrConflict if
	// it exists.
	OpInsert
	// OpUpdate replaces an existing entity if its ETag matches (empty ETag:
	// any version); ErrPreconditionFailed or ErrNotFound otherwise.
	OpUpdate
	// OpDelete deletes the entity named by Value's keys if its ETag matches
	// (empty ETag: any version). Unlike Table.Delete, a missing entity fails
	// the transaction with ErrNotFound: Azure applies a transaction whole or
	// not at all.
	OpDelete
)

// String returns the kind's name.
func (k OpKind) String() string {
	switch k {
	case OpUpsert:
		return "upsert"
	case OpInsert:
		return "insert"
	case OpUpdate:
		return "update"
	case OpDelete:
		return "delete"
	}
	return fmt.Sprintf("OpKind(%d)", int(k))
}

// Op is one write in a Batch.
type Op[T any] struct {
	// Kind is the write to do.
	Kind OpKind
	// Value is the entity; for OpDelete only its keys are used.
	Value T
	// ETag is the version expected by OpUpdate and OpDelete; empty means any.
	ETag azcore.ETag
}

// BatchStats says what a Batch did.
type BatchStats struct {
	// Partitions is the number of distinct partition keys in the batch.
	Partitions int
	// Transactions is the number of transactions submitted successfully.
	Transactions int
	// Entities is the number of actions (writes and deletes) committed.
	Entities int
}

// action is one encoded op.
type action struct {
	ta     aztables.TransactionAction
	pk, rk string
	size   int // estimated bytes in the transaction payload
	index  int // position in the caller's ops
}

// Batch applies ops with as few transactions as Azure allows: ops are grouped
// by partition key (in order of first appearance, keeping their order within
// a partition) and each group is split into transactions of at most 100
// actions and under 4 MiB; two ops on the same entity go to successive
// transactions. Transactions are submitted one after another.
//
// Every op is validated before anything is sent. Each transaction is atomic,
// but the batch as a whole is not: on failure Batch stops, returns the stats
// of what was committed, and an error naming the partition, the transaction
// and, where the service says, the failed op; the error matches ErrConflict,
// ErrNotFound or ErrPreconditionFailed when that is the cause.
func (t *Table[T]) Batch(ctx context.Context, ops []Op[T]) (BatchStats, error) {
	var order []string
	groups := map[string][]action{}
	for i, op := range ops {
		a, err := t.action(op)
		if err != nil {
			return BatchStats{}, wrap("batch", t.name, fmt.Sprintf("op %d (%s)", i, op.Kind), err)
		}
		a.index = i
		pk := a.pk
		if _, seen := groups[pk]; !seen {
			order = append(order, pk)
		}
		groups[pk] = append(groups[pk], a)
	}

	stats := BatchStats{Partitions: len(order)}
	for _, pk := range order {
		chunks := chunk(groups[pk])
		for ci, c := range chunks {
			tas := make([]aztables.TransactionAction, len(c))
			for i, a := range c {
				tas[i] = a.ta
			}
			if _, err := t.client.SubmitTransaction(ctx, tas, nil); err != nil {
				where := fmt.Sprintf("PartitionKey %q, transaction %d of %d (%d ops from op %d)",
					pk, ci+1, len(chunks), len(c), c[0].index)
				e := wrap("batch", t.name, where, err)
				if e.action >= 0 && e.action < len(c) {
					a := c[e.action]
					e.where += fmt.Sprintf(", failed at op %d (RowKey %q)", a.index, a.rk)
				}
				return stats, e
			}
			stats.Transactions++
			stats.Entities += len(c)
		}
	}
	return stats, nil
}

// action validates and encodes one op.
func (t *Table[T]) action(op Op[T]) (action, error) {
	e, err := t.codec.encode(op.Value)
	if err != nil {
		return action{}, err
	}
	ta := aztables.TransactionAction{Entity: e.body}
	switch op.Kind {
	case OpUpsert:
		ta.ActionType = aztables.TransactionTypeInsertReplace
	case OpInsert:
		ta.ActionType = aztables.TransactionTypeAdd
	case OpUpdate, OpDelete:
		ta.ActionType = aztables.TransactionTypeUpdateReplace
		if op.Kind == OpDelete {
			ta.ActionType = aztables.TransactionTypeDelete
			ta.Entity, _ = json.Marshal(map[string]string{"PartitionKey": e.pk, "RowKey": e.rk})
		}
		// Without If-Match an update would become an upsert.
		match := anyIfEmpty(op.ETag)
		ta.IfMatch = &match
	default:
		return action{}, fmt.Errorf("%w: op kind %s is not one of OpUpsert, OpInsert, OpUpdate, OpDelete", ErrInvalidEntity, op.Kind)
	}
	return action{ta: ta, pk: e.pk, rk: e.rk, size: len(ta.Entity) + len(e.pk) + len(e.rk) + actionOverhead}, nil
}

// chunk splits one partition's actions into transactions: a new one starts
// at 100 actions, at the payload limit, or when a RowKey repeats (a
// transaction may touch each entity once).
func chunk(actions []action) [][]action {
	var chunks [][]action
	var cur []action
	size := 0
	rows := map[string]bool{}
	for _, a := range actions {
		if len(cur) == MaxTransactionActions || (len(cur) > 0 && size+a.size > maxTransactionBytes) || rows[a.rk] {
			chunks = append(chunks, cur)
			cur, size = nil, 0
			clear(rows)
		}
		cur = append(cur, a)
		size += a.size
		rows[a.rk] = true
	}
	if len(cur) > 0 {
		chunks = append(chunks, cur)
	}
	return chunks
}
