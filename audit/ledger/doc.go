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
// The bbolt backend (OpenBolt) keeps its journal in the audit log itself:
// the journal is the sequence of audit records that carry a charge (an
// outcome whose cost names an account) or a credit (top-up, adjustment,
// refund, expiry), each stating the account's balance after it. The ledger
// fills that balance in inside the commit that writes the record, and
// updates the stored balances and budget spend in the same transaction, so
// accounting adds no fsync and no tree of its own, and the journal is
// hash-chained, signed and anchored with the log. VerifyFiles replays it
// offline: every balance recomputed and compared with the stated and the
// stored ones, no request charged twice, charges equal to the recorded
// costs, to the micro-unit. Monthly rotation carries balances (and the
// current period's budget spend) into the next file in an opening record.
//
// Money is int64 micro-units (millionths of the currency unit), never a
// float. The package must never hold or record request or answer content:
// it sees amounts, token counts, account, tenant, app and key identifiers,
// and request ids, nothing else. It never imports net/http or the gateway.
package ledger
