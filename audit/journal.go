package audit

import bolt "go.etcd.io/bbolt"

// Journal keeps state derived from the records in the log's own file and
// transactions (the credit ledger of audit/ledger): a record and what it
// changes are committed together or not at all. Its methods run one at a
// time, under the log's writer lock: on the writer goroutine, or on the
// goroutine of a durable append that commits itself.
type Journal interface {
	// Open runs in the transaction that opens a file. created says the
	// file is new: a journal holding state (the log is rotating) writes
	// what it carries over and may return a record to begin the file with.
	// Otherwise it loads its state from the file.
	Open(tx *bolt.Tx, created bool) (*Record, error)
	// Apply runs in each commit's transaction once the batch's records
	// have their sequence numbers and before they are encoded and hashed:
	// it may fill in BalanceAfter. An error fails the commit.
	Apply(tx *bolt.Tx, batch []Written) error
	// Committed runs after each commit attempt; err is nil when the commit
	// is durable, and otherwise nothing Apply wrote exists.
	Committed(err error)
}

// Written is one record of a commit, as a Journal sees it.
type Written struct {
	Seq    uint64
	Record *Record
}
