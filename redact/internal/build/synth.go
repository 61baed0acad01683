package main

import (
	"math/rand/v2"
	"regexp"
	"slices"
	"sort"
	"strings"
	"unicode"

	"github.com/custos-gateway/custos/redact/internal/ner"
)

// Sentences written for training: clinical notes, banking and support
// chats, forms, signatures, lists and transcripts. Slots: {P} a person's
// name in some form, {G} a given name, {S} a surname, {C} a city, {K} a
// country, {R} a region, {O} an organization. Nothing here is taken from
// any evaluation set.
var templates = []string{
	"Patient {P} was admitted with shortness of breath and started on oxygen.",
	"{P} is a 58 year old man with a history of hypertension and type 2 diabetes.",
	"Seen today with her daughter {G}, who reports the cough has improved.",
	"Dr. {S} reviewed the chest film and recommends follow-up in six weeks.",
	"Referred by Dr {S} at {O} for evaluation of chest pain.",
	"Discussed the plan with the patient's wife, {P}, by phone.",
	"The patient lives alone in {C} and walks with a cane.",
	"Transferred from {O} in {C}, {R} after a fall at home.",
	"Nurse {G} documented a blood pressure of 150/90 at 08:00.",
	"Consent was obtained from {P}, the healthcare proxy.",
	"{S}, {G} - DOB on file - allergic to penicillin.",
	"Attending: {P}; resident: {P}.",
	"Please schedule {P} for an MRI of the lumbar spine next week.",
	"My son {G} has had a fever since yesterday, should I bring him in?",
	"I would like to add my kid {G} to the account.",
	"Hi, this is {G} calling about my mother's prescription.",
	"Hello, my name is {P} and I need to reset my online banking password.",
	"I am {P}, account holder, and I want to dispute a charge.",
	"Please transfer the funds to {P} at {O}.",
	"The wire to {O} in {K} was rejected by the beneficiary bank.",
	"{P} from {O} asked for the quarterly statement.",
	"Our branch in {C} will be closed on Monday.",
	"We opened a new office in {C}, {K} last year.",
	"Can you tell {G} that the card has been blocked?",
	"Thanks {G}, I will wait for your call.",
	"Best regards,\n{P}\n{O}",
	"Kind regards,\n{P}",
	"Cheers,\n{G}",
	"Sincerely,\n{P}\nAccount Manager, {O}",
	"From: {P}\nTo: {P}\nSubject: meeting notes",
	"Name: {P}\nCity: {C}\nCountry: {K}",
	"Customer: {P}\nIssue: card not working abroad",
	"User: I spoke with {P} yesterday about the refund.",
	"{G}: Did you send the documents?\n{G}: Yes, this morning.",
	"{G}: I can't log in.\nAgent: Let me check that for you, {G}.",
	"Invited: {G}, {G}, {G} and {G}.",
	"The children are {G}, {G} and {G}.",
	"Team members: {P}, {P}, {P}.",
	"She moved from {C} to {C} in the spring.",
	"He was born in {C}, {K} and studied in {C}.",
	"The conference takes place in {C} this year.",
	"{O} announced a partnership with {O} on Tuesday.",
	"{P}, chief executive of {O}, said revenue grew.",
	"Shares of {O} fell after the report.",
	"{O} has offices in {C} and {C}.",
	"I work for {O} as a data analyst.",
	"The claim was sent to {O} for review.",
	"Contact {P} at the {C} office for details.",
	"{P} and {P} will join the call.",
	"Ask {S} whether the report is ready.",
	"Mr. {S} and Mrs. {S} arrived late.",
	"Ms {S} requested a copy of her records.",
	"Prof. {P} gave the lecture.",
	"Herr {S} hat angerufen und bittet um Rückruf.",
	"Frau {P} wohnt in {C}.",
	"Die Patientin {P} wurde heute entlassen.",
	"Mein Sohn {G} hat Fieber.",
	"Monsieur {S} a appelé ce matin.",
	"Madame {P} habite à {C}.",
	"Le patient {P} est sorti hier.",
	"El paciente {P} fue dado de alta.",
	"La señora {S} vive en {C}.",
	"Mi hija {G} tiene tos.",
	"Signed, {P}",
	"Authorized by {P} on behalf of {O}.",
	"The account is held jointly by {P} and {P}.",
	"Emergency contact: {P} (sister)",
	"The package was delivered to {P} in {C}.",
	"{P} wrote a book about the history of {K}.",
	"{G} and {G} went to {C} for the weekend.",
	"I met {G} at the airport in {C}.",
	"According to {P}, the system was down for an hour.",
	"Travel to {K} requires a visa for some visitors.",
	"The flight from {C} to {C} was delayed.",
	"{O} is headquartered in {C}.",
	"The {K} embassy in {C} issued the document.",
	"She is {N} and from {K}.",
	"He is a {N} citizen living in {C}.",
	"Results were discussed with {P} and her husband {G}.",
	"Vitals stable. {S} to follow up with cardiology.",
	"Spoke to {G} from {O} about the invoice.",
	"Thank you, {P}, for your quick reply.",
	"Dear {P},\nyour appointment is confirmed.",
	"Dear Mr. {S},\nthank you for your letter.",
	"Hi {G},\ncould you send me the file?",
	"Good morning {G}, the lab results are back.",
	"Call {G} back when you can.",
	"Is {G} available tomorrow?",
	"{P} (patient) called about side effects.",
	"Forwarding to {G} for approval.",
	"Per {S}'s note the dose was reduced.",
	"This letter concerns {P}, born and raised in {C}.",
	"{G} is very reliable and always on time.",
	"{S} began working at {O} in the spring.",
	"{G} said the meeting went well.",
	"{S} has been under review for months.",
	"I'm so glad, said {G} to {G}.",
	"{G} shouted at {G}: stop right there!",
	"{G}, can you call me back?",
	"{G}, please send the form today.",
	"What's your last name? {S}",
	"my name is {G}",
	"sometimes people call me {G}",
	"you can call me {G}",
	"this is {G} speaking",
	"have you met {G} yet?",
	"follow up with {P} next month.",
	"I want to add {P} as a beneficiary.",
	"It was agreed between him and {G}.",
	"The story of {S}'s family is well known.",
	"Unlike the {S} case, this one was simple.",
	"{P}\nSenior Accountant\n{O}",
	"{P}\n\nNurse practitioner\n\nPhone: 555 0100",
	"Attendees: {G}, {G}, {G} and {G}",
	"{S} and {S} were the engineers on the project.",
	"Thanks to {P} and {P} for the review.",
	"Message from {G}: running late, sorry.",
	"{G} wrote: I agree with the plan.",
	"Reply to {G}",
	"Ask {G} about the invoice.",
	"{P} will cover for {P} on Friday.",
	"The report by {P} was accepted.",
	"Is this {P}'s account?",
	"Please update the record for {P}.",
	"My husband {G} and I share the account.",
	"Our daughter {G} starts school in {C}.",
	"{G} from {C} asked about the price.",
	"{P} moved to {K} after the war.",
	"Flights to {C} and {C} are cancelled.",
	"{C} is colder than {C} in winter.",
	"Visit us in {C}, {K}.",
	"{O} and {O} signed the contract.",
	"I bank with {O}.",
	"{P} (born in {C}) joined {O}.",
}

// Sentences with capitalized words that are no names, so the tagger learns
// what is not a name.
var negatives = []string{
	"Please Review The Attached Document Before Friday.",
	"Metformin 500 mg twice daily and Lisinopril 10 mg once daily.",
	"Blood pressure 120/80, heart rate 72, temperature 37.1.",
	"The Board approved the Annual Report and the Budget.",
	"Thank you for contacting Customer Support.",
	"Type 2 Diabetes Mellitus, Chronic Kidney Disease stage 3.",
	"Chest X-Ray showed no acute findings.",
	"Order Status: Shipped. Tracking available in the app.",
	"Click Save, then Export to PDF.",
	"Monday through Friday, 9 AM to 5 PM.",
	"The MRI and CT were normal; EKG showed sinus rhythm.",
	"New Feature: Dark Mode is now available in Settings.",
	"Warning: Low Balance on your Checking Account.",
	"Summary of Changes in Version Two of the Terms.",
	"Heart Failure with Reduced Ejection Fraction.",
	"Insulin Glargine 20 units at bedtime.",
	"The Quick Start Guide explains Setup and Login.",
	"Acute Kidney Injury resolved with IV Fluids.",
	"Privacy Policy and Terms of Service apply.",
	"Good Morning Everyone, Welcome Back.",
	"Assessment: stable.\nPlan: continue current medications.",
	"Echo: normal ejection fraction.\nImpression: no acute changes.",
	"Summary: the patient improved.\nNote: follow up in clinic.",
	"Meeting Room 4 is booked for the Budget Review.",
	"The IBAN and the BIC are on the Invoice.",
	"Check the IP, the MAC and the DNS settings.",
	"Software-Version and Release Notes are attached.",
	"History: hypertension.\nMedications: aspirin.\nAllergies: none.",
	"Subject: Quarterly Update\nPriority: High",
	"Status: Approved. Reason: Documents Complete.",
	"Welcome to the Online Banking Portal.",
	"Reminder: Annual Checkup due in March.",
	"Fever, Cough and Fatigue for three days.",
	"Guten Tag, vielen Dank für Ihre Nachricht.",
	"Bonjour, merci pour votre message.",
	"Hola, gracias por su mensaje.",
	"Reliable Service Is Our Promise.",
	"Shipping Address and Billing Address must match.",
	"Call Center Hours Are Posted Online.",
	"Please Note: Offices Closed Monday.",
	"Chief Complaint: Headache.\nHistory of Present Illness: two days.",
	"Die Sendungsnummer und die Rechnungsnummer stehen unten.",
	"Bitte prüfen Sie die Kontonummer und den Betrag.",
	"Veuillez vérifier le Numéro de Commande.",
	"Amlodipine 5 mg daily, Atorvastatin 40 mg at night.",
	"Ceftriaxone 1 g IV every 24 hours.",
	"Pantoprazole 40 mg before breakfast.",
	"Furosemide 20 mg PO; Spironolactone 25 mg daily.",
	"Levetiracetam 500 mg twice daily.",
	"Enoxaparin 40 mg subcutaneously once daily.",
	"Bestellung 4471 wurde versendet.",
	"Rechnung 2024-118 ist bezahlt.",
	"Termin verschoben auf nächste Woche.",
	"Auftrag 5521 abgeschlossen.",
	"Commande 7781 expédiée hier.",
	"Facture 2231 en attente.",
	"Factura 3391 pagada.",
	"Envío 5512 en camino.",
	"Счет 2231 оплачен.",
	"Ticket 4471 was closed.",
	"Invoice 8812 is overdue.",
	"Shipment 5512 left the warehouse.",
}

var slotRe = regexp.MustCompile(`\{([PGSCKRON])\}`)

type synth struct {
	rng      *rand.Rand
	locales  []*fakerLocale
	en       *fakerLocale
	words    []string // capitalized ordinary words, for organization names
	orgHeads []string
}

func newSynth(seed uint64, locales map[string]*fakerLocale, ordinary []string) *synth {
	keys := make([]string, 0, len(locales))
	for k := range locales {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	s := &synth{rng: rand.New(rand.NewPCG(seed, seed*31+7)), en: locales["en"]}
	for _, k := range keys {
		if len(locales[k].First) > 0 && len(locales[k].Last) > 0 {
			s.locales = append(s.locales, locales[k])
		}
	}
	s.words = ordinary
	s.orgHeads = strings.Fields("Group Partners Solutions Systems Technologies Insurance Bank Holdings Consulting Labs Health Medical Logistics Capital Industries Services Foundation Clinic Hospital University Institute Media Networks Software Energy Transit Analytics Pharma Foods Motors Ventures")
	return s
}

func (s *synth) pick(xs []string) string {
	if len(xs) == 0 {
		return ""
	}
	return xs[s.rng.IntN(len(xs))]
}

func (s *synth) locale() *fakerLocale {
	if s.rng.IntN(3) == 0 && s.en != nil {
		return s.en
	}
	return s.locales[s.rng.IntN(len(s.locales))]
}

func (s *synth) person(kind byte) string {
	l := s.locale()
	first, last := s.pick(l.First), s.pick(l.Last)
	switch kind {
	case 'G':
		return first
	case 'S':
		return last
	}
	switch r := s.rng.IntN(100); {
	case r < 50:
		return first + " " + last
	case r < 62:
		m := []rune(s.pick(l.First))
		dot := "."
		if s.rng.IntN(3) == 0 {
			dot = ""
		}
		return first + " " + string(unicode.ToUpper(m[0])) + dot + " " + last
	case r < 70:
		return first + " " + s.pick(l.First) + " " + last
	case r < 78:
		return first + " " + last + "-" + s.pick(l.Last)
	case r < 88:
		return last
	}
	return first
}

func (s *synth) org() string {
	l := s.locale()
	switch r := s.rng.IntN(6); r {
	case 0:
		return s.pick(l.Last) + " " + s.pick(append(l.CompanyLegal, "Inc", "LLC", "Ltd"))
	case 1:
		return s.pick(l.Last) + " & " + s.pick(l.Last)
	case 2:
		return s.pick(l.Last) + "-" + s.pick(l.Last)
	case 3:
		return title(s.pick(s.words)) + " " + s.pick(s.orgHeads)
	case 4:
		return title(s.pick(s.words)) + " " + title(s.pick(s.words)) + " " + s.pick(s.orgHeads)
	}
	return title(s.pick(s.words)) + strings.ToLower(s.pick([]string{"ify", "ly", "io", "net", "soft", "works", "hub"}))
}

func title(w string) string {
	if w == "" {
		return w
	}
	r := []rune(w)
	r[0] = unicode.ToUpper(r[0])
	return string(r)
}

func (s *synth) place(kind byte) string {
	l := s.locale()
	switch kind {
	case 'K':
		return s.pick(s.en.Country)
	case 'R':
		if len(l.State) > 0 {
			return s.pick(l.State)
		}
		return s.pick(s.en.State)
	}
	if len(l.City) > 0 {
		return s.pick(l.City)
	}
	return s.pick(s.en.City)
}

// example fills one template and tokenizes it with its labels.
func (s *synth) example(tmpl string) ner.Example {
	var b strings.Builder
	type span struct {
		s, e int
		t    ner.Tag
	}
	var spans []span
	last := 0
	for _, m := range slotRe.FindAllStringSubmatchIndex(tmpl, -1) {
		b.WriteString(tmpl[last:m[0]])
		kind := tmpl[m[2]]
		var v string
		t := ner.O
		switch kind {
		case 'P', 'G', 'S':
			v, t = s.person(kind), ner.PER
		case 'O':
			v, t = s.org(), ner.ORG
		case 'C', 'K', 'R':
			v, t = s.place(kind), ner.LOC
		case 'N':
			v = title(s.pick(demonyms))
		}
		start := b.Len()
		b.WriteString(v)
		if t != ner.O {
			spans = append(spans, span{start, b.Len(), t})
		}
		last = m[1]
	}
	b.WriteString(tmpl[last:])
	text := b.String()
	switch r := s.rng.IntN(100); {
	case r < 8:
		text = strings.ToLower(text)
	case r < 12:
		text = strings.ToUpper(text)
	}
	toks, offs := ner.Tokenize(text)
	ex := ner.Example{Toks: toks, Tags: make([]ner.Tag, len(toks))}
	for i, o := range offs {
		for _, sp := range spans {
			if sp.s < o[1] && o[0] < sp.e {
				ex.Tags[i] = sp.t
			}
		}
	}
	return ex
}

func (s *synth) examples(n int) []ner.Example {
	out := make([]ner.Example, 0, n+len(negatives)*20)
	for i := 0; i < n; i++ {
		out = append(out, s.example(templates[s.rng.IntN(len(templates))]))
	}
	for r := 0; r < 40; r++ {
		for _, t := range negatives {
			out = append(out, s.example(t))
		}
	}
	return slices.Clip(out)
}
