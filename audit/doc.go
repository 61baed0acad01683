// Package audit owns Custos's tamper-evident, append-only audit log: one
// bbolt file of records, each chained to its predecessor by SHA-256, with
// periodic Ed25519-signed checkpoints of the chain head; group-committed,
// fsynced appends; offline verification; and export for auditors.
//
// Layout of a log file (bbolt buckets):
//
//	records      key: sequence number (8 bytes, big endian)
//	             value: prev hash (32) | own hash (32) | record JSON
//	             own hash = SHA-256(seq | prev | JSON)
//	checkpoints  key: sequence number of the head it signs; value: Checkpoint JSON
//	meta         "head": seq | hash of the last record; "chain": where this file's chain starts
//
// Durability: every commit is one bbolt transaction (two fdatasyncs), made
// under one writer lock: a lone durable append commits on its caller's
// goroutine, concurrent ones are group-committed by a writer goroutine. Under
// DurabilityStrict every append waits for its commit. Under DurabilityGroup
// (the default) Append still waits, and AppendDeferred queues a record for
// the next commit without waiting: the gateway writes its intent records
// with Append (nothing is forwarded before its intent is on disk) and its
// outcome records with AppendDeferred, so that one commit carries an intent
// and the outcomes that ended since. A crash can lose the deferred records
// of the last flush interval; Verify reports their requests as incomplete,
// never as intact.
//
// Anchoring: every signed checkpoint also goes to the Anchors (an
// append-only JSONL file, FileAnchor; a Vault path), off the writer's path.
// Verify given the anchored checkpoints fails when the newest anchored head
// is not in the log, so a tail cut with a rewritten head is found, and says
// how many records the anchor proves.
//
// For operations: Stats (counters and histograms for metrics), Healthy (the
// last commit failed: not ready), FreeBytes (statfs, to refuse work before
// the disk fills), and UnauthCounter (failed authentications recorded once
// per source and window, KindUnauthenticated, not once per request).
//
// The package must never record prompt text, completion text, PII values,
// keys or secrets: Record has no field that could hold them, only counts,
// codes and names from configuration. It has no update or delete path: a
// record, once committed, is only ever read. Retention closes one file and
// starts the next, the chain continuing across files.
package audit
