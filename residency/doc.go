// Package residency owns where data may be processed: the catalog of provider
// endpoints with their regions and served models, and the choice of the
// endpoints a request may be sent to.
//
// It must never widen a request's allowed set: when no endpoint satisfies every
// constraint it reports ErrNoCompliantEndpoint naming the constraint, and it
// never falls back to an endpoint outside what it was given. It knows nothing
// of HTTP or of any provider's wire format.
package residency
