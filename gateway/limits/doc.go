// Package limits owns per-key rate limits and the reading of upstream
// providers' own rate-limit headers.
//
// A Limiter holds, per key, two token buckets refilled continuously at
// exactly N per minute (requests and tokens), in integer arithmetic with no
// lost remainder, on an injected clock. A request Reserves once, before
// anything is forwarded: one request and its estimated tokens are taken
// atomically, or nothing is and the Status says when it would fit
// (RetryAfter). Failover attempts reuse that one reservation, so they never
// bypass a limit; Settle corrects it to the actual token count when the
// request ends. Status.Headers writes the OpenAI x-ratelimit-* headers and
// Retry-After. Memory is bounded: a bucket that is full again with no open
// reservation is dropped (invisibly: a new bucket starts full), and at most
// Options.MaxKeys buckets exist; past that, new keys are refused.
//
// ParseThrottle reads OpenAI-style x-ratelimit-*, Anthropic's
// anthropic-ratelimit-* and Retry-After headers from an upstream response
// into a Throttle, whose Fits tells the router to steer a request to
// another endpoint before this one starts answering 429.
//
// The package keeps no request content; keys are opaque identifiers.
// Calendar budgets (UTC day, month) are not kept here.
package limits
