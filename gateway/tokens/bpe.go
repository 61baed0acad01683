package tokens

import "math"

const noRank = math.MaxUint32

// scanLimit is the piece length up to which merges are found by scanning;
// longer pieces use a heap.
const scanLimit = 128

// pieceTokens counts the tokens byte-pair encoding makes of one piece,
// merging the lowest-ranked adjacent pair first (the leftmost on ties), as
// tiktoken does.
func (e *encoding) pieceTokens(piece string) int {
	if len(piece) <= 1 {
		return len(piece)
	}
	if _, ok := e.ranks[piece]; ok {
		return 1
	}
	if len(piece) > scanLimit {
		return e.mergeHeap(piece)
	}
	return e.mergeScan(piece)
}

func (e *encoding) rank(s string) uint32 {
	if r, ok := e.ranks[s]; ok {
		return r
	}
	return noRank
}

type part struct {
	start int32
	rank  uint32 // rank of the token this part and the next would merge into
}

// mergeScan is tiktoken's quadratic merge, on a stack buffer.
func (e *encoding) mergeScan(piece string) int {
	var buf [scanLimit + 1]part
	parts := buf[:0]
	for i := 0; i < len(piece)-1; i++ {
		parts = append(parts, part{int32(i), e.rank(piece[i : i+2])})
	}
	parts = append(parts, part{int32(len(piece) - 1), noRank}, part{int32(len(piece)), noRank})
	rankAt := func(i int) uint32 { // after parts[i+1] is removed
		if i+3 < len(parts) {
			return e.rank(piece[parts[i].start:parts[i+3].start])
		}
		return noRank
	}
	for {
		minRank, minAt := uint32(noRank), -1
		for i, p := range parts[:len(parts)-1] {
			if p.rank < minRank {
				minRank, minAt = p.rank, i
			}
		}
		if minAt < 0 {
			return len(parts) - 1
		}
		if minAt > 0 {
			parts[minAt-1].rank = rankAt(minAt - 1)
		}
		parts[minAt].rank = rankAt(minAt)
		parts = append(parts[:minAt+1], parts[minAt+2:]...)
	}
}
