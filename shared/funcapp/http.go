package funcapp

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"strings"

	"github.com/rs/zerolog"
)

// HTTPTriggerBinding is the conventional name of an HTTP trigger binding.
const HTTPTriggerBinding = "req"

// HTTPFunc handles one HTTP-triggered request.
type HTTPFunc func(ctx context.Context, req HTTPRequest) (Result, error)

// HTTPHandler adapts an HTTPFunc to Handler. An error from fn becomes a
// 500 problem response (logged, its text not shown to the caller); a
// malformed trigger payload becomes a 400.
func HTTPHandler(fn HTTPFunc) Handler {
	return HandlerFunc(func(ctx context.Context, inv Invocation) (Result, error) {
		req, err := inv.HTTPRequest(HTTPTriggerBinding)
		if err != nil {
			return Problem(400, "Malformed HTTP trigger payload", err.Error(), ""), nil
		}
		res, err := fn(ctx, req)
		if err != nil {
			zerolog.Ctx(ctx).Error().Err(err).Str("method", req.Method).Msg("http function failed")
			return Problem(500, "Internal error", "The request could not be completed; it has been logged with the invocation id.", ""), nil
		}
		return res, nil
	})
}

// MaxJSONBody bounds the JSON body of an API request. The APIs' records
// are a few kilobytes; anything larger is refused before it is parsed.
const MaxJSONBody = 64 << 10

// CheckJSONRequest refuses a request body larger than MaxJSONBody (413) or
// sent with a Content-Type that is not JSON (415: application/json or any
// application/*+json; a missing Content-Type is accepted). It returns the
// problem response and false when the request is refused.
func CheckJSONRequest(req HTTPRequest) (Result, bool) {
	if len(req.Body) > MaxJSONBody {
		return Problem(413, "Request body too large", fmt.Sprintf("the body is %d bytes; the limit is %d", len(req.Body), MaxJSONBody), "body"), false
	}
	if ct := strings.TrimSpace(req.Header("Content-Type")); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || !(mt == "application/json" || strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json")) {
			return Problem(415, "Unsupported media type", "send the body as application/json", "Content-Type"), false
		}
	}
	return Result{}, true
}

// DecodeJSON decodes a JSON request body into v, rejecting unknown fields and
// trailing data. Errors are FieldErrors naming the offending field, ready for
// ValidationProblem.
func DecodeJSON(body []byte, v any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return FieldError{Field: "body", Detail: "a JSON object is required"}
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonFieldError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return FieldError{Field: "body", Detail: "unexpected data after the JSON object"}
	}
	return nil
}

func jsonFieldError(err error) error {
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	switch {
	case errors.As(err, &typeErr):
		field := typeErr.Field
		if field == "" {
			field = "body"
		}
		return FieldError{Field: field, Detail: fmt.Sprintf("must be a JSON %s, not %s", jsonKind(typeErr.Type.Kind().String()), typeErr.Value)}
	case errors.As(err, &syntaxErr):
		return FieldError{Field: "body", Detail: fmt.Sprintf("malformed JSON at byte %d", syntaxErr.Offset)}
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		if name == "" {
			return FieldError{Field: "body", Detail: "has a field with an empty name"}
		}
		return FieldError{Field: name, Detail: "is not a known field"}
	case errors.Is(err, io.ErrUnexpectedEOF):
		return FieldError{Field: "body", Detail: "the JSON is cut short"}
	}
	var fe FieldError
	if errors.As(err, &fe) {
		return fe
	}
	return FieldError{Field: "body", Detail: err.Error()}
}

func jsonKind(k string) string {
	switch k {
	case "string":
		return "string"
	case "bool":
		return "boolean"
	case "slice", "array":
		return "array"
	case "map", "struct":
		return "object"
	default:
		return "number"
	}
}
