// Package gateway is Custos's HTTP face: the gin server, the inbound dialects
// (OpenAI chat completions and models), the request pipeline and the one place
// where errors become status codes and dialect error bodies.
//
// Every request runs the same named stages, in order:
//
//	authenticate → inspect → decide → redact → route → forward → account
//
// Each request's log line names the stages that ran; a stage that cannot do
// its work ends the request rather than pretend to have checked anything.
//
// The gateway must never write prompt or completion text, a PII value, an app
// key or a provider key to a log line, an error body it invents, or a panic
// report. Errors carry a client message (shown to the caller) apart from the
// cause (logged), and both are built from metadata only.
package gateway
