package redact

import (
	"net/netip"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/custos-gateway/custos/redact/internal/ner"
	"github.com/nyaruka/phonenumbers"
)

// Options choose what a Scanner looks for.
type Options struct {
	// NoNames turns off PERSON and ADDRESS detection (the lexicon work),
	// for callers that need only identifiers and contact data.
	NoNames bool
	// MaxFindings > 0 bounds the findings of one Inspect call (see
	// ErrTooManyFindings); 0 is no bound.
	MaxFindings int
	// CacheEntries > 0 gives the scanner a cache of that many texts'
	// findings, which InspectIn reads and fills (see cache). Scan and
	// Inspect do not use it: they have no scope.
	CacheEntries int
}

// Scanner finds PII/PHI. It is safe for concurrent use; apart from its
// cache it is immutable.
type Scanner struct {
	opts  Options
	cache *cache // nil: none
}

// NewScanner returns a scanner.
func NewScanner(opts Options) *Scanner {
	if !opts.NoNames {
		names() // load the lexicon now, not on the first request
		loadNER()
	}
	return &Scanner{opts: opts, cache: newCache(opts.CacheEntries)}
}

var wordPool = sync.Pool{New: func() any { b := make([]word, 0, 256); return &b }}

// Scan returns the findings in text, ordered by position, without overlaps,
// in byte offsets of text as given (before normalization).
func (sc *Scanner) Scan(text string) []Finding {
	n, fs, _ := sc.detectText(text, &limit{}) // no bound: no error
	var idx map[string][]needle
	for _, f := range fs {
		if propagated(f) {
			if idx == nil {
				idx = map[string][]needle{}
			}
			collectNeedles(idx, n.s[f.Start:f.End], f)
		}
	}
	if idx != nil {
		res := [][]Finding{fs}
		_ = propagate(idx, []normalized{n}, res, &limit{}) // no bound: no error
		fs = res[0]
	}
	return mapBack(n, fs)
}

// detectNorm normalizes text and runs every detector over it. The findings
// are in offsets of the normalized text, which is returned with them.
func (sc *Scanner) detectNorm(text string, depth int) (normalized, []Finding) {
	n := normalize(text)
	wp := wordPool.Get().(*[]word)
	words := tokenize(n.s, (*wp)[:0])
	st := statePool.Get().(*scanState)
	*st = scanState{sc: sc, text: n.s, words: words, depth: depth, lookup: st.lookup}
	st.scanHL7()
	st.scanPrivateKeys()
	if !n.ascii {
		st.scanCJKDates()
	}
	for i := 0; i < len(words); {
		i = st.at(i)
	}
	if !sc.opts.NoNames {
		st.names()
		if !n.ascii {
			st.scanCJK()
		}
	}
	st.dropQuiet()
	fs := mergePersons(n.s, splitURLs(resolve(st.out), st.inner))
	if !sc.opts.NoNames {
		fs = st.titles(fs)
	}
	markPersonalDates(n.s, fs)
	st.releaseEnts()
	*st = scanState{lookup: st.lookup} // the pool keeps no text or findings
	statePool.Put(st)
	*wp = words[:0]
	wordPool.Put(wp)
	return n, fs
}

// statePool holds scan states for reuse: a state is the largest of a
// short text's allocations, and its lookup is bound to it once.
var statePool = sync.Pool{New: func() any {
	st := new(scanState)
	st.lookup = st.gaz
	return st
}}

type scanState struct {
	sc    *Scanner
	text  string
	words []word
	out   []Finding
	depth int
	// inner holds, by URL start, the findings inside that URL.
	inner map[int][]Finding
	// ents caches gazetteer entries by word (in entsBuf, from a pool);
	// lookup is gaz bound to the state, for the tagger.
	ents    []gazEnt
	entsBuf *[]gazEnt
	lookup  func(k int) ner.Entry
	// consumed marks a number that context identifies as a (failed)
	// identifier: it is nothing else either.
	consumed bool
	// skipTo, when past the current word, is where a multi-word match ended.
	skipTo int
	// quiet marks the bytes of HL7 fields typed by their structure; the
	// first hl7n findings are what those fields hold.
	quiet bitset
	hl7n  int
	// The keyword matches of context windows (see hitsAt): the letter runs
	// of [kwLo, kwPos) are read, kwLastP is the last window's end.
	kwHits               []kwHit
	kwLo, kwPos, kwLastP int
	kwBroken             bool
}

func (st *scanState) add(t Type, s, e int, score float64) {
	st.out = append(st.out, Finding{Type: t, Start: s, End: e, Score: score})
}

// at examines the word at index i and returns the index to continue at.
func (st *scanState) at(i int) int {
	w := st.words[i]
	s := st.text[w.s:w.e]
	c := s[0]
	switch {
	case w.flags&wAt != 0 && strings.IndexByte(s, '@') > 0 && st.email(w):
		return i + 1
	case (c == 'h' || c == 'w' || c == 'H' || c == 'W') && st.url(w):
		return i + 1
	case st.secret(i):
		return i + 1
	case isDigit(c) || c == '+' || c == '(':
		if next := st.date(i); next > i {
			return next
		}
		if next := st.age(i); next > i {
			return next
		}
		if !st.sc.opts.NoNames && isDigit(c) {
			if next := st.address(i); next > i {
				return next
			}
		}
		if next := st.numeric(i); next > i {
			return next
		}
		if st.ip(w) {
			return i + 1
		}
		if st.alnumID(i) {
			return max(i+1, st.skipTo)
		}
		return i + 1
	case w.flags&wAssign != 0 && strings.Count(s, ":") >= 2 && st.ip(w):
		return i + 1
	}
	if w.flags&(wDigit|wUpper) != 0 && st.alnumID(i) {
		return max(i+1, st.skipTo)
	}
	if next := st.date(i); next > i {
		return next
	}
	if !st.sc.opts.NoNames {
		if next := st.address(i); next > i {
			return next
		}
		// The rules for titled and labeled names add their findings; the
		// words inside stay open to the other detectors and the tagger.
		st.person(i)
	}
	return i + 1
}

// ---- context ----

// before returns up to n bytes of lower-cased text before position p.
func (st *scanState) before(p, n int) string {
	s := max(0, p-n)
	return lower(st.text[s:p])
}

// lower is strings.ToLower with an ASCII fast path.
func lower(s string) string {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x80 {
			return strings.ToLower(s)
		}
		if isUpper(c) {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if isUpper(b[j]) {
					b[j] += 'a' - 'A'
				} else if b[j] >= 0x80 {
					return strings.ToLower(s)
				}
			}
			return string(b)
		}
	}
	return s
}

var (
	ctxSSN     = []string{"ssn", "social security", "soc sec", "ss#", "ss #", "sozialversicherung"}
	ctxITIN    = []string{"itin", "taxpayer identification"}
	ctxRouting = []string{"routing", "aba", "rtn", "transit number", "bank code"}
	ctxAccount = []string{"account", "acct", "a/c", "konto", "compte", "cuenta", "checking", "savings", "kontonummer", "n° de compte", "número de cuenta"}
	ctxNPI     = []string{"npi"}
	ctxNHS     = []string{"nhs"}
	ctxDEA     = []string{"dea"}
	ctxTaxDE   = []string{"steuer", "idnr", "id-nr", "identifikationsnummer", "tax id", "tin", "st-id", "steuerid"}
	ctxNIR     = []string{"sécurité sociale", "securite sociale", "nir", "insee", "sécu", "secu", "social security"}
	ctxMRN     = []string{"mrn", "mr#", "mr #", "mr no", "mr-nr", "med rec", "pt id", "pt. id", "pat id", "pat-id", "unit no", "unit number",
		"file no", "file number", "hosp no", "hosp. no", "encounter", "visit id", "accession", "medical record", "record number", "record no", "record #", "chart", "patient id", "patient number", "patientennummer", "fallnummer", "n° de dossier", "dossier", "historia clínica", "historia clinica", "n.º de historia", "hospital number", "case number"}
	ctxPlan     = []string{"member id", "member number", "member #", "policy number", "policy no", "policy #", "health plan", "insurance id", "insurance number", "subscriber", "beneficiary", "medicare", "medicaid", "versichertennummer", "krankenversicherung", "mutuelle", "n° d'assuré", "póliza", "poliza", "afiliación", "group number", "plan id"}
	ctxPassport = []string{"passport", "reisepass", "passeport", "pasaporte"}
	ctxLicense  = []string{"driver's license", "drivers license", "driver license", "driving licence", "driving license", "dl#", "dl #", "dl no", "license number", "licence number", "führerschein", "permis de conduire", "licencia de conducir", "carnet de conducir"}
	ctxPhone    = []string{"phone", "desk", "office", "direct", "landline", "ph:", "ph.", "tel", "call", "mobile", "cell", "fax", "telefon", "handy", "téléphone", "telephone", "portable", "teléfono", "telefono", "móvil", "movil", "whatsapp", "sms", "text me", "reach me", "contact"}
	ctxCard     = []string{"card", "credit card", "debit card", "visa", "mastercard", "amex", "american express", "discover", "jcb",
		"diners", "karte", "kreditkarte", "carte", "tarjeta", "carta", "cc#", "cc no", "card no", "card number", "pan"}
	ctxPostal    = []string{"zip", "postal code", "postcode", "post code", "plz", "code postal", "cp ", "c.p.", "código postal", "codigo postal"}
	ctxSwift     = []string{"swift", "bic", "bank", "banque", "banco"}
	ctxReference = []string{"order", "invoice", "ticket", "ref", "reference", "tracking", "shipment", "meeting id", "bestellung", "auftrag",
		"rechnung", "sendung", "commande", "facture", "pedido", "factura", "número de pedido", "case #", "job", "batch", "lot"}
	ctxVersion   = []string{"version", "v.", "release", "build", "firmware", "ver "}
	ctxDOB       = []string{"dob", "d.o.b", "date of birth", "birth date", "birthdate", "born", "birthday", "geb.", "geboren", "geburtsdatum", "né le", "née le", "né en", "date de naissance", "fecha de nacimiento", "nacido", "nacida", "f. nac", "fec. nac"}
	ctxPersonCue = []string{"patient", "pt.", "pt ", "mr.", "mrs.", "ms.", "dr.", "appointment", "scheduled", "follow-up", "follow up",
		"patientin", "paciente", "rendez-vous", "termin", "cita"}
	ctxAddressCue = []string{"address", "lives at", "living at", "located at", "lives on", "located on", "is on", "live in", "lives in",
		"moved to", "deliver it to", "return to", "enter on", "corner of", "ship to", "sent to", "send to", "mail to",
		"mailing", "deliver to", "adresse", "anschrift", "wohnhaft", "wohnt in der", "domicilio", "dirección", "direccion", "domicilié",
		"domiciliée", "demeurant", "residenza", "indirizzo"}
	ctxDateEvt = []string{"seen", "visit", "admitted", "admission", "discharged", "discharge", "date of service", "dos", "visit on", "visited on", "seen on", "died", "deceased", "date of death", "surgery on", "operated on", "aufnahme", "entlassung", "entlassen", "aufgenommen", "hospitalisé", "hospitalisée", "admis", "sortie le", "ingreso", "ingresó", "alta", "fallecido", "fallecida", "appointment on"}
)

// ---- e-mail, URL, IP ----

func (st *scanState) email(w word) bool {
	s := st.text[w.s:w.e]
	at := strings.IndexByte(s, '@')
	local, domain := s[:at], s[at+1:]
	if len(local) == 0 || len(local) > 64 || len(domain) < 4 {
		return false
	}
	// The local part may have been cut at a leading quote or bracket only.
	for i := 0; i < len(local); i++ {
		c := local[i]
		if !isAlnum(c) && strings.IndexByte("._%+-'", c) < 0 && c < 0x80 {
			return false
		}
	}
	dot := strings.LastIndexByte(domain, '.')
	if dot <= 0 || len(domain)-dot-1 < 2 {
		return false
	}
	for i := 0; i < len(domain); i++ {
		c := domain[i]
		if !isAlnum(c) && c != '.' && c != '-' && c < 0x80 {
			return false
		}
	}
	for i := dot + 1; i < len(domain); i++ {
		if !isUpper(domain[i]) && !isLower(domain[i]) {
			return false
		}
	}
	st.add(Email, w.s, w.e, 0.99)
	return true
}

func (st *scanState) url(w word) bool {
	s := st.text[w.s:w.e]
	ls := strings.ToLower(s)
	if !strings.HasPrefix(ls, "http://") && !strings.HasPrefix(ls, "https://") && !strings.HasPrefix(ls, "www.") {
		return false
	}
	rest := ls // www.…
	if !strings.HasPrefix(ls, "www.") {
		rest = ls[strings.Index(ls, "//")+2:]
	}
	if len(rest) < 4 || !strings.Contains(rest, ".") {
		return false
	}
	st.add(URL, w.s, w.e, 0.95)
	if st.depth < maxURLDepth {
		if in := st.urlInner(w.s, w.e); len(in) > 0 {
			if st.inner == nil {
				st.inner = map[int][]Finding{}
			}
			st.inner[w.s] = in
		}
	}
	return true
}

func (st *scanState) ip(w word) bool {
	s := st.text[w.s:w.e]
	a, ok := parseIP(s)
	if !ok || a.Is4() && st.hitsAt(w.s, 24).has(kVersion) {
		return false
	}
	st.add(IPAddress, w.s, w.e, 0.95)
	return true
}

// parseIP reads an IPv4 or IPv6 address, optionally as a CIDR range
// (10.0.0.0/8), with a port (10.0.0.1:8080, [2001:db8::1]:443) or in
// brackets.
func parseIP(s string) (netip.Addr, bool) {
	dots, colons := strings.Count(s, "."), strings.Count(s, ":")
	if dots != 3 && colons < 2 {
		return netip.Addr{}, false
	}
	if strings.IndexByte(s, '/') > 0 {
		p, err := netip.ParsePrefix(s)
		return p.Addr(), err == nil
	}
	if colons == 1 || strings.HasPrefix(s, "[") && strings.Contains(s, "]:") {
		ap, err := netip.ParseAddrPort(s)
		return ap.Addr(), err == nil
	}
	if strings.Count(s, ".") == 3 && strings.IndexByte(s, ':') < 0 {
		a, err := netip.ParseAddr(s)
		return a, err == nil && a.Is4()
	}
	if strings.Count(s, ":") >= 2 {
		a, err := netip.ParseAddr(strings.Trim(s, "[]"))
		return a, err == nil && a.Is6()
	}
	return netip.Addr{}, false
}

// ---- secrets ----

var secretPrefixes = []struct {
	prefix string
	minLen int
}{
	{"sk-ant-", 40}, {"sk-proj-", 40}, {"sk-", 32}, {"sk_live_", 24}, {"rk_live_", 24}, {"sk_test_", 24},
	{"ghp_", 40}, {"gho_", 40}, {"ghu_", 40}, {"ghs_", 40}, {"ghr_", 40}, {"github_pat_", 60},
	{"glpat-", 26}, {"xoxb-", 30}, {"xoxp-", 30}, {"xoxa-", 30}, {"xoxs-", 30}, {"AIza", 39}, {"hf_", 30},
}

var secretLabels = []string{"password", "passwd", "pwd", "passphrase", "secret", "token", "api_key", "apikey", "api-key",
	"access_key", "client_secret", "passwort", "kennwort", "mot de passe", "contraseña", "aws_secret_access_key"}

func (st *scanState) secret(i int) bool {
	w := st.words[i]
	s := st.text[w.s:w.e]
	if len(s) >= 20 {
		if st.secretToken(w, s) {
			return true
		}
	}
	return st.secretAssignment(i, w, s)
}

func (st *scanState) secretToken(w word, s string) bool {
	for _, p := range secretPrefixes {
		if strings.HasPrefix(s, p.prefix) && len(s) >= p.minLen && tokenChars(s[len(p.prefix):]) {
			st.add(Secret, w.s, w.e, 0.99)
			return true
		}
	}
	if (strings.HasPrefix(s, "AKIA") || strings.HasPrefix(s, "ASIA")) && len(s) == 20 && upperDigits(s) {
		st.add(Secret, w.s, w.e, 0.99)
		return true
	}
	if strings.HasPrefix(s, "eyJ") && strings.Count(s, ".") == 2 && len(s) > 30 {
		parts := strings.Split(s, ".")
		if strings.HasPrefix(parts[1], "eyJ") && len(parts[2]) >= 16 && tokenChars(parts[0]+parts[1]+parts[2]) {
			st.add(Secret, w.s, w.e, 0.98)
			return true
		}
	}
	return false
}

// secretAssignment: password=value, "password": "value", password: value.
func (st *scanState) secretAssignment(i int, w word, s string) bool {
	if len(s) < 3 {
		return false
	}
	assigns := w.flags&wAssign != 0 || w.e < len(st.text) && (st.text[w.e] == ':' || st.text[w.e] == '=') ||
		i+1 < len(st.words) && assignWord(st.text[st.words[i+1].s:st.words[i+1].e])
	if !assigns || !mayBeSecretLabel(s) {
		return false
	}
	ls := lower(s)
	for _, label := range secretLabels {
		idx := strings.Index(ls, label)
		if idx < 0 {
			continue
		}
		rest := s[idx+len(label):]
		rest = strings.TrimLeft(rest, "\"'")
		if len(rest) > 1 && (rest[0] == '=' || rest[0] == ':') {
			v := strings.Trim(rest[1:], "\"'")
			if len(v) >= 4 {
				start := w.s + strings.Index(s, v)
				st.add(Secret, start, start+len(v), 0.9)
				return true
			}
		}
		// value in the next word: "password: hunter2", "password = hunter2"
		if i+1 < len(st.words) && (len(rest) == 0 || rest == ":" || rest == "=") {
			j := i + 1
			if nx := st.text[st.words[j].s:st.words[j].e]; (nx == "=" || nx == ":" || nx == "is") && j+1 < len(st.words) {
				j++
			}
			nw := st.words[j]
			if nw.s-w.e <= 4 && nw.e-nw.s >= 6 && looksLikeSecretValue(st.text[nw.s:nw.e]) {
				st.add(Secret, nw.s, nw.e, 0.85)
				return true
			}
		}
	}
	return false
}

// assignWord: a word between a label and its value ("password is x").
func assignWord(w string) bool {
	switch w {
	case "is", "=", ":", "ist", "es", "est":
		return true
	}
	return false
}

// mayBeSecretLabel is a cheap gate: the word starts like a secret label.
func mayBeSecretLabel(s string) bool {
	for _, sub := range []string{"pass", "pwd", "secret", "token", "key", "wort", "contrase", "mot"} {
		if containsFold(s, sub) {
			return true
		}
	}
	return false
}

// containsFold is an allocation-free, ASCII case-insensitive Contains for a
// lower-case needle.
func containsFold(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		j := 0
		for ; j < len(sub); j++ {
			if s[i+j]|0x20 != sub[j] {
				break
			}
		}
		if j == len(sub) {
			return true
		}
	}
	return false
}

func tokenChars(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !isAlnum(c) && c != '-' && c != '_' && c != '=' && c != '+' && c != '/' {
			return false
		}
	}
	return true
}

func upperDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isUpper(s[i]) && !isDigit(s[i]) {
			return false
		}
	}
	return true
}

// looksLikeSecretValue wants a mix of character classes, as passwords have.
func looksLikeSecretValue(v string) bool {
	var lower, upper, digit, other bool
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case isLower(c):
			lower = true
		case isUpper(c):
			upper = true
		case isDigit(c):
			digit = true
		default:
			other = true
		}
	}
	n := 0
	for _, b := range []bool{lower, upper, digit, other} {
		if b {
			n++
		}
	}
	return n >= 2
}

// scanPrivateKeys finds PEM private key blocks anywhere in the text.
func (st *scanState) scanPrivateKeys() {
	text := st.text
	off := 0
	for {
		i := strings.Index(text[off:], "-----BEGIN ")
		if i < 0 {
			return
		}
		start := off + i
		hdrEnd := strings.Index(text[start+11:], "-----")
		if hdrEnd < 0 {
			return
		}
		label := text[start+11 : start+11+hdrEnd]
		off = start + 11 + hdrEnd + 5
		if !strings.Contains(label, "PRIVATE KEY") {
			continue
		}
		endMarker := "-----END " + label + "-----"
		j := strings.Index(text[off:], endMarker)
		end := len(text)
		if j >= 0 {
			end = off + j + len(endMarker)
		}
		st.add(Secret, start, end, 0.99)
		off = end
	}
}

// ---- numbers ----

func numericWord(s string) bool {
	digits := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case isDigit(c):
			digits++
		case c == '-' || c == '.' || c == '/' || c == '(' || c == ')' || (c == '+' && i == 0):
		default:
			return false
		}
	}
	return digits > 0
}

// numeric handles runs of number-like words ("4111 1111 1111 1111",
// "+49 30 1234567", "123-45-6789"); it returns the index after the match, or
// i when nothing matched.
func (st *scanState) numeric(i int) int {
	j := i
	ext := -1 // where a phone extension starts in the last word ("x0135")
	for j < len(st.words) && j-i < 8 {
		w := st.text[st.words[j].s:st.words[j].e]
		if j > i && !st.numberGap(i, j) {
			break
		}
		if !numericWord(w) {
			if k := extensionAt(w); k > 0 && numericWord(w[:k]) {
				ext = st.words[j].s + k
				j++
			}
			break
		}
		j++
	}
	if j == i {
		return i
	}
	first := st.words[i].s
	if first > 0 && st.text[first-1] == '(' {
		first--
	}
	if ext > 0 {
		if t, score := st.classifyNumber(first, ext, j-i); t == Phone {
			st.add(t, first, st.words[j-1].e, score)
			return j
		}
		return j
	}
	// A run shaped like a card number (groups of four, 13 to 19 digits)
	// is a card or nothing: its parts are not phone numbers.
	if t, score := st.classifyNumber(first, st.words[j-1].e, j-i); t != "" {
		end := j
		if t == Phone {
			end = st.extensionWords(j)
		}
		st.add(t, first, st.words[end-1].e, score)
		return end
	} else if cardShaped(st.text[first:st.words[j-1].e]) || st.consumed {
		st.consumed = false
		return j
	}
	// Longest span first, from the first word.
	for end := j - 1; end > i; end-- {
		s, e := first, st.words[end-1].e
		if t, score := st.classifyNumber(s, e, end-i); t != "" {
			st.add(t, s, e, score)
			return end
		}
	}
	if j-i > 1 {
		return j // a run of numbers that is no identifier, whole or from its start
	}
	return i
}

// extensionAt returns where a phone extension glued to a number starts
// ("555-0132x12", "555-0132ext12"), or -1.
func extensionAt(w string) int {
	for _, mark := range []string{"ext.", "ext", "x", "X"} {
		k := strings.LastIndex(w, mark)
		if k > 0 && isDigit(w[k-1]) && k+len(mark) < len(w) && len(w)-k-len(mark) <= 6 && allDigits(w[k+len(mark):]) {
			return k
		}
	}
	return -1
}

// extensionWords extends a phone number over "ext 12", "x 12", "ext. 12".
func (st *scanState) extensionWords(j int) int {
	if j+1 < len(st.words) && st.words[j].s-st.words[j-1].e <= 2 {
		switch lower(st.text[st.words[j].s:st.words[j].e]) {
		case "x", "ext", "ext.", "extension", "durchwahl", "poste":
			if w := st.text[st.words[j+1].s:st.words[j+1].e]; len(w) <= 6 && allDigits(w) {
				return j + 2
			}
		}
	}
	return j
}

// numberGap: what may stand between the groups of one number: a space or
// a newline, or the parentheses of an area code ("+44 (0)20", "(61) 834");
// a field separator may not.
func (st *scanState) numberGap(i, j int) bool {
	g := st.text[st.words[j-1].e:st.words[j].s]
	switch g {
	case " ", "\n", "\t":
		return true
	case " (", "(": // "+44 (0)20": a country code, then the trunk or area code
		return j == i+1 && st.text[st.words[i].s] == '+'
	case ") ", ")", ") (": // "(61) 834-902": the area code in parentheses
		return j == i+1 && st.words[i].s > 0 && st.text[st.words[i].s-1] == '('
	}
	return len(g) == 1 && byteClass[g[0]]&(cHard|cSoft|cSpace) == 0
}

func (st *scanState) classifyNumber(s, e, nwords int) (Type, float64) {
	span := st.text[s:e]
	d, ok := digitsOf(stripPhoneMarks(span))
	n := len(d)
	if !ok || n < 3 {
		return "", 0
	}
	ctx := st.hitsAt(s, 48)
	if n <= 9 && ctx.within(kPostal, 20) && !strings.ContainsAny(span, "+(") && postalShape(span) {
		return PostalCode, 0.85 // "ZIP: 6280", "code postal 75001"
	}
	if n < 5 {
		return "", 0 // too short for any identifier, phone or date
	}
	hasPlus := span[0] == '+'
	hasParen := strings.IndexByte(span, '(') >= 0
	dashed := strings.Count(span, "-")
	spaced := nwords > 1

	if numericDateShape(span) {
		st.consumed = true // a date (found by date()) is not a phone number either
		return "", 0
	}
	if hasDecimal(st.text[s:e]) || strings.Count(span, ".") == 3 && !spaced && n <= 14 {
		return "", 0 // measurements, not identifiers; an IPv4 address or a version is ip()'s
	}
	if n >= 13 && n <= 19 && !hasPlus && !hasParen && luhn(d) && ctx.within(kCard, 32) {
		return CreditCard, 0.95 // a card cue and a valid check digit, whatever the issuer range
	}
	if cardShaped(span) && !hasPlus && !hasParen {
		if luhn(d) && cardIssuer(d) {
			return CreditCard, 0.99
		}
		st.consumed = true // shaped like a card, and not one: nothing else either
		return "", 0
	}
	switch {
	case n >= 12 && n <= 19 && !hasPlus && !hasParen && luhn(d) && cardIssuer(d):
		return CreditCard, 0.99
	case n == 9 && (dashed == 2 || nwords == 3) && !hasPlus && isSSNShape(span):
		if validITIN(d) {
			return USITIN, 0.97
		}
		if validSSN(d) {
			return USSSN, 0.97
		}
		return "", 0
	case n == 9 && ctx.has(kITIN) && validITIN(d):
		return USITIN, 0.9
	case n == 9 && ctx.has(kSSN) && validSSN(d):
		return USSSN, 0.92
	case n == 9 && ctx.has(kRouting) && validABA(d):
		return USBankRouting, 0.95
	case n == 10 && ctx.has(kNPI) && validNPI(d):
		return USNPI, 0.97
	case n == 10 && ctx.has(kNHS) && validNHS(d):
		return UKNHS, 0.97
	case n == 11 && ctx.has(kTaxDE) && validSteuerID(d):
		return DETaxID, 0.95
	case n == 15 && !hasPlus && validNIR(d) && (spaced || ctx.has(kNIR)):
		return FRNIR, 0.95
	}
	if n == 10 && ctx.has(kNHS) || n == 9 && ctx.within(kSSN, 16) || n == 11 && ctx.within(kTaxDE, 16) {
		st.consumed = true // a failed checksum: not a phone or account either
		return "", 0
	}
	if (hasPlus || hasParen) && validPhone(span, hasPlus) {
		return Phone, 0.92
	}
	if n >= 6 && n <= 15 && (dashed > 0 || spaced || hasParen || hasPlus || strings.Contains(span, ".")) && (ctx.within(kPhone, 16) || st.phoneLabel(s, e)) {
		return Phone, 0.85 // labeled and shaped like a phone number, in a numbering plan Custos does not validate
	}
	if t, score := labeledNumber(ctx, d, hasPlus || spaced); t != "" {
		return t, score
	}
	return st.unlabeledNumber(ctx, span, d, nwords, hasPlus, dashed, spaced)
}

// labeledNumber: a number that the nearest label names (MRN, member ID,
// license, passport, account).
func labeledNumber(ctx hits, d string, spacedOrPlus bool) (Type, float64) {
	n := len(d)
	switch ctx.nearest(kMRN, kPlan, kLicense, kPassport, kPhone, kAccount) {
	case kMRN:
		if n >= 5 && n <= 12 {
			return MedicalRecord, 0.85
		}
	case kPlan:
		if n >= 6 && n <= 15 {
			return HealthPlanID, 0.85
		}
	case kLicense:
		if n >= 5 && n <= 15 {
			return USDriverLicense, 0.8
		}
	case kPassport:
		if n == 9 {
			return USPassport, 0.85
		}
	case kAccount:
		if n == 9 && ctx.has(kRouting) && validABA(d) {
			return USBankRouting, 0.9
		}
		if n >= 6 && n <= 17 && !spacedOrPlus {
			return BankAccount, 0.85
		}
	}
	return "", 0
}

// unlabeledNumber: phone numbers, spaced NHS numbers and US ZIP+4 codes
// without a label naming them, unless a reference word says what they are.
func (st *scanState) unlabeledNumber(ctx hits, span, d string, nwords int, hasPlus bool, dashed int, spaced bool) (Type, float64) {
	n := len(d)
	if near := ctx.narrow(32); near.nearest(kReference) >= 0 && !near.has(kPhone) {
		return "", 0 // an order, invoice or ticket number
	}
	if (dashed+strings.Count(span, ".") > 0 || spaced) && n >= 7 && n <= 15 || ctx.has(kPhone) && n >= 7 && n <= 15 {
		if validPhone(span, hasPlus) {
			return Phone, 0.9
		}
	}
	if n == 10 && spaced && nwords == 3 && validNHS(d) && !ctx.has(kPhone) {
		return UKNHS, 0.8
	}
	if (n == 5 || n == 9 && dashed == 1) && !spaced && ctx.within(kPostal, 24) {
		return PostalCode, 0.85
	}
	return "", 0
}

// stripPhoneMarks drops the ( ) + of phone formatting.
func stripPhoneMarks(s string) string {
	if !strings.ContainsAny(s, "()+") {
		return s
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if c := s[i]; c != '(' && c != ')' && c != '+' {
			b = append(b, c)
		}
	}
	return string(b)
}

func cardShaped(span string) bool {
	d, ok := digitsOf(span)
	if !ok || len(d) < 13 || len(d) > 19 {
		return false
	}
	groups, first := 0, -1
	forFields(span, " -.\n", func(f string) bool {
		if groups++; first < 0 {
			first = len(f)
		}
		return true
	})
	return groups >= 3 && first == 4
}

// hasDecimal reports a word such as 0.42 or 36.8 among the run.
func hasDecimal(span string) bool {
	found := false
	forFields(span, " /\n", func(w string) bool {
		if i := strings.IndexByte(w, '.'); i > 0 && i < len(w)-1 && i <= 3 && len(w)-i-1 <= 2 && strings.IndexByte(w[i+1:], '.') < 0 {
			found = true
		}
		return !found
	})
	return found
}

// forFields calls f with each non-empty field of s between bytes of seps,
// in order, until f returns false; it allocates nothing.
func forFields(s, seps string, f func(string) bool) {
	start := 0
	for i := 0; i <= len(s); i++ {
		if i < len(s) && strings.IndexByte(seps, s[i]) < 0 {
			continue
		}
		if i > start && !f(s[start:i]) {
			return
		}
		start = i + 1
	}
}

func isSSNShape(span string) bool {
	// ddd-dd-dddd or ddd dd dddd
	parts := strings.FieldsFunc(span, func(r rune) bool { return r == '-' || r == ' ' })
	return len(parts) == 3 && len(parts[0]) == 3 && len(parts[1]) == 2 && len(parts[2]) == 4
}

var phoneRegions = []string{"US", "GB", "DE", "FR", "ES"}

// plausibleIn is a cheap check of national number length and first digit
// before libphonenumber is asked.
func plausibleIn(region, d string) bool {
	n := len(d)
	if n == 0 {
		return false
	}
	switch region {
	case "US":
		return n == 10 && d[0] >= '2' || n == 11 && d[0] == '1' || n == 7
	case "GB":
		return (n == 10 || n == 11) && d[0] == '0' || n == 10 && d[0] != '0'
	case "DE":
		return n >= 6 && n <= 13
	case "FR":
		return n == 10 && d[0] == '0' || n == 9 && d[0] != '0'
	case "ES":
		return n == 9 && d[0] >= '6'
	}
	return true
}

func validPhone(span string, plus bool) bool {
	span = strings.Replace(span, "(0)", "", 1) // the trunk prefix written beside the country code: +44 (0)20 ...
	if strings.HasPrefix(span, "00") || strings.HasPrefix(span, "011") {
		span = "+" + strings.TrimPrefix(strings.TrimPrefix(span, "011"), "00")
		plus = true
	}
	if plus {
		num, err := phonenumbers.Parse(span, "ZZ")
		return err == nil && phonenumbers.IsValidNumber(num)
	}
	d, _ := digitsOf(stripPhoneMarks(span))
	for _, r := range phoneRegions {
		if !plausibleIn(r, d) {
			continue // parsing is costly: skip regions whose plan cannot hold these digits
		}
		num, err := phonenumbers.Parse(span, r)
		if err == nil && phonenumbers.IsValidNumberForRegion(num, r) {
			return true
		}
	}
	return false
}

// phoneLabel: a phone word right after the number ("... office",
// "... mobile"); one right before it is in the context hits.
func (st *scanState) phoneLabel(s, e int) bool {
	rest := lower(st.text[e:min(len(st.text), e+12)])
	rest = strings.TrimLeft(rest, " -,")
	for _, w := range []string{"office", "fax", "mobile", "cell", "home", "work", "tel", "phone", "(o)", "(m)", "(h)"} {
		if strings.HasPrefix(rest, w) {
			return true
		}
	}
	return false
}

// postalShape: digits with at most one space or dash inside (6280,
// 75534-030, 340 12).
func postalShape(span string) bool {
	seps := 0
	for i := 0; i < len(span); i++ {
		if !isDigit(span[i]) {
			seps++
		}
	}
	return seps <= 1
}

// ---- identifiers with letters ----

// iban: an IBAN at word i (u is the word upper-cased), possibly written in
// groups of four.
func (st *scanState) iban(i int, u string) bool {
	w := st.words[i]
	compact, end := u, i
	for k := i + 1; k < len(st.words) && k-i < 9; k++ {
		nw := st.words[k]
		part := st.text[nw.s:nw.e]
		if nw.s-st.words[k-1].e != 1 || len(part) > 4 || !upperDigits(strings.ToUpper(part)) {
			break
		}
		compact += strings.ToUpper(part)
		end = k
	}
	for e := end; e >= i; e-- {
		c := u
		for k := i + 1; k <= e; k++ {
			c += strings.ToUpper(st.text[st.words[k].s:st.words[k].e])
		}
		if validIBAN(c) {
			st.add(IBAN, w.s, st.words[e].e, 0.99)
			st.skipTo = e + 1
			return true
		}
	}
	if _, known := ibanLengths[u[:2]]; known && len(compact) >= 15 {
		// An IBAN with a wrong check: none of its parts is anything else.
		st.skipTo = end + 1
		return true
	}
	return false
}

// alnumID finds identifiers written with letters and digits at word i:
// checksummed ones, a spaced NINO, and numbers a label names.
func (st *scanState) alnumID(i int) bool {
	w := st.words[i]
	s := st.text[w.s:w.e]
	n := len(s)
	digit := w.flags&wDigit != 0
	// Every identifier below has a digit, except SWIFT codes (8 or 11
	// letters) and the first group of a spaced NINO ("AB 12 34 56 C").
	if !digit && n != 8 && n != 11 && n != 2 || n < 2 || n > 64 {
		return false
	}
	if !digit && !isUpper(s[0]) {
		return false
	}
	ctx := lazyHits{st: st, p: w.s}
	if st.checksumID(i, s, &ctx) {
		return true
	}
	if n == 2 && isUpper(s[0]) && isUpper(s[1]) && st.spacedNINO(i, s) {
		return true
	}
	if !digit || n < 5 || n > 20 || !idChars(s) {
		return false
	}
	return st.labeledID(w, n, &ctx)
}

// lazyHits matches the context window of a word once, when first asked.
type lazyHits struct {
	st   *scanState
	p    int
	h    hits
	done bool
}

func (l *lazyHits) get() hits {
	if !l.done {
		l.h, l.done = l.st.hitsAt(l.p, 48), true
	}
	return l.h
}

// upperASCII returns s upper-cased, without allocating when it holds no
// lower-case letter.
func upperASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if isLower(s[i]) {
			return strings.ToUpper(s)
		}
	}
	return s
}

// checksumID: IBAN, codice fiscale, DNI, NINO, DEA, wallets and SWIFT
// codes, which their check digits or shape prove.
func (st *scanState) checksumID(i int, s string, ctx *lazyHits) bool {
	w := st.words[i]
	n := len(s)
	if n >= 4 && isLetterASCII(s[0]) && isLetterASCII(s[1]) && isDigit(s[2]) && isDigit(s[3]) && st.iban(i, upperASCII(s)) {
		return true
	}
	var t Type
	score := 0.95
	switch {
	case n == 16 && validCodiceFiscale(upperASCII(s)):
		t, score = ITFiscalCode, 0.97
	case n == 9 && validDNI(upperASCII(s)):
		t = ESDNI
	case n == 10 && s[8] == '-' && validDNI(upperASCII(s[:8]+s[9:])):
		t = ESDNI
	case n == 9 && validNINO(upperASCII(s)):
		t = UKNINO
	case n == 9 && validDEA(upperASCII(s)) && ctx.get().has(kDEA):
		t = USDEA
	case (n == 34 || n == 33 || n >= 26 && n <= 35) && (s[0] == '1' || s[0] == '3') && validBase58Check(s):
		t, score = CryptoWallet, 0.99
	case n >= 14 && hasPrefixFold(s, "bc1") && validBech32(s):
		t, score = CryptoWallet, 0.99
	case n == 42 && strings.HasPrefix(s, "0x") && isHex(s[2:]):
		t = CryptoWallet
	case (n == 8 || n == 11) && isUpper(s[0]) && upperDigits(s) && validSwiftShape(s) && ctx.get().has(kSwift):
		t, score = SwiftBIC, 0.9
	default:
		return false
	}
	st.add(t, w.s, w.e, score)
	return true
}

func isLetterASCII(c byte) bool { return isUpper(c) || isLower(c) }

// spacedNINO: a UK NINO written in groups, "AB 12 34 56 C".
func (st *scanState) spacedNINO(i int, s string) bool {
	// The groups span 13 bytes: tested first, it spares joining the words
	// of every other pair of capitals ("ID", "US").
	if i+4 >= len(st.words) || st.words[i+4].e-st.words[i].s != 13 {
		return false
	}
	c := s
	for k := i + 1; k <= i+4; k++ {
		c += st.text[st.words[k].s:st.words[k].e]
	}
	if validNINO(c) {
		st.add(UKNINO, st.words[i].s, st.words[i+4].e, 0.95)
		return true
	}
	return false
}

// labeledID: an identifier that the nearest label names (MRN, member ID,
// passport, licence).
func (st *scanState) labeledID(w word, n int, ctx *lazyHits) bool {
	switch ctx.get().nearest(kMRN, kPlan, kPassport, kLicense) {
	case kMRN:
		st.add(MedicalRecord, w.s, w.e, 0.85)
	case kPlan:
		st.add(HealthPlanID, w.s, w.e, 0.85)
	case kPassport:
		if n != 9 && n != 8 {
			return false
		}
		st.add(USPassport, w.s, w.e, 0.85)
	case kLicense:
		st.add(USDriverLicense, w.s, w.e, 0.8)
	default:
		return false
	}
	return true
}

func idChars(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isAlnum(s[i]) && s[i] != '-' && s[i] != '/' {
			return false
		}
	}
	return true
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !isDigit(c) && !(c >= 'a' && c <= 'f') && !(c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

var countryCodes = "AD AE AF AG AI AL AM AO AR AT AU AZ BA BB BD BE BF BG BH BI BJ BM BN BO BR BS BT BW BY BZ CA CD CF CG CH CI CL CM CN CO CR CU CV CY CZ DE DJ DK DM DO DZ EC EE EG ES ET FI FJ FR GA GB GD GE GH GI GM GN GQ GR GT GW GY HK HN HR HT HU ID IE IL IN IQ IR IS IT JM JO JP KE KG KH KM KN KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MG MK ML MM MN MO MR MT MU MV MW MX MY MZ NA NE NG NI NL NO NP NZ OM PA PE PG PH PK PL PT PY QA RO RS RU RW SA SB SC SD SE SG SI SK SL SM SN SO SR SV SY SZ TD TG TH TJ TL TM TN TO TR TT TW TZ UA UG US UY UZ VA VC VE VN VU WS YE ZA ZM ZW"

func validSwiftShape(s string) bool {
	for i := 0; i < 6; i++ {
		if !isUpper(s[i]) {
			return false
		}
	}
	return strings.Contains(countryCodes, s[4:6])
}

// ---- addresses: see address.go ----

func ukPostcode(a, b string) bool {
	if len(a) < 2 || len(a) > 4 || len(b) != 3 || !isUpper(a[0]) || !isDigit(b[0]) || !isUpper(b[1]) || !isUpper(b[2]) {
		return false
	}
	return upperDigits(a) && strings.IndexAny(a, "0123456789") > 0
}

func particle(t string) bool {
	switch strings.ToLower(t) {
	case "de", "la", "le", "du", "des", "del", "di", "da", "van", "von", "der", "den", "y", "el", "los", "las", "l'", "d'", "of", "the",
		"dei", "degli", "delle", "della", "dello", "do", "das", "dos", "het", "ter", "ten", "zu", "zum", "zur", "am", "an", "auf", "e":
		return true
	}
	return false
}

func isCapWord(t string) bool {
	r, size := utf8.DecodeRuneInString(t)
	if size == 0 || !unicode.IsUpper(r) {
		return false
	}
	for _, r := range t[size:] {
		if !unicode.IsLetter(r) && r != '-' && r != '\'' && r != '.' {
			return false
		}
	}
	return true
}

// ---- names ----

// person finds personal names: a title or label followed by capitalized
// words, or capitalized words the lexicon knows as first and last names.
func (st *scanState) person(i int) int {
	words := st.words
	t := st.text[words[i].s:words[i].e]
	if c := t[0]; c < utf8.RuneSelf && !isUpper(c) || !isNameWord(t) {
		return i
	}
	lex := names()
	// Extend over up to three more capitalized words, initials and particles.
	end := i
	for k := i + 1; k < len(words) && k-i <= 3; k++ {
		gap := st.text[words[k-1].e:words[k].s]
		if words[k].s-words[k-1].e > 2 || strings.ContainsAny(gap, "\n,;:()[]/\"!?") ||
			strings.HasPrefix(gap, ".") && words[k-1].e-words[k-1].s > 2 {
			break
		}
		x := st.text[words[k].s:words[k].e]
		if isNameWord(x) || (particle(x) && k+1 < len(words) && isNameWord(st.text[words[k+1].s:words[k+1].e])) {
			end = k
			continue
		}
		break
	}
	if nameTitles.HasLower(strings.TrimRight(t, ".")) {
		// The title itself: the name starts after it.
		return i
	}
	// A title or label before the name.
	prev := ""
	if i > 0 {
		prev = strings.TrimRight(st.text[words[i-1].s:words[i-1].e], ".")
	}
	titled := nameTitles.HasLower(prev) && i > 0 && words[i].s-words[i-1].e <= 2
	labelled := st.labelBefore(words[i].s)
	firstBits := lex[st.bareWord(i)]
	lastBits := lex[st.bareWord(end)]
	known, unambiguous := st.lexCounts(lex, i, end, firstBits, lastBits)
	firstClear := firstBits&nameFirst != 0 && firstBits&nameAmbiguous == 0
	lastClear := lastBits&nameLast != 0 && lastBits&nameAmbiguous == 0
	switch {
	case titled || labelled:
		if end == i && firstBits == 0 && !titled {
			// A label alone needs some lexical support for a one-word name.
			if !strings.HasSuffix(strings.TrimSpace(st.before(words[i].s, 24)), ":") {
				return i
			}
		}
		st.add(Person, words[i].s, words[end].e, 0.9)
		return end + 1
	case end > i && firstBits&nameFirst != 0 && lastBits&(nameLast|nameFirst) != 0 && unambiguous >= 1:
		st.add(Person, words[i].s, words[end].e, 0.85)
		return end + 1
	case end > i && known == end-i+1 && unambiguous >= 1:
		st.add(Person, words[i].s, words[end].e, 0.8)
		return end + 1
	case end == i+1 && firstClear && !commonCapWord(st.bareWord(end)):
		// A known given name and a surname the lexicon lacks.
		st.add(Person, words[i].s, words[end].e, 0.75)
		return end + 1
	case end == i+1 && lastClear && firstBits&nameAmbiguous == 0 && !commonCapWord(st.bareWord(i)) && !sentenceStart(st.text, words[i].s):
		// A given name the lexicon lacks and a known surname.
		st.add(Person, words[i].s, words[end].e, 0.7)
		return end + 1
	}
	return i
}

// bareWord is word k without a possessive or trailing dots and quotes.
func (st *scanState) bareWord(k int) string {
	w := st.text[st.words[k].s:st.words[k].e]
	w = strings.TrimSuffix(strings.TrimSuffix(w, "'s"), "’s")
	return strings.TrimRight(w, ".'")
}

// lexCounts counts the words of [i, end] the lexicon knows as names, and
// those of them it knows as no other word; first and last are the bits of
// words i and end, already looked up.
func (st *scanState) lexCounts(lex map[string]uint8, i, end int, first, last uint8) (known, unambiguous int) {
	for k := i; k <= end; k++ {
		b := first
		if k == end {
			b = last
		} else if k > i {
			b = lex[st.bareWord(k)]
		}
		if b&(nameFirst|nameLast) != 0 {
			known++
			if b&nameAmbiguous == 0 {
				unambiguous++
			}
		}
	}
	return known, unambiguous
}

// isNameWord is a capitalized word with at least one lower-case letter
// (acronyms such as DOB or MRN are not names).
func isNameWord(t string) bool {
	if !isCapWord(t) {
		return false
	}
	for _, r := range t {
		if unicode.IsLower(r) {
			return true
		}
	}
	return utf8.RuneCountInString(t) == 1
}

// commonCapWord: capitalized words that follow or precede names but are not
// names themselves (sentence words, institutions, places).
func commonCapWord(w string) bool {
	switch strings.ToLower(w) {
	case "hospital", "clinic", "bank", "street", "road", "avenue", "university", "school", "center", "centre",
		"department", "team", "support", "service", "group", "inc", "ltd", "gmbh", "sa", "corp", "company",
		"the", "and", "or", "of", "for", "with", "from", "admitted", "discharged", "patient", "doctor", "nurse",
		"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "please", "thanks", "thank":
		return true
	}
	return false
}

// labelBefore: a name label ends in the 24 bytes before p.
func (st *scanState) labelBefore(p int) bool {
	var buf [64]byte
	return hasLabel(lowerWindow(&buf, st.text[max(0, p-24):p]))
}

func hasLabel(before string) bool {
	b := strings.TrimRight(before, " \t")
	if b == "" {
		return false
	}
	for _, l := range labelsByLast[b[len(b)-1]] {
		if strings.HasSuffix(b, l) {
			return true
		}
	}
	return false
}

// labelsByLast holds nameLabels by their last byte, the only ones a text
// ending in that byte can end with.
var labelsByLast = func() (t [256][]string) {
	for _, l := range nameLabels {
		t[l[len(l)-1]] = append(t[l[len(l)-1]], l)
	}
	return t
}()

// sentenceStart reports whether position p begins a sentence.
func sentenceStart(text string, p int) bool {
	for k := p - 1; k >= 0; k-- {
		c := text[k]
		if c == ' ' || c == '\t' {
			continue
		}
		return c == '.' || c == '!' || c == '?' || c == '\n'
	}
	return true
}
