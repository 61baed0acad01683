package tokens

import "container/heap"

// mergeHeap gives mergeScan's result in O(n log n) for long pieces: parts
// form a linked list, candidate merges sit in a heap ordered by (rank,
// start), and a candidate whose part has since changed is skipped.
func (e *encoding) mergeHeap(piece string) int {
	n := len(piece)
	next := make([]int32, n+1) // next[i]: start of the part after the one at i; -1 at the end
	prev := make([]int32, n+1)
	rank := make([]uint32, n+1) // rank of merging the part at i with the next
	for i := 0; i <= n; i++ {
		next[i], prev[i], rank[i] = int32(i+1), int32(i-1), noRank
	}
	next[n] = -1
	pairRank := func(i int32) uint32 {
		j := next[i]
		if j < 0 || next[j] < 0 {
			return noRank
		}
		return e.rank(piece[i:next[j]])
	}
	h := &candidates{}
	for i := int32(0); i < int32(n)-1; i++ {
		if rank[i] = pairRank(i); rank[i] != noRank {
			h.items = append(h.items, candidate{rank[i], i})
		}
	}
	heap.Init(h)
	parts := n
	for h.Len() > 0 {
		c := heap.Pop(h).(candidate)
		if next[c.start] < 0 || rank[c.start] != c.rank {
			continue // stale
		}
		j := next[c.start] // merge the part at j into the part at c.start
		next[c.start] = next[j]
		if next[j] >= 0 {
			prev[next[j]] = c.start
		}
		next[j] = -1
		parts--
		for _, i := range []int32{c.start, prev[c.start]} {
			if i < 0 {
				continue
			}
			if rank[i] = pairRank(i); rank[i] != noRank {
				heap.Push(h, candidate{rank[i], i})
			}
		}
	}
	return parts
}

type candidate struct {
	rank  uint32
	start int32
}

type candidates struct{ items []candidate }

func (h *candidates) Len() int { return len(h.items) }
func (h *candidates) Less(a, b int) bool {
	x, y := h.items[a], h.items[b]
	return x.rank < y.rank || x.rank == y.rank && x.start < y.start
}
func (h *candidates) Swap(a, b int) { h.items[a], h.items[b] = h.items[b], h.items[a] }
func (h *candidates) Push(x any)    { h.items = append(h.items, x.(candidate)) }
func (h *candidates) Pop() any {
	x := h.items[len(h.items)-1]
	h.items = h.items[:len(h.items)-1]
	return x
}
