package metrics

import "github.com/prometheus/client_golang/prometheus"

// State is what the gateway's parts report at scrape time.
type State struct {
	PolicyRevision     string
	PolicyReloads      map[string]int64 // "ok", "refused" → count
	Circuits           []Circuit
	KeyCacheAge        float64 // seconds since the least recently read provider key; -1: no keys
	KeyRefreshFailures int64
	InFlight           int
	Overloaded         int64    // requests refused as overloaded
	AuthThrottled      int64    // requests refused for failed authentications
	ConnectionsRefused int64    // connections over a cap
	OutcomeFailures    int64    // outcome records that could not be appended
	InspectionCache    *Lookups // nil: no inspection cache
	Audit              *Audit
	Accounts           []Account
}

// Lookups counts a cache's lookups by result.
type Lookups struct{ Hits, Misses uint64 }

// Circuit is one endpoint's breaker state.
type Circuit struct {
	Endpoint, State string
	Failures        int
}

// Audit is the audit log's state.
type Audit struct {
	Appends, Records, Commits, CommitErrors int64
	BatchSize                               Histogram // records per commit (one commit: one fsync of bbolt's pair)
	CommitSeconds                           Histogram // each commit's duration, fsyncs included
	WALWrites, Recovered                    int64     // write-ahead writes; records committed from it at start
	WALSeconds                              Histogram // each write-ahead write's duration, its flush included
	CheckpointAgeSeconds                    float64   // -1 before the first
	FreeBytes                               float64   // -1 when unknown
	Healthy                                 bool
	AnchorsDelivered, AnchorsFailed         int64
}

// Histogram is a distribution read from elsewhere: Counts[i] observations
// in bucket i (at most Bounds[i]); the last count is above every bound.
type Histogram struct {
	Bounds []float64
	Counts []uint64
	Count  uint64
	Sum    float64
}

// Account is a credit account's state.
type Account struct {
	Name, Currency    string
	Balance, Reserved int64 // micro-units
	Postpaid          bool
}

// RegisterState reports read at each scrape.
func (m *Metrics) RegisterState(read func() State) { m.reg.MustRegister(&stateCollector{read: read}) }

type stateCollector struct{ read func() State }

var (
	descRevision   = prometheus.NewDesc("custos_policy_revision_info", "The policy revision serving (value 1).", []string{"revision"}, nil)
	descReloads    = prometheus.NewDesc("custos_policy_reloads_total", "Policy reloads, by result.", []string{"result"}, nil)
	descCircuit    = prometheus.NewDesc("custos_upstream_circuit_state", "1 for each endpoint's current circuit state.", []string{"endpoint", "state"}, nil)
	descFailures   = prometheus.NewDesc("custos_upstream_consecutive_failures", "Failures in a row per endpoint.", []string{"endpoint"}, nil)
	descKeyAge     = prometheus.NewDesc("custos_vault_key_cache_age_seconds", "Age of the least recently read provider key.", nil, nil)
	descKeyFail    = prometheus.NewDesc("custos_vault_key_refresh_failures_total", "Provider key refreshes from Vault that failed.", nil, nil)
	descInFlight   = prometheus.NewDesc("custos_requests_in_flight", "Model requests being served.", nil, nil)
	descRefused    = prometheus.NewDesc("custos_admission_refused_total", "Requests or connections refused at admission, by reason.", []string{"reason"}, nil)
	descOutcome    = prometheus.NewDesc("custos_audit_outcome_failures_total", "Outcome records that could not be appended.", nil, nil)
	descAppends    = prometheus.NewDesc("custos_audit_appends_total", "Audit appends accepted (durable and deferred).", nil, nil)
	descRecords    = prometheus.NewDesc("custos_audit_records_total", "Audit records committed.", nil, nil)
	descCommits    = prometheus.NewDesc("custos_audit_commits_total", "Audit group commits, by result.", []string{"result"}, nil)
	descBatch      = prometheus.NewDesc("custos_audit_commit_batch_size", "Records per audit group commit.", nil, nil)
	descWALWrites  = prometheus.NewDesc("custos_audit_wal_writes_total", "Writes to the audit write-ahead file (group durability: one device flush each, carrying a durable append and the deferred records before it).", nil, nil)
	descWALTime    = prometheus.NewDesc("custos_audit_wal_write_duration_seconds", "Duration of each write to the audit write-ahead file, its flush included.", nil, nil)
	descRecovered  = prometheus.NewDesc("custos_audit_recovered_records_total", "Records a crash left in the write-ahead file that the start committed to the log.", nil, nil)
	descCommitTime = prometheus.NewDesc("custos_audit_commit_duration_seconds", "Duration of each audit commit, its fsyncs included.", nil, nil)
	descCkptAge    = prometheus.NewDesc("custos_audit_checkpoint_age_seconds", "Time since the chain head was last signed.", nil, nil)
	descAnchors    = prometheus.NewDesc("custos_audit_anchor_deliveries_total", "Checkpoints delivered to anchors, by result.", []string{"result"}, nil)
	descBalance    = prometheus.NewDesc("custos_credit_balance_micros", "A credit account's committed balance, in micro-units.", []string{"account", "currency", "billing"}, nil)
	descReserved   = prometheus.NewDesc("custos_credit_reserved_micros", "What requests in flight hold of an account, in micro-units.", []string{"account", "currency", "billing"}, nil)
	descFree       = prometheus.NewDesc("custos_audit_disk_free_bytes", "Free space on the audit log's filesystem.", nil, nil)
	descHealthy    = prometheus.NewDesc("custos_audit_healthy", "1 when the audit log accepts records.", nil, nil)
	descInspCache  = prometheus.NewDesc("custos_inspection_cache_lookups_total",
		"Texts looked up in the inspection cache, by result (hit: not scanned again).", []string{"result"}, nil)
)

func (c *stateCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descRevision, descReloads, descCircuit, descFailures, descKeyAge, descKeyFail,
		descInFlight, descRefused, descOutcome, descAppends, descRecords, descCommits, descBatch, descCommitTime, descWALWrites, descWALTime, descRecovered, descCkptAge,
		descFree, descHealthy, descAnchors, descBalance, descReserved, descInspCache} {
		ch <- d
	}
}

func (c *stateCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.read()
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	counter := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v, labels...)
	}
	gauge(descRevision, 1, s.PolicyRevision)
	for result, n := range s.PolicyReloads {
		counter(descReloads, float64(n), result)
	}
	for _, cs := range s.Circuits {
		gauge(descCircuit, 1, cs.Endpoint, cs.State)
		gauge(descFailures, float64(cs.Failures), cs.Endpoint)
	}
	if s.KeyCacheAge >= 0 {
		gauge(descKeyAge, s.KeyCacheAge)
	}
	counter(descKeyFail, float64(s.KeyRefreshFailures))
	gauge(descInFlight, float64(s.InFlight))
	counter(descRefused, float64(s.Overloaded), "overloaded")
	counter(descRefused, float64(s.AuthThrottled), "failed_authentication")
	counter(descRefused, float64(s.ConnectionsRefused), "connection_cap")
	counter(descOutcome, float64(s.OutcomeFailures))
	if c := s.InspectionCache; c != nil {
		counter(descInspCache, float64(c.Hits), "hit")
		counter(descInspCache, float64(c.Misses), "miss")
	}
	if a := s.Audit; a != nil {
		collectAudit(ch, a)
	}
	for _, a := range s.Accounts {
		billing := map[bool]string{true: "postpaid", false: "prepaid"}[a.Postpaid]
		gauge(descBalance, float64(a.Balance), a.Name, a.Currency, billing)
		gauge(descReserved, float64(a.Reserved), a.Name, a.Currency, billing)
	}
}

// collectAudit reports the audit log's counters and distributions.
func collectAudit(ch chan<- prometheus.Metric, a *Audit) {
	metric := func(d *prometheus.Desc, t prometheus.ValueType, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, t, v, labels...)
	}
	metric(descAppends, prometheus.CounterValue, float64(a.Appends))
	metric(descRecords, prometheus.CounterValue, float64(a.Records))
	metric(descCommits, prometheus.CounterValue, float64(a.Commits), "ok")
	metric(descCommits, prometheus.CounterValue, float64(a.CommitErrors), "error")
	ch <- constHistogram(descBatch, a.BatchSize)
	ch <- constHistogram(descCommitTime, a.CommitSeconds)
	metric(descWALWrites, prometheus.CounterValue, float64(a.WALWrites))
	ch <- constHistogram(descWALTime, a.WALSeconds)
	metric(descRecovered, prometheus.CounterValue, float64(a.Recovered))
	if a.CheckpointAgeSeconds >= 0 {
		metric(descCkptAge, prometheus.GaugeValue, a.CheckpointAgeSeconds)
	}
	if a.FreeBytes >= 0 {
		metric(descFree, prometheus.GaugeValue, a.FreeBytes)
	}
	metric(descHealthy, prometheus.GaugeValue, map[bool]float64{true: 1}[a.Healthy])
	metric(descAnchors, prometheus.CounterValue, float64(a.AnchorsDelivered), "ok")
	metric(descAnchors, prometheus.CounterValue, float64(a.AnchorsFailed), "error")
}

// constHistogram renders h with Prometheus's cumulative buckets.
func constHistogram(d *prometheus.Desc, h Histogram) prometheus.Metric {
	buckets := make(map[float64]uint64, len(h.Bounds))
	var cum uint64
	for i, b := range h.Bounds {
		if i < len(h.Counts) {
			cum += h.Counts[i]
		}
		buckets[b] = cum
	}
	return prometheus.MustNewConstHistogram(d, h.Count, h.Sum, buckets)
}
