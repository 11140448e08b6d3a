// Package funcapp adapts Go code to the Azure Functions custom-handler protocol.
//
// The Functions host (or the project's local host) starts the handler binary with
// FUNCTIONS_CUSTOMHANDLER_PORT, polls GET / until it answers, then POSTs each
// invocation to /<FunctionName> with {"Data":…,"Metadata":…} and reads back
// {"Outputs":…,"Logs":…,"ReturnValue":…}.
//
// The HTTP status of that answer is the only retry signal the host understands:
// 5xx makes the invocation fail (a queue message is redelivered and, after the
// bound, dead-lettered); 2xx means done. A handler therefore returns a plain
// error for transient failures and wraps permanent ones with [Permanent], which
// is logged and answered 2xx so that the message is not retried pointlessly.
package funcapp
