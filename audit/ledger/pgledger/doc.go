// Package pgledger is the ledger.Ledger of several replicas: the same
// semantics as the bbolt ledger (ledgertest checks both), with the money
// kept in PostgreSQL, which every replica shares, and each request's
// outcome record still written to the replica's own audit log.
//
// It owns these tables (migrations/, embedded and applied at Open under a
// schema version check that refuses a newer schema): ledger_accounts
// (balance and what is reserved of it), ledger_holds (reservations, with
// an expiry on the replicas' clock), ledger_spend (budget spend and holds
// per scope and UTC period), ledger_journal (append-only: every charge and
// credit with the balance after it, in one SHA-256 hash chain per tenant)
// and ledger_chains (each tenant's chain head). Every change is one
// PostgreSQL function call, one statement and one round trip, whose
// conditional updates (reserved + hold <= balance, spent + held + hold <=
// cap) leave no read-modify-write race between replicas; rows are locked
// in one order (holds, accounts, chains, budgets, each by key), so that
// concurrent calls do not deadlock (a deadlock victim is retried). Holds commit without waiting for the
// disk (Options.DurableHolds); a charge commits the same way, releasing
// the account's row at once, and then waits for one synchronous write
// that concurrent charges share: it is durable when Settle returns.
//
// Settle commits the charge in PostgreSQL first (durably) and then writes
// the outcome record carrying the cost to the local audit log. The journal
// row names the request id and the replica; Reconcile lists what one side
// has and the other lacks, so a crash between the two is found, never
// silent. A settlement PostgreSQL could not take is written to the local
// log all the same (with the account to charge), retried while the
// replica runs, and re-applied by Resettle from the log after a crash: the
// journal's unique request id makes every retry charge at most once.
//
// PostgreSQL unreachable: every call fails within Options.Timeout with an
// error wrapping ledger.ErrUnavailable (the gateway refuses prepaid
// requests: no free pass); the pool reconnects by itself when it returns.
//
// Verify recomputes every balance, reservation total and budget spend from
// the journal and the holds, and checks each tenant's hash chain; the
// chain is verifiable offline from an export of the journal (ReadJournal,
// VerifyJournal).
//
// Money is int64 micro-units. The package never holds or records request
// or answer content: only ids, names, token counts and amounts. It never
// imports net/http or the gateway.
package pgledger
