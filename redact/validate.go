package redact

import (
	"crypto/sha256"
	"math/big"
	"strings"
)

// digitsOf returns the ASCII digits of s, and whether s holds nothing but
// digits and the separators allowed (space, dash, dot, slash).
func digitsOf(s string) (string, bool) {
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			b = append(b, c)
		case c == ' ' || c == '-' || c == '.' || c == '/' || c == '\n':
		default:
			return "", false
		}
	}
	return string(b), true
}

func luhn(d string) bool {
	sum, alt := 0, false
	for i := len(d) - 1; i >= 0; i-- {
		n := int(d[i] - '0')
		if alt {
			n *= 2
			if n > 9 {
				n -= 9
			}
		}
		sum += n
		alt = !alt
	}
	return len(d) > 1 && sum%10 == 0
}

func hasPrefixNum(d string, lo, hi int, width int) bool {
	if len(d) < width {
		return false
	}
	n := 0
	for i := 0; i < width; i++ {
		n = n*10 + int(d[i]-'0')
	}
	return n >= lo && n <= hi
}

// cardIssuer reports whether d has a known issuer prefix and a length that
// issuer uses.
func cardIssuer(d string) bool {
	l := len(d)
	switch {
	case d[0] == '4':
		return l == 13 || l == 16 || l == 19
	case hasPrefixNum(d, 51, 55, 2), hasPrefixNum(d, 2221, 2720, 4):
		return l == 16
	case hasPrefixNum(d, 34, 34, 2), hasPrefixNum(d, 37, 37, 2):
		return l == 15
	case hasPrefixNum(d, 6011, 6011, 4), hasPrefixNum(d, 65, 65, 2), hasPrefixNum(d, 644, 649, 3):
		return l >= 16 && l <= 19
	case hasPrefixNum(d, 300, 305, 3), hasPrefixNum(d, 36, 36, 2), hasPrefixNum(d, 38, 38, 2):
		return l == 14
	case hasPrefixNum(d, 3528, 3589, 4):
		return l >= 16 && l <= 19
	case hasPrefixNum(d, 1800, 1800, 4), hasPrefixNum(d, 2131, 2131, 4):
		return l == 15 // JCB's older 15-digit ranges
	case hasPrefixNum(d, 62, 62, 2):
		return l >= 16 && l <= 19
	case hasPrefixNum(d, 50, 50, 2), hasPrefixNum(d, 56, 69, 2):
		return l >= 12 && l <= 19
	}
	return false
}

// ibanLengths is ISO 13616's length per country (registry excerpt covering
// SEPA and the common non-SEPA countries).
var ibanLengths = map[string]int{
	"AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22, "BR": 29,
	"BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "DO": 28, "EE": 20, "EG": 29,
	"ES": 24, "FI": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28,
	"HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20,
	"LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "MC": 27, "MD": 24, "ME": 22, "MK": 19,
	"MR": 27, "MT": 31, "MU": 30, "NL": 18, "NO": 15, "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29,
	"RO": 24, "RS": 22, "SA": 24, "SC": 31, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "ST": 25, "SV": 28,
	"TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20,
}

// validIBAN checks country length and the mod-97 check (s without spaces,
// upper case).
func validIBAN(s string) bool {
	if len(s) < 15 || len(s) > 34 {
		return false
	}
	want, ok := ibanLengths[s[:2]]
	if !ok || want != len(s) || s[2] < '0' || s[2] > '9' || s[3] < '0' || s[3] > '9' {
		return false
	}
	rem := 0
	step := func(c byte) bool {
		switch {
		case c >= '0' && c <= '9':
			rem = (rem*10 + int(c-'0')) % 97
		case c >= 'A' && c <= 'Z':
			v := int(c-'A') + 10
			rem = (rem*100 + v) % 97
		default:
			return false
		}
		return true
	}
	for i := 4; i < len(s); i++ {
		if !step(s[i]) {
			return false
		}
	}
	for i := 0; i < 4; i++ {
		if !step(s[i]) {
			return false
		}
	}
	return rem == 1
}

// validABA checks a US routing number's prefix and checksum.
func validABA(d string) bool {
	if len(d) != 9 {
		return false
	}
	p := int(d[0]-'0')*10 + int(d[1]-'0')
	if !(p <= 12 || (p >= 21 && p <= 32) || (p >= 61 && p <= 72) || p == 80) {
		return false
	}
	n := func(i int) int { return int(d[i] - '0') }
	return (3*(n(0)+n(3)+n(6))+7*(n(1)+n(4)+n(7))+(n(2)+n(5)+n(8)))%10 == 0 && d != "000000000"
}

// validSSN rejects the numbers the SSA never issues.
func validSSN(d string) bool {
	if len(d) != 9 {
		return false
	}
	area, group, serial := d[:3], d[3:5], d[5:]
	return area != "000" && area != "666" && area[0] != '9' && group != "00" && serial != "0000" &&
		d != "123456789" && d != "078051120" && d != "219099999"
}

func validITIN(d string) bool {
	if len(d) != 9 || d[0] != '9' {
		return false
	}
	g := int(d[3]-'0')*10 + int(d[4]-'0')
	return (g >= 50 && g <= 65) || (g >= 70 && g <= 88) || (g >= 90 && g <= 92) || (g >= 94 && g <= 99)
}

// validNPI: Luhn over the prefix 80840 and the ten digits.
func validNPI(d string) bool {
	return len(d) == 10 && (d[0] == '1' || d[0] == '2') && luhn("80840"+d)
}

// validDEA: two letters and seven digits with the DEA check digit.
func validDEA(s string) bool {
	if len(s) != 9 || !strings.ContainsRune("ABCDEFGHJKLMPRSTUX", rune(s[0])) {
		return false
	}
	if !(s[1] >= 'A' && s[1] <= 'Z' || s[1] == '9') {
		return false
	}
	d := s[2:]
	for i := 0; i < 7; i++ {
		if d[i] < '0' || d[i] > '9' {
			return false
		}
	}
	n := func(i int) int { return int(d[i] - '0') }
	return (n(0)+n(2)+n(4)+2*(n(1)+n(3)+n(5)))%10 == n(6)
}

// validNHS: mod 11 over ten digits.
func validNHS(d string) bool {
	if len(d) != 10 {
		return false
	}
	sum := 0
	for i := 0; i < 9; i++ {
		sum += int(d[i]-'0') * (10 - i)
	}
	check := 11 - sum%11
	if check == 11 {
		check = 0
	}
	return check != 10 && check == int(d[9]-'0')
}

// validNINO checks the UK National Insurance number format.
func validNINO(s string) bool {
	if len(s) != 9 {
		return false
	}
	a, b := s[0], s[1]
	if !isUpper(a) || !isUpper(b) || strings.IndexByte("DFIQUV", a) >= 0 || strings.IndexByte("DFIOQUV", b) >= 0 {
		return false
	}
	switch s[:2] {
	case "BG", "GB", "KN", "NK", "NT", "TN", "ZZ":
		return false
	}
	for i := 2; i < 8; i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s[8] >= 'A' && s[8] <= 'D'
}

// validSteuerID checks the German tax id: 11 digits, no leading zero, one
// digit repeated two or three times in the first ten, ISO 7064 MOD 11,10.
func validSteuerID(d string) bool {
	if len(d) != 11 || d[0] == '0' {
		return false
	}
	var counts [10]int
	for i := 0; i < 10; i++ {
		counts[d[i]-'0']++
	}
	repeated := 0
	for _, c := range counts {
		if c > 3 {
			return false
		}
		if c >= 2 {
			repeated++
		}
	}
	if repeated != 1 {
		return false
	}
	product := 10
	for i := 0; i < 10; i++ {
		sum := (int(d[i]-'0') + product) % 10
		if sum == 0 {
			sum = 10
		}
		product = (sum * 2) % 11
	}
	check := 11 - product
	if check == 10 {
		check = 0
	}
	return check == int(d[10]-'0')
}

// validNIR checks the French social security number: 13 characters (Corsica
// 2A/2B allowed) and a two-digit key 97 - n mod 97.
func validNIR(s string) bool {
	if len(s) != 15 || (s[0] != '1' && s[0] != '2' && s[0] != '7' && s[0] != '8') {
		return false
	}
	body := s[:13]
	switch body[5:7] {
	case "2A":
		body = body[:5] + "19" + body[7:]
	case "2B":
		body = body[:5] + "18" + body[7:]
	}
	n, ok := new(big.Int).SetString(body, 10)
	if !ok {
		return false
	}
	key := 97 - int(new(big.Int).Mod(n, big.NewInt(97)).Int64())
	return key == int(s[13]-'0')*10+int(s[14]-'0')
}

const dniLetters = "TRWAGMYFPDXBNJZSQVHLCKE"

// validDNI checks a Spanish DNI (8 digits + letter) or NIE (X/Y/Z + 7
// digits + letter).
func validDNI(s string) bool {
	if len(s) != 9 {
		return false
	}
	num := s[:8]
	switch s[0] {
	case 'X':
		num = "0" + s[1:8]
	case 'Y':
		num = "1" + s[1:8]
	case 'Z':
		num = "2" + s[1:8]
	}
	n := 0
	for i := 0; i < 8; i++ {
		if num[i] < '0' || num[i] > '9' {
			return false
		}
		n = n*10 + int(num[i]-'0')
	}
	return dniLetters[n%23] == s[8]
}

var cfOdd = [36]int{1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24, 23}

// validCodiceFiscale checks an Italian fiscal code's shape and check letter
// (omocodia letters accepted).
func validCodiceFiscale(s string) bool {
	if len(s) != 16 {
		return false
	}
	const omo = "LMNPQRSTUV"
	for i := 0; i < 15; i++ {
		c := s[i]
		switch {
		case i < 6 || i == 8 || i == 11:
			if !isUpper(c) {
				return false
			}
		default:
			if !(c >= '0' && c <= '9') && strings.IndexByte(omo, c) < 0 {
				return false
			}
		}
	}
	if strings.IndexByte("ABCDEHLMPRST", s[8]) < 0 || !isUpper(s[15]) {
		return false
	}
	sum := 0
	for i := 0; i < 15; i++ {
		c := s[i]
		idx := int(c - '0')
		if isUpper(c) {
			idx = int(c-'A') + 10
		}
		if i%2 == 0 { // odd positions (1-based)
			sum += cfOdd[idx]
		} else if c >= '0' && c <= '9' {
			sum += int(c - '0')
		} else {
			sum += int(c - 'A')
		}
	}
	return byte('A'+sum%26) == s[15]
}

const base58Alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"

// validBase58Check validates a Bitcoin legacy/P2SH address.
func validBase58Check(s string) bool {
	if len(s) < 26 || len(s) > 35 || (s[0] != '1' && s[0] != '3') {
		return false
	}
	n := new(big.Int)
	for i := 0; i < len(s); i++ {
		v := strings.IndexByte(base58Alphabet, s[i])
		if v < 0 {
			return false
		}
		n.Mul(n, big.NewInt(58))
		n.Add(n, big.NewInt(int64(v)))
	}
	b := n.Bytes()
	lead := 0
	for lead < len(s) && s[lead] == '1' {
		lead++
	}
	full := append(make([]byte, lead), b...)
	if len(full) != 25 {
		return false
	}
	h1 := sha256.Sum256(full[:21])
	h2 := sha256.Sum256(h1[:])
	return string(h2[:4]) == string(full[21:])
}

const bech32Charset = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"

// validBech32 validates a segwit address (bc1..., bech32 or bech32m).
func validBech32(s string) bool {
	s = strings.ToLower(s)
	if len(s) < 14 || len(s) > 74 || !strings.HasPrefix(s, "bc1") {
		return false
	}
	hrp, data := "bc", s[3:]
	values := make([]int, 0, len(hrp)*2+1+len(data))
	for i := 0; i < len(hrp); i++ {
		values = append(values, int(hrp[i]>>5))
	}
	values = append(values, 0)
	for i := 0; i < len(hrp); i++ {
		values = append(values, int(hrp[i]&31))
	}
	for i := 0; i < len(data); i++ {
		v := strings.IndexByte(bech32Charset, data[i])
		if v < 0 {
			return false
		}
		values = append(values, v)
	}
	gen := [5]int{0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3}
	chk := 1
	for _, v := range values {
		top := chk >> 25
		chk = (chk&0x1ffffff)<<5 ^ v
		for i := 0; i < 5; i++ {
			if (top>>i)&1 == 1 {
				chk ^= gen[i]
			}
		}
	}
	return chk == 1 || chk == 0x2bc830a3
}

func isUpper(c byte) bool { return c >= 'A' && c <= 'Z' }
func isLower(c byte) bool { return c >= 'a' && c <= 'z' }
func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isAlnum(c byte) bool { return isUpper(c) || isLower(c) || isDigit(c) }
