package redact

// CacheLen is the number of texts sc's cache holds findings for, and the
// findings it holds.
func CacheLen(sc *Scanner) (entries, findings int) {
	c := sc.cache
	for i := range c.shards {
		c.shards[i].mu.Lock()
		entries += len(c.shards[i].m)
		findings += c.shards[i].findings
		c.shards[i].mu.Unlock()
	}
	return entries, findings
}

// CacheOf is sc's cache, for tests that walk what it holds.
func CacheOf(sc *Scanner) any { return sc.cache }
