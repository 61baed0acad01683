package redact

import (
	"encoding/binary"
	"hash/maphash"
	"sync"
	"sync/atomic"
)

// A cache remembers what scanning a text found, so that a text sent again
// (a system prompt, the earlier turns of a conversation, tool definitions)
// is not scanned again. Each Scanner made with Options.CacheEntries owns
// one: the findings for a text are a function of the text and the
// scanner's options alone, so a hit returns exactly what a scan would,
// and counts as many findings against MaxFindings.
//
// It holds findings (types, offsets, scores), the text's length and the
// count a scan takes, under a 128-bit keyed hash of the scope and the
// text; never a text, a part of one or an unkeyed digest of one, and its
// hash seeds are drawn afresh in every process. Only texts of at least
// cacheMinText bytes that are not labelled values (a field's key read
// before it) are kept: short and labelled texts are cheap to scan and too
// easy to guess to keep even as a keyed hash.
//
// The scope keeps callers apart: a text one scope sent is a miss for every
// other scope, so whether a text is in the cache says nothing about what
// another scope's requests held. The gateway scopes by tenant and app.
// The capacity is shared: how soon a scope's own entries are evicted
// depends on how many distinct texts all scopes send.
type cache struct {
	seeds    [2]maphash.Seed
	perShard int
	shards   [cacheShards]cacheShard
	hits     atomic.Uint64
	misses   atomic.Uint64
}

const (
	cacheShards = 16
	// cacheMinText: shorter texts are scanned every time (cheap, and short
	// texts are the easiest to guess).
	cacheMinText = 64
	// cacheMaxFindings: a text with more findings is not kept.
	cacheMaxFindings = 16
	// cacheFindingsPerEntry: a shard holds at most this many findings per
	// entry of its capacity on average, which bounds its memory at about
	// 250 bytes an entry however the texts are made.
	cacheFindingsPerEntry = 3
)

type cacheKey struct{ a, b uint64 }

// cacheEntry is what a scan of one text found.
type cacheEntry struct {
	fs    []Finding
	size  int // the text's length: a hit must be for a text of this size
	taken int // the findings the scan counted against MaxFindings
}

type cacheShard struct {
	mu       sync.Mutex
	m        map[cacheKey]cacheEntry
	findings int // held in m, bounded by perShard × cacheFindingsPerEntry
}

// newCache returns a cache of entries texts' findings (rounded up to a
// multiple of its shards); entries <= 0 returns nil (no cache).
func newCache(entries int) *cache {
	if entries <= 0 {
		return nil
	}
	c := &cache{seeds: [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()},
		perShard: max(1, (entries+cacheShards-1)/cacheShards)}
	for i := range c.shards {
		c.shards[i].m = make(map[cacheKey]cacheEntry)
	}
	return c
}

// CacheStats returns the texts found in the scanner's cache and those
// scanned, since the scanner was made; ok is false without a cache.
func (sc *Scanner) CacheStats() (hits, misses uint64, ok bool) {
	if sc.cache == nil {
		return 0, 0, false
	}
	return sc.cache.hits.Load(), sc.cache.misses.Load(), true
}

// scoped is a cache seen from one scope: the scope's hash state, seeded,
// from which each text's key is continued.
type scoped struct {
	c      *cache
	ha, hb maphash.Hash
}

// in returns the cache as the scope made of parts sees it; nil for a nil
// cache. Each part is hashed after its length, so no two lists of parts
// hash alike.
func (c *cache) in(parts []string) *scoped {
	if c == nil {
		return nil
	}
	s := &scoped{c: c}
	s.ha.SetSeed(c.seeds[0])
	s.hb.SetSeed(c.seeds[1])
	var n [8]byte
	for _, part := range parts {
		binary.LittleEndian.PutUint64(n[:], uint64(len(part)))
		for _, h := range [2]*maphash.Hash{&s.ha, &s.hb} {
			_, _ = h.Write(n[:])
			_, _ = h.WriteString(part)
		}
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

func (c *cache) shard(k cacheKey) *cacheShard { return &c.shards[k.a%cacheShards] }

// get returns a copy of what a scan of the text of size bytes with key k
// found, and the count it took.
func (c *cache) get(k cacheKey, size int) (fs []Finding, taken int, ok bool) {
	sh := c.shard(k)
	sh.mu.Lock()
	e, ok := sh.m[k]
	sh.mu.Unlock()
	if !ok || e.size != size {
		c.misses.Add(1)
		return nil, 0, false
	}
	c.hits.Add(1)
	if len(e.fs) > 0 {
		fs = append([]Finding(nil), e.fs...)
	}
	return fs, e.taken, true
}

// put keeps a copy of e's findings for k, evicting entries of the shard
// chosen at random (Go's map iteration order) while it is full.
func (c *cache) put(k cacheKey, e cacheEntry) {
	if len(e.fs) > cacheMaxFindings {
		return
	}
	if len(e.fs) > 0 {
		e.fs = append(make([]Finding, 0, len(e.fs)), e.fs...)
	}
	sh := c.shard(k)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if old, ok := sh.m[k]; ok {
		sh.findings -= len(old.fs)
		delete(sh.m, k)
	}
	for len(sh.m) > 0 && (len(sh.m) >= c.perShard || sh.findings+len(e.fs) > c.perShard*cacheFindingsPerEntry) {
		for old, oe := range sh.m {
			sh.findings -= len(oe.fs)
			delete(sh.m, old)
			break
		}
	}
	sh.m[k] = e
	sh.findings += len(e.fs)
}
