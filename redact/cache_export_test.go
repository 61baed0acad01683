package redact

// CacheLen is the number of texts c holds findings for.
func CacheLen(c *Cache) int {
	n := 0
	for i := range c.shards {
		c.shards[i].mu.Lock()
		n += len(c.shards[i].m)
		c.shards[i].mu.Unlock()
	}
	return n
}
