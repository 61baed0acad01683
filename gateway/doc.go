// Package gateway is Custos's HTTP face: the gin server, the route table,
// the one request spine every route runs through, the model pipeline, and
// the one place where errors become status codes and dialect error bodies.
//
// The spine (spine.go): authenticate, run the route's handler, which returns
// an error rather than answering one, then finish: classify the error,
// record the outcome exactly once (with a context that outlives the
// client), render the error in the route's dialect, and log one line.
//
// Every model request runs the same named stages, in order (pipeline.go):
//
//	authenticate → inspect → decide → redact → route → forward → account
//
// The body is parsed once (jsondoc) into the OpenAI form of its operation;
// inspection walks every string, number and key of that tree; redaction
// rewrites the tree in place; what is forwarded is encoded from it, and an
// adapter per provider kind (upstream) translates at the edge. Each stage
// stores its result in its own part of the exchange (exchange.go).
//
// Each request's log line names the stages that ran; a stage that cannot do
// its work ends the request rather than pretend to have checked anything.
//
// The gateway must never write prompt or completion text, a PII value, an app
// key or a provider key to a log line, an error body it invents, or a panic
// report. Errors carry a client message (shown to the caller) apart from the
// cause (logged), and both are built from metadata only.
package gateway
