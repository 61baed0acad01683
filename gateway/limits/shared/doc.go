// Package shared enforces per-key rate limits (requests and tokens per
// minute) across several replicas: one token bucket per key in PostgreSQL,
// from which each replica leases small slices of the allowance and serves
// requests locally until a slice is spent or its lease ends.
//
// It has the shape of gateway/limits: Reserve(ctx, key, Limit, tokens)
// returns a Reservation, a limits.Status for the x-ratelimit-* headers and
// an error wrapping limits.ErrLimited (RetryAfter set) or
// limits.ErrTooLarge; Reservation.Settle corrects the token count once the
// request ends.
//
// # The bucket and the leases
//
// The bucket of a key holds at most C units (C = the per-minute limit) and
// refills at r = C per minute, continuously, in exact integer arithmetic on
// the replicas' clocks. A replica with nothing left of its lease asks the
// bucket for a new one in one statement that also gives back what it had
// not used (or the debt its settlements ran up): it is granted at least
// what the request needs and at most L units, or nothing (the request is
// refused with the time until the bucket holds enough). A lease is used
// only until LeaseTTL after it was granted; what is left then goes back
// at the replica's next lease or Sweep. L = max(1, ⌈C / (LeaseDivisor ·
// Replicas)⌉), by default ⌈C / (16·N)⌉, so that a replica asks PostgreSQL
// about once per L requests of a key.
//
// # How far a burst can overshoot
//
// Every request is admitted against a unit its replica took out of the
// bucket first; units in the bucket never exceed C. What N replicas can
// admit in any interval of length T is therefore what the bucket gave out
// in it, at most C + r·T (a single bucket's bound), plus what was already
// out on leases when the interval began, at most N·L:
//
//	admitted(T) ≤ C + r·T + N·L,   with N·L ≤ C/LeaseDivisor + N
//
// With the defaults a burst overshoots a single bucket by at most C/16 + N
// requests (three replicas, a limit of 600 per minute: 40), and only when
// the replicas were configured with the right Replicas (N replicas that
// each think they are one lease C/16 each: N·C/16). Replicas whose clocks
// differ by s can add r·s (the bucket refills to the latest clock it has
// seen). Tokens have the same bound with C the token limit, on top of what
// requests use beyond their estimates (admitted on the estimate, the rest
// charged at Settle, as a single node does); a replica reports that excess
// at its next lease or Sweep.
//
// # Without PostgreSQL
//
// When PostgreSQL does not answer, each replica falls back to a local
// limiter (gateway/limits) allowing ⌈C/Replicas⌉ per minute: together at
// most C + Replicas per minute while the outage lasts, in addition to the
// leases already out. Rate limits fail open to that share rather than
// closed: tenants without prepaid accounting keep working (the ledger is
// what fails closed). The limiter asks PostgreSQL again after
// RetryEvery; when it answers, the shared bucket takes over, without
// repair. A window spanning the recovery can see the fallback's share and
// a full bucket: up to one limit more.
//
// The package keeps no request content: keys are opaque identifiers, and
// only counts reach PostgreSQL. It owns the table ratelimit_buckets
// (migrations/, applied by New).
package shared
