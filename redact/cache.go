package redact

import (
	"hash/maphash"
	"sync"
	"sync/atomic"
)

// A Cache remembers what scanning a text found, so that a text sent again
// (a system prompt, the earlier turns of a conversation, tool definitions)
// is not scanned again. It holds findings (types, offsets, scores) under a
// 128-bit keyed hash of the scope and the text; it never holds a text, a
// part of one or an unkeyed digest of one, and its hash seeds are drawn
// afresh in every process. The findings for a text are a function of the
// text alone (the scanner is immutable), so a hit returns exactly what a
// scan would.
//
// The scope keeps callers apart: a text one scope sent is a miss for every
// other scope, so the time a request takes says nothing about what another
// scope's requests held. The gateway scopes by tenant and app.
type Cache struct {
	seeds    [2]maphash.Seed
	perShard int
	shards   [cacheShards]cacheShard
	hits     atomic.Uint64
	misses   atomic.Uint64
}

const (
	cacheShards = 16
	// cacheMinText: shorter texts are scanned every time (hashing and a
	// lookup cost about as much as their scan).
	cacheMinText = 24
	// cacheMaxFindings: a text with more findings is not kept (it costs
	// more memory than its scan is worth keeping).
	cacheMaxFindings = 64
)

type cacheKey struct{ a, b uint64 }

type cacheShard struct {
	mu sync.Mutex
	m  map[cacheKey][]Finding
}

// NewCache returns a cache holding up to entries texts' findings; entries
// <= 0 returns nil (no cache).
func NewCache(entries int) *Cache {
	if entries <= 0 {
		return nil
	}
	c := &Cache{seeds: [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()},
		perShard: max(1, (entries+cacheShards-1)/cacheShards)}
	for i := range c.shards {
		c.shards[i].m = make(map[cacheKey][]Finding)
	}
	return c
}

// Stats returns the lookups that found a text's findings and those that
// did not, since the cache was made.
func (c *Cache) Stats() (hits, misses uint64) { return c.hits.Load(), c.misses.Load() }

// scoped is a cache seen from one scope: the scope's hash state, seeded,
// from which each text's key is continued.
type scoped struct {
	c      *Cache
	ha, hb maphash.Hash
}

// in returns the cache as scope sees it; nil for a nil cache.
func (c *Cache) in(scope string) *scoped {
	if c == nil {
		return nil
	}
	s := &scoped{c: c}
	s.ha.SetSeed(c.seeds[0])
	s.hb.SetSeed(c.seeds[1])
	for _, h := range []*maphash.Hash{&s.ha, &s.hb} {
		var n [8]byte
		for i, l := 0, uint64(len(scope)); i < 8; i, l = i+1, l>>8 {
			n[i] = byte(l)
		}
		_, _ = h.Write(n[:]) // the scope's length first: no scope is another's prefix
		_, _ = h.WriteString(scope)
	}
	return s
}

// key is text's key in this scope, or false when text is not kept.
func (s *scoped) key(text string) (cacheKey, bool) {
	if s == nil || len(text) < cacheMinText {
		return cacheKey{}, false
	}
	a, b := s.ha, s.hb // copies: the scope's state stays as it was
	_, _ = a.WriteString(text)
	_, _ = b.WriteString(text)
	return cacheKey{a.Sum64(), b.Sum64()}, true
}

func (c *Cache) shard(k cacheKey) *cacheShard { return &c.shards[k.a%cacheShards] }

// get returns a copy of the findings kept for k.
func (c *Cache) get(k cacheKey) ([]Finding, bool) {
	sh := c.shard(k)
	sh.mu.Lock()
	fs, ok := sh.m[k]
	sh.mu.Unlock()
	if !ok {
		c.misses.Add(1)
		return nil, false
	}
	c.hits.Add(1)
	if len(fs) == 0 {
		return nil, true
	}
	return append([]Finding(nil), fs...), true
}

// put keeps a copy of fs for k, evicting an entry of the shard chosen at
// random (Go's map iteration order) when the shard is full.
func (c *Cache) put(k cacheKey, fs []Finding) {
	if len(fs) > cacheMaxFindings {
		return
	}
	var kept []Finding
	if len(fs) > 0 {
		kept = append(make([]Finding, 0, len(fs)), fs...)
	}
	sh := c.shard(k)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if _, ok := sh.m[k]; !ok && len(sh.m) >= c.perShard {
		for old := range sh.m {
			delete(sh.m, old)
			break
		}
	}
	sh.m[k] = kept
}
