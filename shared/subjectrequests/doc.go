// Package subjectrequests tracks UK GDPR individual-rights requests (access,
// rectification, erasure, restriction, portability, objection) against the
// ICO's statutory deadlines.
//
// The model is event-sourced. A request is an append-only log of events in
// table "subjectrequestevents" (partition = request id, row key = zero-padded
// sequence number); everything else is derived from it:
//
//   - the request's state (status, clock stops, extension) by folding the
//     events with [State.Apply], which is also the state machine: it refuses
//     an event the current state does not allow ([TransitionError], HTTP 409)
//     or whose fields are wrong (funcapp.FieldError, HTTP 400);
//   - its deadline, by handing that state to ukdates.Deadline (the one
//     documented place for the ICO rules is shared/ukdates/ico.go);
//   - the tracking record in table "subjectrequests" (no personal data),
//     which exists so lists and the daily sweep can filter without reading
//     every log. A write appends the event first and then rewrites the record
//     from the log, so a crash between the two leaves a stale record that the
//     next read or write of that request repairs.
//
// Each event carries the hash of the one before it and its own hash, SHA-256
// over a canonical JSON encoding (see [Event.ComputeHash]); [VerifyChain]
// detects an edited, removed or reordered event, and the record's head hash
// detects a truncated log.
//
// Personal details (name and contact) are optional, live in their own table
// ("subjectrequestpeople") and are purged after the retention period
// following closure; they never appear in events, logs or notifications.
//
// Reminder evaluation ([Evaluate]) and the SharePoint list-item mapping
// ([FromListItem]) are pure functions.
package subjectrequests
