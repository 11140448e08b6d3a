package funcapp

import (
	"encoding/json"
	"errors"
	"strconv"
)

// Result is a handler's answer to the host.
type Result struct {
	// Outputs holds output binding values keyed by binding name.
	Outputs map[string]any `json:"Outputs"`
	// Logs are written by the host to the invocation log at Information level.
	// Never put personal data here.
	Logs []string `json:"Logs"`
	// ReturnValue feeds a "$return" output binding.
	ReturnValue any `json:"ReturnValue"`
}

// HTTPOutputBinding is the conventional name of an HTTP function's output
// binding in function.json.
const HTTPOutputBinding = "res"

// HTTPOutput is the value of an "http" output binding.
type HTTPOutput struct {
	// StatusCode is a string, as the host's HttpOutputBindingResponse has it.
	StatusCode string            `json:"statusCode"`
	Headers    map[string]string `json:"headers,omitempty"`
	Body       string            `json:"body"`
}

// Status returns the numeric status code (0 when unset or malformed).
func (o HTTPOutput) Status() int {
	n, _ := strconv.Atoi(o.StatusCode)
	return n
}

// HTTPResponse builds a Result whose "res" output is an HTTP response with the
// given status, content type and body.
func HTTPResponse(status int, contentType string, body []byte) Result {
	h := map[string]string{}
	if contentType != "" {
		h["Content-Type"] = contentType
	}
	return Result{Outputs: map[string]any{HTTPOutputBinding: HTTPOutput{
		StatusCode: strconv.Itoa(status),
		Headers:    h,
		Body:       string(body),
	}}}
}

// JSON builds an HTTP response with v encoded as JSON.
func JSON(status int, v any) Result {
	b, err := json.Marshal(v)
	if err != nil {
		return Problem(500, "Response could not be encoded", "", "")
	}
	return HTTPResponse(status, "application/json", b)
}

// ProblemDetails is an RFC 9457 problem document.
type ProblemDetails struct {
	Type   string `json:"type,omitempty"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail,omitempty"`
	// Field names the input field that is wrong, when one is.
	Field string `json:"field,omitempty"`
	// Errors lists every invalid field when there are several.
	Errors []FieldError `json:"errors,omitempty"`
}

// FieldError says what is wrong with one input field.
type FieldError struct {
	Field  string `json:"field"`
	Detail string `json:"detail"`
}

func (e FieldError) Error() string { return e.Field + ": " + e.Detail }

// Problem builds an application/problem+json response.
func Problem(status int, title, detail, field string) Result {
	return ProblemResult(ProblemDetails{Title: title, Status: status, Detail: detail, Field: field})
}

// ProblemResult encodes a problem document as the HTTP response.
func ProblemResult(p ProblemDetails) Result {
	if p.Type == "" {
		p.Type = "about:blank"
	}
	b, _ := json.Marshal(p)
	return HTTPResponse(p.Status, "application/problem+json", b)
}

// ValidationProblem answers 400 naming every invalid field. Errors that are
// not FieldErrors are reported under the field "body".
func ValidationProblem(err error) Result {
	p := ProblemDetails{Title: "The request is not valid", Status: 400}
	var fields []FieldError
	collectFieldErrors(err, &fields)
	p.Errors = fields
	if len(fields) > 0 {
		p.Field = fields[0].Field
		p.Detail = fields[0].Error()
	}
	return ProblemResult(p)
}

func collectFieldErrors(err error, out *[]FieldError) {
	if err == nil {
		return
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range j.Unwrap() {
			collectFieldErrors(e, out)
		}
		return
	}
	var fe FieldError
	if errors.As(err, &fe) {
		*out = append(*out, fe)
		return
	}
	*out = append(*out, FieldError{Field: "body", Detail: err.Error()})
}

// permanentError marks a failure that retrying will not fix.
type permanentError struct{ err error }

func (p permanentError) Error() string { return p.err.Error() }
func (p permanentError) Unwrap() error { return p.err }

// Permanent marks err as not worth retrying: the server logs it and answers
// 2xx so the host does not redeliver. Record such failures where a person
// will see them.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return permanentError{err}
}

// IsPermanent reports whether err was marked with Permanent.
func IsPermanent(err error) bool {
	var p permanentError
	return errors.As(err, &p)
}
