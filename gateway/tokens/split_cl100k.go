package tokens

// nextCl100k returns the end of the piece that starts at i, as
// cl100k_base's pattern splits text:
//
//	(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}
//	| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
func nextCl100k(s string, i int) int {
	if j := contraction(s, i); j > i {
		return j
	}
	if p, n := isPrefix(s, i); p {
		if j := run(s, i+n, cL); j > i+n {
			return j
		}
	}
	if j := run(s, i, cL); j > i {
		return j
	}
	if j := digits(s, i); j > 0 {
		return j
	}
	if j := symbols(s, i, false); j > 0 {
		return j
	}
	return spaces(s, i)
}
