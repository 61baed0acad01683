// Package migrate applies a component's embedded SQL migrations to a
// PostgreSQL database at start: files named NNNN_description.sql, applied
// in order, each once, all pending ones in one transaction under a
// transaction-scoped advisory lock (replicas starting together apply them
// once; the others wait and find them applied). Every applied file's
// SHA-256 is recorded: a database whose applied migrations differ from the
// binary's, or whose schema is newer than the binary knows, is refused
// before anything runs against it.
//
// It owns the tables custos_schema and custos_schema_history and nothing
// else; it never reads or writes application data.
package migrate
