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
// under one writer lock: a lone durable append works on its caller's
// goroutine, concurrent ones are batched by a writer goroutine. Under
// DurabilityStrict every append waits for its commit. Under DurabilityGroup
// (the default) Append waits for one write to the write-ahead file beside
// the log (<log>.wal, preallocated, written with O_DSYNC: one flush of the
// device), which carries every record queued before it; AppendDeferred
// queues a record without waiting. The gateway writes its intent records
// with Append (nothing is forwarded before its intent is on disk) and its
// outcome records with AppendDeferred, so that one write carries an intent
// and the outcomes that ended since. The batch is committed to the log
// every flush interval, when it fills, when a checkpoint is due, and at
// Rotate, Flush and Close; then the write-ahead file starts again at its
// beginning. Open commits the records a crash left in it, through the
// journal, before any append. A durable append other than an intent (a
// top-up) is committed at once, so that the journal has applied it when
// the append returns. A crash can lose the deferred records no durable
// append carried; Verify reports their requests as incomplete, and the
// records still in the write-ahead file as pending, never as intact.
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
