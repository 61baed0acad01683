// Package upstream owns the connection from Custos to providers: the pooled,
// time-bounded HTTP transport, building each provider request for an endpoint,
// classifying provider failures, and the built-in echo provider.
//
// It must never log request or answer bodies, nor the provider key it attaches;
// errors it returns carry status codes and causes, not content.
package upstream
