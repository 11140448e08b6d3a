// Package teams builds Adaptive Cards and posts them to Microsoft Teams
// through Workflows ("When a Teams webhook request is received") webhooks.
//
// Office 365 connectors (webhook.office.com) are retired; a Workflows webhook
// takes a Bot Framework style message whose single attachment is an Adaptive
// Card:
//
//	{"type":"message","attachments":[{
//	  "contentType":"application/vnd.microsoft.card.adaptive","contentUrl":null,
//	  "content":{"$schema":"http://adaptivecards.io/schemas/adaptive-card.json",
//	             "type":"AdaptiveCard","version":"1.5","body":[…],
//	             "msteams":{"width":"Full"}}}]}
//
// contentUrl must be present (null): the trigger's schema requires it and
// answers 400 TriggerInputSchemaMismatch without it. Teams renders Adaptive
// Cards up to version 1.5, which is what [NewCard] declares.
//
// A webhook accepts the request with 202 Accepted and runs the flow
// asynchronously: a card the flow cannot post (bad card, too large) fails in
// the flow's run history, not in the HTTP answer. That is why [Message.Validate]
// and the size limit are checked here, before sending.
//
// A webhook URL carries its signature (sig=…) in the query string and is a
// credential. [WebhookURL] keeps it out of fmt, JSON and error output, and
// every error from [Sender.Send] names only the scheme and host.
//
// Errors from [Sender.Send] are classified in the manner of Alertmanager's
// notifiers: [Retryable] reports whether trying again may help (429, 5xx,
// timeouts, connection failures) and [RetryAfter] returns the wait the
// service asked for. The caller does not loop: in this function app a
// retryable failure fails the invocation and the queue redelivers.
package teams
