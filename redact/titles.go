package redact

import (
	"sort"
	"strings"

	"github.com/custos-gateway/custos/redact/internal/ner"
)

// Titles said of a named person are reported as TITLE: the honorific right
// before a name ("Dr.", "Ms.", "Frau"), an occupation right before it
// ("Nurse", "Attorney"), the occupation set beside it ("Ana Ruiz, the
// practice manager, said"), and the job line under a name in a signature
// block. A title with no name beside it is not reported.

// occupations are head nouns of job titles.
var occupations = setOf(
	"accountant", "actor", "actuary", "adjuster", "administrator", "adviser", "advisor", "agent", "aide", "analyst",
	"apprentice", "architect", "archivist", "artist", "assistant", "associate", "attendant", "attorney", "auditor",
	"baker", "banker", "barber", "barista", "bartender", "biologist", "bookkeeper", "broker", "builder", "butcher",
	"buyer", "captain", "caregiver", "carpenter", "cashier", "chair", "chairman", "chairperson", "chairwoman", "chef",
	"chemist", "chiropractor", "cleaner", "clerk", "coach", "collector", "commissioner", "consultant", "contractor",
	"controller", "cook", "coordinator", "correspondent", "counsel", "counselor", "counsellor", "courier", "curator",
	"custodian", "dancer", "dean", "dentist", "deputy", "designer", "detective", "developer", "dietitian",
	"director", "dispatcher", "doctor", "driver", "economist", "editor", "educator", "electrician", "engineer",
	"entrepreneur", "estimator", "examiner", "executive", "farmer", "firefighter", "foreman", "founder", "gardener",
	"geologist", "guard", "hairdresser", "handler", "head", "historian", "housekeeper", "hygienist", "inspector",
	"installer", "instructor", "intern", "interpreter", "investigator", "janitor", "journalist", "judge", "laborer",
	"labourer", "lawyer", "lecturer", "librarian", "lieutenant", "machinist", "manager", "marshal", "mason",
	"mechanic", "mediator", "midwife", "minister", "musician", "nanny", "negotiator", "notary", "nurse", "nutritionist",
	"officer", "operator", "optician", "optometrist", "organizer", "owner", "painter", "paralegal", "paramedic",
	"partner", "pastor", "pathologist", "pharmacist", "photographer", "physician", "physicist", "pilot", "planner",
	"plumber", "porter", "president", "principal", "producer", "professor", "programmer", "psychiatrist",
	"psychologist", "publisher", "rabbi", "radiologist", "receptionist", "recruiter", "referee", "registrar",
	"repairer", "reporter", "representative", "researcher", "sailor", "salesman", "saleswoman", "salesperson",
	"scientist", "secretary", "senator", "sergeant", "server", "sheriff", "singer", "soldier", "specialist",
	"statistician", "steward", "stewardess", "strategist", "student", "stylist", "superintendent", "supervisor",
	"surgeon", "surveyor", "tailor", "teacher", "technician", "technologist", "teller", "therapist", "trader",
	"trainer", "translator", "treasurer", "tutor", "underwriter", "veterinarian", "vicar", "volunteer", "waiter",
	"waitress", "warden", "welder", "worker", "writer",
	"ceo", "cfo", "cto", "coo", "cio", "vp",
	"arzt", "ärztin", "krankenschwester", "pfleger", "anwalt", "anwältin", "lehrer", "lehrerin", "ingenieur", "ingenieurin",
	"médecin", "infirmier", "infirmière", "avocat", "avocate", "ingénieur", "professeur", "directeur", "directrice",
	"médico", "médica", "enfermero", "enfermera", "abogado", "abogada", "ingeniero", "ingeniera", "profesor", "profesora",
)

// occupationWord: a head noun of a job title, from the list or by the
// endings of professions (-ologist, -grapher, -ician, -iatrist, -ist).
func occupationWord(w string) bool {
	lw := lower(strings.TrimRight(w, ".,"))
	if occupations.Has(lw) || occupations.Has(strings.TrimSuffix(lw, "s")) {
		return true
	}
	for _, suf := range []string{"ologist", "grapher", "ician", "iatrist", "ographer"} {
		if len(lw) > len(suf)+2 && strings.HasSuffix(lw, suf) {
			return true
		}
	}
	return len(lw) > 6 && strings.HasSuffix(lw, "ist") && !strings.HasSuffix(lw, "sist") && !strings.HasSuffix(lw, "xist")
}

// notHonorific: words of the title lists that are no honorific before a
// name here ("call me Ana", "I am Ana", "patient Ana").
var notHonorific = setOf("me", "am", "an", "a", "patient", "patientin", "paciente", "pt", "m", "don")

// titleModifiers may stand before an occupation in a title.
var titleModifiers = setOf("senior", "junior", "chief", "head", "lead", "assistant", "associate", "deputy", "principal",
	"staff", "charge", "registered", "executive", "general", "vice", "managing", "attending", "consultant", "district")

// titles adds the TITLE findings beside the PERSON findings of fs (which
// is resolved and ordered) and returns fs ordered again.
func (st *scanState) titles(fs []Finding) []Finding {
	var add []Finding
	claimed := func(s, e int) bool {
		k := sort.Search(len(fs), func(k int) bool { return fs[k].End > s })
		return k < len(fs) && fs[k].Start < e
	}
	for i := range fs {
		if fs[i].Type != Person {
			continue
		}
		k := sort.Search(len(st.words), func(k int) bool { return st.words[k].s >= fs[i].Start })
		if k >= len(st.words) || st.words[k].s != fs[i].Start {
			continue
		}
		before := Finding{}
		if t := st.honorific(k); t.End > t.Start && k+1 < len(st.words) && st.words[k+1].e <= fs[i].End && st.nameAfterTitle(k+1, fs[i].End) {
			// The tagger took the title into the name: "Ms. Okafor".
			before = t
			fs[i].Start = st.words[k+1].s
		} else {
			before = st.titleBefore(k)
		}
		f := fs[i]
		for _, t := range []Finding{before, st.titleAfter(f), st.jobLine(f)} {
			if t.End > t.Start && !claimed(t.Start, t.End) {
				add = append(add, t)
			}
		}
	}
	if len(add) == 0 {
		return fs
	}
	fs = append(fs, add...)
	sort.Slice(fs, func(i, j int) bool { return fs[i].Start < fs[j].Start })
	return fs
}

// titleBefore: an honorific or an occupation right before the name at word
// k ("Dr. Ruiz", "Frau Keller", "Senior Nurse Okafor").
func (st *scanState) titleBefore(k int) Finding {
	if g := st.gap(k); k == 0 || g != " " && g != ". " {
		return Finding{}
	}
	p := st.word(k - 1)
	if t := st.honorific(k - 1); t.End > t.Start {
		return t
	}
	switch {
	case occupationWord(p) && upperInitial(p):
		s := k - 1
		for s > 0 && st.plain(s) && titleModifiers.HasLower(st.word(s-1)) {
			s--
		}
		return Finding{Type: Title, Start: st.words[s].s, End: st.words[k-1].e, Score: 0.75}
	}
	return Finding{}
}

// nameAfterTitle: the words from k to end hold a word no dictionary lists,
// as names are ("Princess Royal" is a title alone; a name that is also an
// ordinary word, "Ms. Rose", stays whole).
func (st *scanState) nameAfterTitle(k, end int) bool {
	for ; k < len(st.words) && st.words[k].e <= end; k++ {
		if st.gaz(k).Flags&ner.Ordinary == 0 {
			return true
		}
	}
	return false
}

// honorific: word k is a personal title ("Dr.", "Ms", "Frau"), as a
// TITLE finding with its dot.
func (st *scanState) honorific(k int) Finding {
	p := st.word(k)
	bare := lower(strings.TrimRight(p, "."))
	end := st.words[k].e
	if end < len(st.text) && st.text[end] == '.' {
		end++
	}
	if (nameTitles.Has(bare) || gazTable.IsTitle(bare)) && !notHonorific.Has(bare) && (upperInitial(p) || end > st.words[k].e) {
		return Finding{Type: Title, Start: st.words[k].s, End: end, Score: 0.8}
	}
	return Finding{}
}

// titleAfter: an occupation set beside the name by commas ("Ana Ruiz, the
// practice manager, said", "Ana Ruiz, head of sales, at").
func (st *scanState) titleAfter(f Finding) Finding {
	rest := st.text[f.End:min(len(st.text), f.End+64)]
	skip := 0
	for _, p := range []string{", the ", ", our ", ", a ", ", an ", ", "} {
		if strings.HasPrefix(rest, p) {
			skip = len(p)
			break
		}
	}
	if skip == 0 {
		return Finding{}
	}
	s := f.End + skip
	e := s
	last := ""
	for n := 0; n < 5 && e < len(st.text); n++ {
		w := e
		for w < len(st.text) && (isLower(st.text[w]) || isUpper(st.text[w]) || st.text[w] == '-') {
			w++
		}
		if w == e {
			break
		}
		last = st.text[e:w]
		if w >= len(st.text) || st.text[w] != ' ' || occupationWord(last) {
			e = w
			break
		}
		e = w + 1
	}
	if !occupationWord(last) || e >= len(st.text) || strings.IndexByte(",.;", st.text[e]) < 0 {
		return Finding{}
	}
	return Finding{Type: Title, Start: s, End: e, Score: 0.75}
}

// jobLine: in a signature block, the line right under a line that holds
// only the name, when it reads as a job title ("Ana Ruiz\nPractice
// manager\nAcme Health").
func (st *scanState) jobLine(f Finding) Finding {
	// Only the line's margin before the name and its end after it are
	// read: a line that holds more is no signature line.
	ls := f.Start
	for ls > 0 && ls > f.Start-8 && strings.IndexByte(" \t>-*", st.text[ls-1]) >= 0 {
		ls--
	}
	if ls > 0 && st.text[ls-1] != '\n' {
		return Finding{}
	}
	le := f.End
	for le < len(st.text) && le < f.End+8 && (st.text[le] == ' ' || st.text[le] == '\t' || st.text[le] == '\r') {
		le++
	}
	if le >= len(st.text) || st.text[le] != '\n' {
		return Finding{}
	}
	s := le + 1
	for s < len(st.text) && s < le+16 && (st.text[s] == '\n' || st.text[s] == ' ' || st.text[s] == '>' || st.text[s] == '\t') {
		s++
	}
	e := s
	for e < len(st.text) && e < s+64 && st.text[e] != '\n' {
		e++
	}
	if e == s+64 {
		return Finding{} // longer than a job title
	}
	line := strings.TrimRight(st.text[s:e], " \t\r")
	ws := strings.Fields(line)
	if len(ws) == 0 || len(ws) > 7 || len(line) > 60 || !occupationWord(ws[len(ws)-1]) {
		return Finding{}
	}
	for i := 0; i < len(line); i++ {
		if c := line[i]; isDigit(c) || strings.IndexByte(":@/()|#", c) >= 0 {
			return Finding{}
		}
	}
	return Finding{Type: Title, Start: s, End: s + len(line), Score: 0.7}
}
