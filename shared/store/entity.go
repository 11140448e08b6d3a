package store

import (
	"bytes"
	"encoding"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
)

// maxKeyBytes is Azure Tables' limit on a PartitionKey or RowKey.
const maxKeyBytes = 1024

// ValidateKeys reports whether pk and rk are usable as PartitionKey and
// RowKey: non-empty, at most 1 KiB, valid UTF-8 (U+FFFD is refused too), and
// without / \ # ? or control characters. The error wraps [ErrInvalidKey].
func ValidateKeys(pk, rk string) error {
	if err := validateKey("PartitionKey", pk); err != nil {
		return err
	}
	return validateKey("RowKey", rk)
}

func validateKey(name, k string) error {
	switch {
	case k == "":
		return fmt.Errorf("%w: %s is empty", ErrInvalidKey, name)
	case len(k) > maxKeyBytes:
		return fmt.Errorf("%w: %s is %d bytes, over the %d-byte limit", ErrInvalidKey, name, len(k), maxKeyBytes)
	}
	for i, r := range k {
		if r == utf8.RuneError {
			// JSON encoding turns invalid UTF-8 into U+FFFD, which would
			// silently change the key, so it is refused in any form.
			return fmt.Errorf("%w: %s has invalid UTF-8 or U+FFFD at byte %d", ErrInvalidKey, name, i)
		}
		if strings.ContainsRune(`/\#?`, r) || unicode.IsControl(r) {
			return fmt.Errorf("%w: %s %q has forbidden character %U at byte %d (Azure Tables forbids / \\ # ? and control characters)",
				ErrInvalidKey, name, k, r, i)
		}
	}
	return nil
}

// fieldKind says how a JSON property of T maps to an EDM type.
type fieldKind uint8

const (
	kindPlain  fieldKind = iota // as encoding/json writes it
	kindInt32                   // Go int, uint, uint32: checked to fit Edm.Int32
	kindInt64                   // Edm.Int64: string value plus annotation
	kindDouble                  // Edm.Double: annotated so 2.0 stays a double
)

// codec converts between T's JSON and the entity JSON the service expects.
type codec struct {
	kinds map[string]fieldKind // by JSON property name; absent means plain
}

func newCodec[T any]() codec {
	kinds := map[string]fieldKind{}
	collectKinds(reflect.TypeFor[T](), kinds)
	return codec{kinds: kinds}
}

// collectKinds records the numeric fields of struct type t (and of embedded
// structs) by JSON name.
func collectKinds(t reflect.Type, kinds map[string]fieldKind) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return
	}
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			collectKinds(f.Type, kinds)
			continue
		}
		if !f.IsExported() || strings.Contains(","+opts+",", ",string,") {
			continue
		}
		if name == "" {
			name = f.Name
		}
		if k := kindOf(f.Type); k != kindPlain {
			kinds[name] = k
		}
	}
}

var (
	jsonMarshaler = reflect.TypeFor[json.Marshaler]()
	textMarshaler = reflect.TypeFor[encoding.TextMarshaler]()
)

func kindOf(t reflect.Type) fieldKind {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	pt := reflect.PointerTo(t)
	if t.Implements(jsonMarshaler) || pt.Implements(jsonMarshaler) ||
		t.Implements(textMarshaler) || pt.Implements(textMarshaler) {
		return kindPlain
	}
	switch t.Kind() {
	case reflect.Int, reflect.Uint, reflect.Uint32:
		return kindInt32
	case reflect.Int64, reflect.Uint64:
		return kindInt64
	case reflect.Float32, reflect.Float64:
		return kindDouble
	}
	return kindPlain
}

// encoded is one entity ready to send.
type encoded struct {
	body   []byte
	pk, rk string
}

// encode marshals v, checks its keys and values, and adds the EDM
// annotations the service needs.
func (c codec) encode(v any) (encoded, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return encoded{}, fmt.Errorf("%w: %w", ErrInvalidEntity, err)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var props map[string]any
	if err := dec.Decode(&props); err != nil || props == nil {
		return encoded{}, fmt.Errorf("%w: %T does not marshal to a JSON object", ErrInvalidEntity, v)
	}
	pk, _ := props["PartitionKey"].(string)
	rk, _ := props["RowKey"].(string)
	if err := ValidateKeys(pk, rk); err != nil {
		return encoded{}, err
	}
	annotations := map[string]any{}
	for name, val := range props {
		if val == nil || name == "Timestamp" || strings.Contains(name, "odata.") {
			delete(props, name) // absent means null; the rest is the service's
			continue
		}
		switch val.(type) {
		case map[string]any, []any:
			return encoded{}, fmt.Errorf("%w: property %q is an object or array; Azure Tables stores only scalars (encode it to a string)", ErrInvalidEntity, name)
		}
		n, isNumber := val.(json.Number)
		if !isNumber {
			continue
		}
		switch c.kinds[name] {
		case kindInt32:
			if i, err := n.Int64(); err != nil || i < math.MinInt32 || i > math.MaxInt32 {
				return encoded{}, fmt.Errorf("%w: property %q = %s does not fit Edm.Int32; use an int64 field", ErrInvalidEntity, name, n)
			}
		case kindInt64:
			props[name] = n.String()
			annotations[name+"@odata.type"] = "Edm.Int64"
		case kindDouble:
			annotations[name+"@odata.type"] = "Edm.Double"
		}
	}
	for k, v := range annotations {
		props[k] = v
	}
	body, err := json.Marshal(props)
	if err != nil {
		return encoded{}, fmt.Errorf("%w: %w", ErrInvalidEntity, err)
	}
	return encoded{body: body, pk: pk, rk: rk}, nil
}

// decode turns one entity as returned by the service (minimal metadata) into
// a Record.
func decode[T any](c codec, raw []byte) (Record[T], error) {
	var rec Record[T]
	var props map[string]json.RawMessage
	if err := json.Unmarshal(raw, &props); err != nil {
		return rec, fmt.Errorf("decoding entity: %w", err)
	}
	var s string
	if json.Unmarshal(props["odata.etag"], &s) == nil {
		rec.ETag = azcore.ETag(s)
	}
	if json.Unmarshal(props["Timestamp"], &s) == nil {
		if ts, err := time.Parse(time.RFC3339Nano, s); err == nil {
			rec.Timestamp = ts
		}
	}
	for name, val := range props {
		if strings.Contains(name, "odata.") {
			delete(props, name)
			continue
		}
		// Edm.Int64 arrives as a string; T wants a number.
		if c.kinds[name] == kindInt64 && json.Unmarshal(val, &s) == nil {
			if _, err := strconv.ParseInt(s, 10, 64); err == nil {
				props[name] = json.RawMessage(s)
			} else if _, err := strconv.ParseUint(s, 10, 64); err == nil {
				props[name] = json.RawMessage(s)
			}
		}
	}
	clean, err := json.Marshal(props)
	if err == nil {
		err = json.Unmarshal(clean, &rec.Value)
	}
	if err != nil {
		return rec, fmt.Errorf("decoding entity into %T: %w", rec.Value, err)
	}
	return rec, nil
}
