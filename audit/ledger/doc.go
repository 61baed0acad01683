// Package ledger owns Custos's money: prepaid credit per tenant (optionally
// per app), spend caps for postpaid tenants, and spend and token budgets
// per tenant, app and key over UTC calendar days and months.
//
// Before a request is forwarded the gateway reserves its maximum cost
// (Reserve): atomically, never taking a balance below zero, against the
// account and every budget that applies. When the answer ends it settles
// the actual cost (Settle), which releases the rest and writes the request's
// outcome record carrying the cost; a failure before the first byte
// releases everything (Release). Reservations live in memory with a TTL: a
// crash or restart leaves none behind. Settlement is idempotent per request
// id: a request is never charged twice.
//
// The bbolt backend (OpenBolt) keeps its journal in the audit log's own
// file and commits: the outcome record, its journal entry and the new
// balance are written in one transaction, so accounting adds no fsync of
// its own. Each journal entry is hash-chained, bound to the audit record
// that carries it (by sequence number and hash), and states the balance
// after it; VerifyFiles recomputes every balance offline and reconciles
// journal, audit costs and credits to the micro-unit. Monthly rotation
// carries balances (and the current period's spend) into the next file in
// an opening record.
//
// Money is int64 micro-units (millionths of the currency unit), never a
// float. The package must never hold or record request or answer content:
// it sees amounts, token counts, account, tenant, app and key identifiers,
// and request ids, nothing else. It never imports net/http or the gateway.
package ledger
