// Package bench is Custos's load generator: it replays a workload (a JSONL
// file in the OpenAI batch-file shape, or a synthetic profile) against a
// gateway and, in the same run, directly against the upstream and through a
// bare Go reverse proxy, and reports what the gateway adds: latency
// percentiles from the intended send time, time to first token, requests per
// second, errors by status and code, and the CPU per request and peak memory
// of every process it can see on this machine. It also owns the lean stub
// upstream the measurements run against, and the suite that reproduces the
// gateway's published comparison in one command.
//
// It must never send load to a host that is not loopback unless told to
// (Options.AllowRemote), never write prompt or completion text to its
// reports or errors (only sizes, statuses and machine-readable error codes),
// and never report a figure it did not measure in the same run.
package bench
