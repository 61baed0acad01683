package redact

import (
	"strings"
)

// HL7 v2 messages are read by their structure: a segment (PID|..., NK1|...)
// is a line that starts with a segment id and the field separator, and
// what a field holds follows from its position: PID-3 is the patient's
// identifier list, PID-5 the name, PID-7 the date of birth, PID-11 the
// address, PID-13 the home phone. Fields are split at the encoding
// characters of MSH-2 (^~\& unless the message says otherwise) into
// repetitions, components and subcomponents, and each component that holds
// personal data is reported as its own finding, so a redacted message keeps
// its separators. An identifier (CX) is typed by its identifier type code,
// which comes after the value (ID^check digit^scheme^assigning
// authority^type: MR, SS, NPI, DL, PPN...). The fields the reader knows are
// its own: what the other detectors find there is dropped (a LOINC code is
// no address, a ZIP code no phone number); fields it does not know, free
// text (OBX-5 of type ST, TX or FT, NTE-3) and unknown segments are left to
// them.

// hl7Kind says what one field holds.
type hl7Kind uint8

const (
	hGen    hl7Kind = iota // free text or unknown: for the other detectors
	hCode                  // codes, set ids, flags, quantities, order numbers: nothing personal
	hCX                    // identifiers of a patient (CX), typed by CX.5; a medical record number by default
	hPlan                  // identifiers of an insured (CX), typed by CX.5; a health plan id by default
	hSSN                   // a social security number
	hDLN                   // a driver's licence (DLN: number^state^expiry)
	hPlanID                // a policy or group number
	hXPN                   // a person's name: family^given^middle^suffix^prefix
	hXCN                   // a provider: id^family^given^middle^...^id type (13)
	hXAD                   // an address: street^other^city^state^zip^country^type^other geographic^county
	hXTN                   // a phone: number^use^equipment^e-mail^country^area^local^extension
	hXON                   // an organization's name
	hHD                    // a facility: an organization when written as a name
	hDOB                   // a date of birth
	hDateP                 // a date of the patient's care (admission, observation, death)
	hDate                  // a date of the message
	hNRP                   // race, ethnic group, religion, citizenship, nationality
	hLoc                   // a place (county, birth place)
	hOBX5                  // an observation value, by the value type in OBX-2
)

var hl7KindNames = map[string]hl7Kind{
	"g": hGen, "c": hCode, "cx": hCX, "pl": hPlan, "ssn": hSSN, "dl": hDLN, "pid": hPlanID, "xpn": hXPN,
	"xcn": hXCN, "xad": hXAD, "xtn": hXTN, "xon": hXON, "hd": hHD, "dob": hDOB, "dp": hDateP, "d": hDate,
	"nrp": hNRP, "loc": hLoc, "obx5": hOBX5,
}

// hl7Layouts gives, per segment, the kind of each field from field 1 on
// (HL7 v2.5 to v2.8 positions; for MSH, field 1 is the separator itself).
// Fields past the end of a layout are free text.
var hl7Layouts = func() map[string][]hl7Kind {
	src := map[string]string{
		"MSH": "c,c,c,hd,c,hd,d,c,c,c,c,c,c,c,c,c,c,c,c,c,c",
		"EVN": "c,dp,dp,c,xcn,dp,hd",
		"PID": "c,cx,cx,cx,xpn,xpn,dob,c,xpn,nrp,xad,loc,xtn,xtn,c,c,nrp,cx,ssn,dl,cx,nrp,loc,c,c,nrp,c,nrp,dp,c,c,c,d,hd,c,c,c,c,nrp,xtn",
		"PD1": "c,c,xon,xcn,c,c,c,c,c,c,c,c,dp",
		"NK1": "c,xpn,c,xad,xtn,xtn,c,dp,dp,g,c,cx,xon,c,c,dob,c,c,nrp,c,c,c,c,c,nrp,xpn,nrp,nrp,c,xpn,xtn,xad,cx,c,nrp,c,ssn,g,c,xtn,xtn",
		"PV1": "c,c,c,c,cx,c,xcn,xcn,xcn,c,c,c,c,c,c,c,xcn,c,cx,c,c,c,c,c,dp,c,c,c,c,dp,c,c,c,c,dp,c,c,c,c,c,c,c,c,dp,dp,c,c,c,c,cx,c,xcn",
		"PV2": "c,c,g,c,c,c,c,dp,dp,c,c,g,c,c,c,c,dp",
		"ORC": "c,c,c,c,c,c,c,c,dp,xcn,xcn,xcn,c,xtn,dp,g,c,c,xcn,c,xon,xad,xtn,xad",
		"OBR": "c,c,c,c,c,dp,dp,dp,c,xcn,c,c,g,dp,c,xcn,xtn,c,c,c,c,dp,c,c,c,c,c,xcn,c,c,g,g,g,g,g,dp",
		"OBX": "c,c,c,c,obx5,c,c,c,c,c,c,dp,g,dp,c,xcn,c,c,dp,c,c,c,xon,xad,xcn",
		"NTE": "c,c,g,c",
		"AL1": "c,c,c,c,g,dp",
		"DG1": "c,c,c,g,dp,c,c,c,c,c,c,c,c,c,c,xcn,c,c,dp",
		"PR1": "c,c,c,g,dp,c,c,xcn,c,c,xcn,xcn",
		"IN1": "c,c,c,xon,xad,xpn,xtn,pid,xon,pl,xon,dp,dp,c,c,xpn,c,dob,xad,c,c,c,c,c,c,dp,c,c,dp,xcn,c,c,c,c,c,pid,c,c,c,c,c,c,c,xad,c,c,c,c,pl",
		"GT1": "c,cx,xpn,xpn,xad,xtn,xtn,dob,c,c,c,ssn,dp,dp,c,xpn,xad,xtn,cx,c,xon",
		"MRG": "cx,cx,cx,cx,cx,cx,xpn",
		"ROL": "c,c,c,xcn,dp,dp,c,c,c,c,xad,xtn",
		"RXA": "c,c,dp,dp,c,c,c,c,g,xcn",
	}
	out := make(map[string][]hl7Kind, len(src))
	for seg, layout := range src {
		ks := []hl7Kind{hGen}
		for _, k := range strings.Split(layout, ",") {
			kind, ok := hl7KindNames[k]
			if !ok {
				panic("redact: hl7 layout " + seg + ": unknown kind " + k)
			}
			ks = append(ks, kind)
		}
		out[seg] = ks
	}
	return out
}()

// hl7Enc holds a message's encoding characters.
type hl7Enc struct{ comp, rep, esc, sub byte }

var hl7Default = hl7Enc{'^', '~', '\\', '&'}

// scanHL7 reads the HL7 segments of the text. It adds their findings first
// in st.out (st.hl7n of them) and marks the fields it read in st.quiet.
func (st *scanState) scanHL7() {
	text := st.text
	if strings.IndexByte(text, '|') < 0 {
		return
	}
	enc := hl7Default
	for p := 0; p < len(text); {
		s := nextSegment(text, p)
		if s < 0 {
			break
		}
		e := segmentEnd(text, s+4)
		if text[s:s+3] == "MSH" {
			enc = mshEncoding(text[s+4 : e])
		}
		st.hl7Segment(text[s:s+3], s+4, e, enc)
		p = e
	}
	st.hl7n = len(st.out)
}

// nextSegment returns where the next segment at or after p starts, or -1:
// a known segment id and '|' at the start of a line, after a label or a
// space, or after a literal "\r" or "\n".
func nextSegment(text string, p int) int {
	for {
		k := strings.IndexByte(text[p:], '|')
		if k < 0 {
			return -1
		}
		q := p + k
		if s := q - 3; s >= 0 && isUpper(text[s]) && hl7Layouts[text[s:q]] != nil && segmentBoundary(text, s) {
			return s
		}
		p = q + 1
	}
}

// segmentBoundary: position s may begin a segment.
func segmentBoundary(text string, s int) bool {
	if s == 0 {
		return true
	}
	c := text[s-1]
	if s >= 2 && text[s-2] == '\\' && (c == 'r' || c == 'n') {
		return true
	}
	return !isAlnum(c) && c < 0x80 && strings.IndexByte("|^~&\\", c) < 0
}

// segmentEnd returns where the segment whose fields begin at from ends: at
// a line break, a literal "\r" or "\n", or the next segment after a space.
func segmentEnd(text string, from int) int {
	for k := from; k < len(text); k++ {
		switch text[k] {
		case '\r', '\n':
			return k
		case '\\':
			if k+1 < len(text) && (text[k+1] == 'r' || text[k+1] == 'n') && segmentAt(text, k+2) {
				return k
			}
		case ' ':
			if segmentAt(text, k+1) {
				return k
			}
		}
	}
	return len(text)
}

func segmentAt(text string, k int) bool {
	return k+3 < len(text) && text[k+3] == '|' && hl7Layouts[text[k:k+3]] != nil
}

// mshEncoding reads MSH-2 from the fields of an MSH segment.
func mshEncoding(fields string) hl7Enc {
	e := fields
	if k := strings.IndexByte(e, '|'); k >= 0 {
		e = e[:k]
	}
	if len(e) < 4 || len(e) > 5 {
		return hl7Default
	}
	for i := 0; i < 4; i++ {
		if isAlnum(e[i]) || e[i] == ' ' || e[i] == '|' || strings.IndexByte(e[:i], e[i]) >= 0 {
			return hl7Default
		}
	}
	return hl7Enc{e[0], e[1], e[2], e[3]}
}

// hl7Segment reads the fields of one segment, [s, e) after "XYZ|".
func (st *scanState) hl7Segment(id string, s, e int, enc hl7Enc) {
	layout := hl7Layouts[id]
	n := 1
	if id == "MSH" {
		n = 2 // MSH-1 is the separator just read
	}
	valueType := ""
	for fs := s; fs <= e; n++ {
		fe := fs + strings.IndexByte(st.text[fs:e], '|')
		if fe < fs {
			fe = e
		}
		kind := hGen
		if n < len(layout) {
			kind = layout[n]
		}
		if id == "OBX" && n == 2 {
			valueType = strings.TrimSpace(st.text[fs:fe])
		}
		if kind == hOBX5 {
			kind = obxValueKind(valueType)
		}
		if kind != hGen && fe > fs {
			st.markQuiet(fs, fe)
			st.hl7Field(kind, fs, fe, enc)
		}
		fs = fe + 1
	}
}

// obxValueKind: what an observation value of a value type holds.
func obxValueKind(vt string) hl7Kind {
	switch vt {
	case "ST", "TX", "FT", "ED", "RP", "":
		return hGen
	case "DT", "DTM", "TS":
		return hDateP
	case "XPN":
		return hXPN
	case "XAD":
		return hXAD
	case "XTN":
		return hXTN
	case "XCN":
		return hXCN
	case "XON":
		return hXON
	case "CX":
		return hCX
	}
	return hCode // NM, SN, CE, CWE, CNE, ID, IS, TM, CQ, NA, MO...
}

func (st *scanState) markQuiet(s, e int) {
	if st.quiet == nil {
		st.quiet = make(bitset, len(st.text)/64+1)
	}
	for p := s; p < e; p++ {
		st.quiet[p/64] |= 1 << (p % 64)
	}
}

// hl7Field reads each repetition of a field.
func (st *scanState) hl7Field(kind hl7Kind, s, e int, enc hl7Enc) {
	if kind == hCode {
		return
	}
	for rs := s; rs <= e; {
		re := rs + strings.IndexByte(st.text[rs:e], enc.rep)
		if re < rs {
			re = e
		}
		st.hl7Value(kind, rs, re, enc)
		rs = re + 1
	}
}

// hl7Comps holds the spans of a value's components, from component 1 on.
type hl7Comps struct {
	s, e [16]int
	n    int
}

func splitComps(text string, s, e int, sep byte) hl7Comps {
	var c hl7Comps
	for cs := s; cs <= e && c.n < len(c.s); c.n++ {
		ce := cs + strings.IndexByte(text[cs:e], sep)
		if ce < cs {
			ce = e
		}
		c.s[c.n], c.e[c.n] = cs, ce
		cs = ce + 1
	}
	return c
}

// get returns the span of component k (1-based); empty when absent.
func (c *hl7Comps) get(k int) (int, int) {
	if k < 1 || k > c.n {
		return 0, 0
	}
	return c.s[k-1], c.e[k-1]
}

// hl7Value reads one repetition of a field by its kind.
func (st *scanState) hl7Value(kind hl7Kind, s, e int, enc hl7Enc) {
	c := splitComps(st.text, s, e, enc.comp)
	emit := func(t Type, k int, personal bool) {
		a, b := c.get(k)
		st.hl7Emit(t, a, b, enc, personal, hl7Score(t, true))
	}
	switch kind {
	case hCX, hPlan:
		def := MedicalRecord
		if kind == hPlan {
			def = HealthPlanID
		}
		t, typed := st.cxType(&c, 5, def)
		a, b := c.get(1)
		st.hl7Emit(t, a, b, enc, false, hl7Score(t, typed))
	case hSSN:
		emit(USSSN, 1, false)
	case hDLN:
		emit(USDriverLicense, 1, false)
	case hPlanID:
		emit(HealthPlanID, 1, false)
	case hXPN:
		emit(Person, 1, false)
		emit(Person, 2, false)
		emit(Person, 3, false)
	case hXCN:
		emit(st.providerIDType(&c), 1, false)
		emit(Person, 2, false)
		emit(Person, 3, false)
		emit(Person, 4, false)
	case hXAD:
		st.hl7Address(&c, enc)
	case hXTN:
		st.hl7Phone(&c, enc)
	case hXON:
		emit(Organization, 1, false)
	case hHD:
		if a, b := c.get(1); strings.ContainsAny(st.text[a:b], " abcdefghijklmnopqrstuvwxyz") {
			emit(Organization, 1, false)
		}
	case hDOB:
		emit(DateOfBirth, 1, true)
	case hDateP, hDate:
		if a, b := c.get(1); hl7Timestamp(st.text[a:b]) {
			emit(Date, 1, kind == hDateP)
		}
	case hNRP:
		emit(NRP, 1, false)
		emit(NRP, 2, false)
	case hLoc:
		emit(Location, 1, false)
	}
}

func (st *scanState) hl7Address(c *hl7Comps, enc hl7Enc) {
	for k, t := range []Type{Address, Address, Location, Location, PostalCode, Location, "", Location, Location} {
		if t != "" {
			a, b := c.get(k + 1)
			st.hl7Emit(t, a, b, enc, false, hl7Score(t, true))
		}
	}
}

// hl7Phone: the number written whole (component 1, or 12 unformatted), the
// e-mail address (4), or area code, number and extension (6 to 8); a
// country code alone (5) identifies no one.
func (st *scanState) hl7Phone(c *hl7Comps, enc hl7Enc) {
	for _, k := range []int{1, 6, 7, 8, 12} {
		a, b := c.get(k)
		if d, _ := digitsOf(stripPhoneMarks(strings.TrimSpace(st.text[a:b]))); len(d) > 0 || k == 1 && b > a {
			st.hl7Emit(Phone, a, b, enc, false, hl7Score(Phone, true))
		}
	}
	if a, b := c.get(4); strings.IndexByte(st.text[a:b], '@') > 0 {
		st.hl7Emit(Email, a, b, enc, false, hl7Score(Email, true))
	}
}

// hl7Timestamp: a date of at least a year and a month (YYYYMM...), or any
// date written otherwise; a year alone is not an identifying date.
func hl7Timestamp(v string) bool {
	v = strings.TrimSpace(v)
	n := 0
	for n < len(v) && isDigit(v[n]) {
		n++
	}
	return n >= 6 || n < len(v) && n > 0
}

// hl7Score: an identifier, a date or a contact typed by its field or its
// type code is sure; a name, a place or an identifier typed by default
// yields to a value that shows what it is (a phone number with its
// parentheses in a county field, a card number in an identifier list
// without a type code).
func hl7Score(t Type, typed bool) float64 {
	switch t {
	case Person, Location, Organization, NRP, Address, PostalCode:
		return 0.85
	}
	if !typed {
		return 0.85
	}
	return 0.98
}

// hl7Emit adds a finding for each subcomponent of [s, e) that holds a
// letter or a digit; HL7's null ("") and escapes alone are nothing.
func (st *scanState) hl7Emit(t Type, s, e int, enc hl7Enc, personal bool, score float64) {
	if t == "" || e <= s {
		return
	}
	if st.sc.opts.NoNames {
		switch t {
		case Person, Address, Location, Organization, NRP:
			return
		}
	}
	for ps := s; ps <= e; {
		pe := ps + strings.IndexByte(st.text[ps:e], enc.sub)
		if pe < ps {
			pe = e
		}
		a, b := ps, pe
		for a < b && st.text[a] == ' ' {
			a++
		}
		for b > a && st.text[b-1] == ' ' {
			b--
		}
		if v := st.text[a:b]; v != `""` && hasAlnum(v) {
			st.out = append(st.out, Finding{Type: t, Start: a, End: b, Score: score, Personal: personal})
		}
		ps = pe + 1
	}
}

func hasAlnum(s string) bool {
	for i := 0; i < len(s); i++ {
		if isAlnum(s[i]) || s[i] >= 0x80 {
			return true
		}
	}
	return false
}

// cxType types an identifier by its identifier type code (component k),
// and says whether the code named a type.
func (st *scanState) cxType(c *hl7Comps, k int, def Type) (Type, bool) {
	a, b := c.get(k)
	code := strings.ToUpper(strings.Trim(st.text[a:b], " :#.-"))
	switch code {
	case "":
		return def, false
	case "MR", "MRN", "MRT", "PI", "PT", "PN", "PRN", "AN", "ANON", "VN", "EPI", "FI":
		return MedicalRecord, true
	case "SS", "SSN":
		return USSSN, true
	case "DL", "DLN":
		return USDriverLicense, true
	case "PPN":
		return USPassport, true
	case "NPI":
		return USNPI, true
	case "DEA", "DN":
		return USDEA, true
	case "MB", "MA", "MC", "MCD", "MCR", "SN", "HC", "JHN", "NH", "NHS", "NI":
		if d, ok := digitsOf(st.text[c.s[0]:c.e[0]]); ok && validNHS(d) && (code == "NH" || code == "NHS") {
			return UKNHS, true
		}
		return HealthPlanID, true
	case "BA":
		return BankAccount, true
	case "BC":
		return CreditCard, true
	}
	t := st.cxTypeByWords(a, b, "")
	if t == "" {
		return def, false
	}
	return t, true
}

// cxTypeByWords types an identifier by a type written in words ("Medical
// record", "date of birth", "SSN:"), with the label lists of the text
// detectors.
func (st *scanState) cxTypeByWords(a, b int, def Type) Type {
	h := st.hitsAt(b, b-a)
	switch {
	case h.has(kSSN):
		return USSSN
	case h.has(kNPI):
		return USNPI
	case h.has(kNHS):
		return UKNHS
	case h.has(kDEA):
		return USDEA
	case h.has(kDOB):
		return DateOfBirth
	case h.has(kPassport):
		return USPassport
	case h.has(kLicense):
		return USDriverLicense
	case h.has(kPlan):
		return HealthPlanID
	case h.has(kAccount):
		return BankAccount
	}
	return def
}

// providerIDType types a provider's id (XCN.1) by XCN.13, or as an NPI when
// it is one; other local provider numbers are not personal data of the
// patient.
func (st *scanState) providerIDType(c *hl7Comps) Type {
	if a, b := c.get(13); b > a {
		t, _ := st.cxType(c, 13, "")
		return t
	}
	a, b := c.get(1)
	if d, ok := digitsOf(strings.TrimSpace(st.text[a:b])); ok && len(d) == 10 && validNPI(d) {
		return USNPI
	}
	return ""
}

// dropQuiet removes what the other detectors found inside the HL7 fields
// the structure reader typed itself, except values that show what they are
// whatever field holds them (a message with its fields out of place must
// not let them through under a weaker type).
func (st *scanState) dropQuiet() {
	if st.quiet == nil {
		return
	}
	out := st.out[:st.hl7n]
	for _, f := range st.out[st.hl7n:] {
		if !st.quiet.any(f.Start, f.End) || selfEvident(st.text[f.Start:f.End], f.Type) {
			out = append(out, f)
		}
	}
	st.out = out
}

// selfEvident: a finding whose value alone says what it is: checksums,
// e-mail and IP addresses, credentials, a phone number written with its
// country code or parentheses.
func selfEvident(v string, t Type) bool {
	switch t {
	case Email, CreditCard, IBAN, IPAddress, Secret, CryptoWallet, URL, USSSN, ESDNI, ITFiscalCode, UKNINO, FRNIR:
		return true
	case Phone:
		return strings.ContainsAny(v, "+(")
	}
	return false
}
