package tokens

// nextO200k returns the end of the piece that starts at i, as o200k_base's
// pattern splits text:
//
//	[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?
//	|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?
//	|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+
func nextO200k(s string, i int) int {
	if p, n := isPrefix(s, i); p {
		if j := lowerWord(s, i+n); j > 0 {
			return j
		}
	}
	if j := lowerWord(s, i); j > 0 {
		return j
	}
	if p, n := isPrefix(s, i); p {
		if j := upperWord(s, i+n); j > 0 {
			return j
		}
	}
	if j := upperWord(s, i); j > 0 {
		return j
	}
	if j := digits(s, i); j > 0 {
		return j
	}
	if j := symbols(s, i, true); j > 0 {
		return j
	}
	return spaces(s, i)
}

// lowerWord matches X*Y+C? at k (X, Y the two letter classes, C a
// contraction), backtracking X* as the regex engine does: the word ends
// after the Y run that follows the X run, or else just after the X run's
// last rune that is also in Y. It returns -1 when nothing matches.
func lowerWord(s string, k int) int {
	a, lastXY := k, -1
	for a < len(s) {
		c, n := at(s, a)
		if c&cX == 0 {
			break
		}
		if c&cY != 0 {
			lastXY = a
		}
		a += n
	}
	if a < len(s) {
		if c, _ := at(s, a); c&cY != 0 {
			return contraction(s, run(s, a, cY))
		}
	}
	if lastXY >= 0 {
		_, n := at(s, lastXY)
		return contraction(s, lastXY+n)
	}
	return -1
}

// upperWord matches X+Y*C? at k, or returns -1.
func upperWord(s string, k int) int {
	a := run(s, k, cX)
	if a == k {
		return -1
	}
	return contraction(s, run(s, a, cY))
}
