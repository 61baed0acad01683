package bench

import (
	"fmt"
	"strconv"
	"strings"
)

// ParseRange reads "1000" or "200-4000" (bytes).
func ParseRange(s string) (lo, hi int, err error) {
	a, b, isRange := strings.Cut(strings.TrimSpace(s), "-")
	lo, err = strconv.Atoi(strings.TrimSpace(a))
	if err != nil {
		return 0, 0, fmt.Errorf("%w: size %q is not N or MIN-MAX", ErrWorkload, s)
	}
	hi = lo
	if isRange {
		if hi, err = strconv.Atoi(strings.TrimSpace(b)); err != nil {
			return 0, 0, fmt.Errorf("%w: size %q is not N or MIN-MAX", ErrWorkload, s)
		}
	}
	if lo <= 0 || hi < lo {
		return 0, 0, fmt.Errorf("%w: size range %q", ErrWorkload, s)
	}
	return lo, hi, nil
}

var routeNames = map[string]string{
	"chat": RouteChat, "chat/completions": RouteChat, "messages": RouteMessages,
	"responses": RouteResponses, "embeddings": RouteEmbeddings,
}

// ParseRoutes reads a weighted route mix: "chat", "chat=8,messages=2",
// "chat,embeddings" (weight 1 each). Names: chat, messages, responses,
// embeddings.
func ParseRoutes(s string) (map[string]int, error) {
	out := map[string]int{}
	for part := range strings.SplitSeq(s, ",") {
		name, weight, hasWeight := strings.Cut(strings.TrimSpace(part), "=")
		route, ok := routeNames[strings.TrimSpace(name)]
		if !ok {
			return nil, fmt.Errorf("%w: route %q is not chat, messages, responses or embeddings", ErrWorkload, name)
		}
		w := 1
		if hasWeight {
			var err error
			if w, err = strconv.Atoi(strings.TrimSpace(weight)); err != nil || w < 0 || w > 1000 {
				return nil, fmt.Errorf("%w: route weight %q", ErrWorkload, weight)
			}
		}
		out[route] += w
	}
	return out, nil
}

// ParseInts reads a comma-separated list of positive integers ("1,64").
func ParseInts(s string) ([]int, error) {
	var out []int
	for part := range strings.SplitSeq(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(part))
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("%w: %q is not a list of positive numbers", ErrOptions, s)
		}
		out = append(out, n)
	}
	return out, nil
}
