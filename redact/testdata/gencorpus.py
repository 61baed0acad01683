#!/usr/bin/env python3
"""Builds redact/testdata/corpus.jsonl: labeled texts for the detector evaluation.

Each case: {"id", "lang", "domain", "text", "spans": [{"type", "start", "end"}], "hard_negative": bool}.
Values are generated with valid checksums where the type has one; hard negatives carry look-alikes that
must not be redacted (failed checksums, order ids, versions, timestamps, hashes). Deterministic (seeded).
Run: python3 redact/testdata/gencorpus.py > redact/testdata/corpus.jsonl
"""
import json, random, string, hashlib

R = random.Random(20261127)

# ---------- value generators (valid) ----------
def luhn_complete(prefix, length):
    digits = [int(c) for c in prefix]
    while len(digits) < length - 1:
        digits.append(R.randint(0, 9))
    for check in range(10):
        d = digits + [check]
        s = 0
        for i, n in enumerate(reversed(d)):
            if i % 2 == 1:
                n *= 2
                if n > 9: n -= 9
            s += n
        if s % 10 == 0:
            return ''.join(map(str, d))

def card():
    kind = R.choice(['visa', 'mc', 'amex', 'disc'])
    if kind == 'visa': n = luhn_complete('4' + str(R.randint(10000, 99999)), 16)
    elif kind == 'mc': n = luhn_complete(str(R.randint(51, 55)), 16)
    elif kind == 'amex': n = luhn_complete(R.choice(['34', '37']), 15)
    else: n = luhn_complete('6011', 16)
    style = R.choice(['plain', 'space', 'dash'])
    if style == 'plain': return n
    groups = [n[0:4], n[4:10], n[10:]] if len(n) == 15 else [n[i:i+4] for i in range(0, 16, 4)]
    return (' ' if style == 'space' else '-').join(groups)

def bad_card():
    n = card().replace(' ', '').replace('-', '')
    last = int(n[-1]); n = n[:-1] + str((last + R.randint(1, 9)) % 10)
    return ' '.join(n[i:i+4] for i in range(0, len(n), 4))

IBAN_SPECS = {'DE': (22, '8n10n'), 'FR': (27, '10n11c2n'), 'ES': (24, '20n'), 'GB': (22, '4a14n'), 'NL': (18, '4a10n'), 'IT': (27, '1a10n12c'), 'CH': (21, '5n12c'), 'AT': (20, '16n'), 'BE': (16, '12n')}
def iban_body(spec):
    out = ''
    import re
    for cnt, kind in re.findall(r'(\d+)([nac])', spec):
        for _ in range(int(cnt)):
            out += R.choice(string.digits) if kind == 'n' else R.choice(string.ascii_uppercase) if kind == 'a' else R.choice(string.digits + string.ascii_uppercase)
    return out
def iban(bad=False):
    cc = R.choice(list(IBAN_SPECS)); length, spec = IBAN_SPECS[cc]
    bban = iban_body(spec)
    num = ''.join(str(int(c, 36)) for c in bban + cc + '00')
    check = 98 - int(num) % 97
    if bad: check = (check + R.randint(1, 50)) % 97 + 2
    s = cc + '%02d' % check + bban
    return ' '.join(s[i:i+4] for i in range(0, len(s), 4)) if R.random() < 0.6 else s

def ssn(bad=False):
    while True:
        a = R.randint(1, 899)
        if a != 666: break
    if bad: a = R.choice([0, 666])
    return '%03d-%02d-%04d' % (a, R.randint(1, 99), R.randint(1, 9999))

def itin():
    return '9%02d-%02d-%04d' % (R.randint(0, 99), R.choice(list(range(70, 89)) + [90, 91, 92, 94, 95]), R.randint(1, 9999))

def npi():
    while True:
        base = str(R.choice([1, 2])) + ''.join(R.choice(string.digits) for _ in range(8))
        for c in range(10):
            cand = base + str(c)
            full = '80840' + cand
            s = 0
            for i, ch in enumerate(reversed(full)):
                n = int(ch)
                if i % 2 == 1:
                    n *= 2
                    if n > 9: n -= 9
                s += n
            if s % 10 == 0: return cand

def dea():
    l1 = R.choice('ABFGMPR'); l2 = R.choice(string.ascii_uppercase)
    d = [R.randint(0, 9) for _ in range(6)]
    c = (d[0] + d[2] + d[4] + 2 * (d[1] + d[3] + d[5])) % 10
    return l1 + l2 + ''.join(map(str, d)) + str(c)

def nhs(bad=False):
    while True:
        d = [R.randint(0, 9) for _ in range(9)]
        s = sum(d[i] * (10 - i) for i in range(9)); c = 11 - s % 11
        if c == 11: c = 0
        if c == 10: continue
        if bad: c = (c + 1) % 10
        n = ''.join(map(str, d)) + str(c)
        return n[:3] + ' ' + n[3:6] + ' ' + n[6:]

def nino():
    a = R.choice('ABCEGHJKLMNOPRSTWXYZ'); b = R.choice('ABCEGHJKLMNPRSTWXYZ')
    if a + b in ('BG', 'GB', 'KN', 'NK', 'NT', 'TN', 'ZZ'): a, b = 'A', 'B'
    digits = ''.join(R.choice(string.digits) for _ in range(6))
    s = a + b + digits + R.choice('ABCD')
    return s if R.random() < 0.5 else ' '.join([s[:2], s[2:4], s[4:6], s[6:8], s[8]])

def steuer_id():
    while True:
        d = [R.randint(1, 9)] + [R.randint(0, 9) for _ in range(9)]
        counts = [d.count(x) for x in range(10)]
        if max(counts) > 3 or sum(1 for c in counts if c >= 2) != 1: continue
        product = 10
        for x in d:
            s = (x + product) % 10
            if s == 0: s = 10
            product = (s * 2) % 11
        c = 11 - product
        if c == 10: c = 0
        return ''.join(map(str, d)) + str(c)

def nir():
    body = str(R.choice([1, 2])) + '%02d' % R.randint(40, 99) + '%02d' % R.randint(1, 12) + '%02d' % R.randint(1, 95) + '%03d' % R.randint(1, 990) + '%03d' % R.randint(1, 999)
    key = 97 - int(body) % 97
    s = body + '%02d' % key
    return ' '.join([s[0], s[1:3], s[3:5], s[5:7], s[7:10], s[10:13], s[13:]])

def dni():
    n = R.randint(10000000, 99999999)
    if R.random() < 0.3:
        p = R.choice('XYZ'); num = R.randint(1000000, 9999999)
        full = int({'X': '0', 'Y': '1', 'Z': '2'}[p] + '%07d' % num)
        return p + '%07d' % num + 'TRWAGMYFPDXBNJZSQVHLCKE'[full % 23]
    return '%08d' % n + 'TRWAGMYFPDXBNJZSQVHLCKE'[n % 23]

ODD = [1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24, 23]
def codice():
    s = ''.join(R.choice(string.ascii_uppercase) for _ in range(6)) + '%02d' % R.randint(40, 99) + R.choice('ABCDEHLMPRST') + '%02d' % R.randint(1, 71) + R.choice(string.ascii_uppercase) + '%03d' % R.randint(1, 999)
    t = 0
    for i, c in enumerate(s):
        idx = int(c) if c.isdigit() else ord(c) - 55
        if i % 2 == 0: t += ODD[idx]
        else: t += int(c) if c.isdigit() else ord(c) - 65
    return s + chr(65 + t % 26)

def routing():
    while True:
        p = R.choice(list(range(1, 13)) + list(range(21, 33)) + list(range(61, 73)))
        d = [int(x) for x in '%02d' % p] + [R.randint(0, 9) for _ in range(6)]
        for c in range(10):
            dd = d + [c]
            if (3 * (dd[0] + dd[3] + dd[6]) + 7 * (dd[1] + dd[4] + dd[7]) + (dd[2] + dd[5] + dd[8])) % 10 == 0:
                return ''.join(map(str, dd))

B58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz'
def btc():
    payload = bytes([0]) + bytes(R.getrandbits(8) for _ in range(20))
    chk = hashlib.sha256(hashlib.sha256(payload).digest()).digest()[:4]
    n = int.from_bytes(payload + chk, 'big'); out = ''
    while n: n, r = divmod(n, 58); out = B58[r] + out
    return '1' + out
def eth(): return '0x' + ''.join(R.choice('0123456789abcdef') for _ in range(40))

def phone(lang):
    if lang == 'en':
        area = R.choice(['212', '415', '617', '312', '206', '303', '512', '646'])
        ex = R.choice(['555', '867', '432', '201', '734'])
        n = '%04d' % R.randint(100, 9999)
        return R.choice(['(%s) %s-%s' % (area, ex, n), '%s-%s-%s' % (area, ex, n), '+1 %s %s %s' % (area, ex, n), '+44 20 7946 %04d' % R.randint(0, 999)])
    if lang == 'de': return R.choice(['+49 30 %d %04d' % (R.randint(100, 999), R.randint(1000, 9999)), '030 %d%04d' % (R.randint(100, 999), R.randint(1000, 9999)), '+49 151 %d %d' % (R.randint(1000, 9999), R.randint(1000, 9999))])
    if lang == 'fr': return R.choice(['+33 1 %02d %02d %02d %02d' % tuple(R.randint(10, 99) for _ in range(4)), '06 %02d %02d %02d %02d' % tuple(R.randint(10, 99) for _ in range(4))])
    return R.choice(['+34 91 %03d %02d %02d' % (R.randint(100, 999), R.randint(10, 99), R.randint(10, 99)), '+34 6%02d %03d %03d' % (R.randint(10, 99), R.randint(100, 999), R.randint(100, 999))])

def ip():
    if R.random() < 0.3: return '2001:db8:%x:%x::%x' % (R.randint(1, 65535), R.randint(1, 65535), R.randint(1, 65535))
    return '%d.%d.%d.%d' % (R.choice([10, 172, 192, 81, 203]), R.randint(0, 255), R.randint(0, 255), R.randint(1, 254))

def secret():
    k = R.choice(['openai', 'anthropic', 'aws', 'github', 'jwt', 'slack'])
    rnd = lambda n, a=string.ascii_letters + string.digits: ''.join(R.choice(a) for _ in range(n))
    return {'openai': 'sk-proj-' + rnd(48), 'anthropic': 'sk-ant-api03-' + rnd(60), 'aws': 'AKIA' + rnd(16, string.ascii_uppercase + string.digits),
            'github': 'ghp_' + rnd(36), 'slack': 'xoxb-' + '%d-%d-' % (R.randint(10**10, 10**11), R.randint(10**10, 10**11)) + rnd(24),
            'jwt': 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI' + rnd(20) + '.' + rnd(43, string.ascii_letters + string.digits + '-_')}[k]

FIRST = {'en': ['James', 'Mary', 'Robert', 'Patricia', 'Jennifer', 'Michael', 'Linda', 'David', 'Elizabeth', 'Sarah', 'Thomas', 'Karen', 'Daniel', 'Nancy', 'Matthew', 'Emily', 'Olivia', 'Ethan', 'Hannah', 'Noah'],
         'de': ['Lukas', 'Anna', 'Maximilian', 'Sophie', 'Felix', 'Marie', 'Jonas', 'Lena', 'Tobias', 'Katharina', 'Stefan', 'Ursula', 'Jürgen', 'Sabine', 'Matthias'],
         'fr': ['Camille', 'Louis', 'Chloé', 'Hugo', 'Léa', 'Gabriel', 'Manon', 'Arthur', 'Inès', 'Jules', 'Mathilde', 'Antoine', 'Céline', 'Julien', 'Élodie'],
         'es': ['Lucía', 'Hugo', 'Martina', 'Mateo', 'Sofía', 'Alejandro', 'Carmen', 'Javier', 'Paula', 'Diego', 'Elena', 'Pablo', 'Marta', 'Andrés', 'Isabel']}
LAST = {'en': ['Johnson', 'Williams', 'Garcia', 'Rodriguez', 'Martinez', 'Anderson', 'Thompson', 'Robinson', 'Harris', 'Lewis', 'Walker', 'Hernandez', 'Nguyen', 'Patel', 'Murphy'],
        'de': ['Müller', 'Schneider', 'Fischer', 'Weber', 'Meyer', 'Wagner', 'Becker', 'Schulz', 'Hoffmann', 'Koch', 'Richter', 'Klein', 'Wolf', 'Schröder', 'Neumann'],
        'fr': ['Martin', 'Bernard', 'Dubois', 'Thomas', 'Robert', 'Richard', 'Petit', 'Durand', 'Leroy', 'Moreau', 'Simon', 'Laurent', 'Lefebvre', 'Michel', 'Garnier'],
        'es': ['García', 'Fernández', 'González', 'Rodríguez', 'López', 'Martínez', 'Sánchez', 'Pérez', 'Gómez', 'Jiménez', 'Ruiz', 'Hernández', 'Díaz', 'Moreno', 'Álvarez']}
# Names and addresses come from three pools, recorded per span as "src": "lexicon" (the lists above, which the
# detectors' gazetteer also holds), "heldout" (heldout_names.txt: a sample of a CC0 name dataset the gazetteer is
# not built from) and "handwritten" (written for this corpus, below). At least a third of the names and addresses
# are not from the lexicon pool; the evaluation reports them separately.
HELD = {'given': [], 'surname': []}
for line in open(__file__.rsplit('/', 1)[0] + '/heldout_names.txt', encoding='utf-8'):
    if line.startswith('#') or not line.strip(): continue
    kind, _, name = line.rstrip('\n').split('\t')
    HELD[kind].append(name)
HAND_NAMES = ['Tamsin Okonkwo-Reyes', 'Birgit Halvorsrud', 'Oisín Mac Gearailt', 'Priyamvada Iyengar', 'Wendell Quarshie',
              'Zofia Wiśniewska-Krupa', 'Ahanu Redcloud', 'Margarethe Pfeilschifter', 'Thandiwe Mbeki-Nkosi', 'Ruaridh Strachan',
              'Inês Vasconcelos Prado', 'Kwabena Asante', 'Solveig Brekkestø', 'Dagny Lindqvist', 'Mehmet Karaosmanoğlu',
              'Lucinda Fairweather', 'Bartholomew Quist', 'Aurelio Santangelo', 'Yevgenia Dolgorukova', 'Eero Kivistö',
              'Nkechi Eze', 'Radovan Štěpánek', 'Honorine Delacroix-Battu', 'Teodora Vlahović', 'Cormac Ó Súilleabháin',
              'Fenna Dijkstra', 'Ikaika Kahananui', 'Rosalind Featherstonehaugh', 'Anselm Grünwald', 'Perpetua Nwosu',
              'Ximena Urrutia Goñi', 'Leocadia Barros', 'Torbjørn Aasland', 'Magdalena Przybylska', 'Hamish Auchterlonie',
              'Sigrún Þórðardóttir', 'Quentin Marchetti', 'Delphine Arbogast', 'Evander Pettigrew', 'Wilhelmina Oosterhuis']
def person_src(lang):
    r = R.random()
    if r < 0.5: return R.choice(FIRST[lang]) + ' ' + R.choice(LAST[lang]), 'lexicon'
    if r < 0.8: return R.choice(HELD['given']) + ' ' + R.choice(HELD['surname']), 'heldout'
    return R.choice(HAND_NAMES), 'handwritten'
def person(lang): return person_src(lang)[0]

STREETS = {'en': lambda: '%d %s %s' % (R.randint(2, 9999), R.choice(['Maple', 'Oak', 'Elm', 'Cedar', 'Washington', 'Lincoln', 'Park', 'Lake', 'Hillside', 'Sunset']), R.choice(['Street', 'Avenue', 'Road', 'Lane', 'Drive', 'Boulevard'])),
           'de': lambda: '%s %d' % (R.choice(['Hauptstraße', 'Bahnhofstraße', 'Lindenweg', 'Schillerstraße', 'Gartenstraße', 'Birkenallee', 'Goethestraße']), R.randint(1, 150)),
           'fr': lambda: '%d %s' % (R.randint(1, 150), R.choice(['rue de la Paix', 'avenue Victor Hugo', 'boulevard Saint-Michel', 'rue des Lilas', 'rue du Commerce', 'avenue Jean Jaurès'])),
           'es': lambda: '%s %d' % (R.choice(['Calle Mayor', 'Calle de Alcalá', 'Avenida de la Constitución', 'Calle Real', 'Paseo del Prado']), R.randint(1, 150))}
# Hand-written street names and unit forms.
def _fill(t): return t.replace('%d', str(R.randint(2, 980)), 1).replace('%d', str(R.randint(1, 40)))
HAND_STREETS = {
 'en': lambda: _fill(R.choice(['%d Quillfeather Crescent', '%d Old Tannery Row', '%d Barrowmere Court, Apt %d', '%d Wexcombe Terrace, Suite %d',
                               'P.O. Box %d', '%d N Juniper Hollow Rd', '%d Harrowgate Way #%d', '%d Bellweather Parkway, Unit %d'])),
 'de': lambda: _fill(R.choice(['Kornblumenstraße %d', 'Am Ziegelteich %d', 'Rabenhorster Weg %d', 'Obere Mühlgasse %d', 'Postfach %d'])),
 'fr': lambda: _fill(R.choice(['%d rue des Tanneurs', '%d impasse du Moulin Vert', '%d chemin des Aubépines', '%d allée des Cormiers', 'BP %d'])),
 'es': lambda: _fill(R.choice(['Calle del Almendro %d', 'Camino de las Acequias %d', 'Avenida del Tamarindo %d, 3º B', 'Plaza de los Alfareros %d', 'Apartado de Correos %d']))}
def address_src(lang):
    if R.random() < 0.55: return STREETS[lang](), 'lexicon'
    return HAND_STREETS[lang](), 'handwritten'
CITY = {'en': ['Springfield', 'Boston', 'Denver', 'Austin'], 'de': ['Berlin', 'Hamburg', 'München', 'Köln'], 'fr': ['Paris', 'Lyon', 'Marseille', 'Lille'], 'es': ['Madrid', 'Barcelona', 'Sevilla', 'Valencia']}
HAND_CITIES = {'en': ['Harrowby Falls', 'Millbrook', 'Ashcombe'], 'de': ['Kleinwiesenau', 'Oberhollstedt'], 'fr': ['Saint-Aubin-des-Prés', 'Montvernier'], 'es': ['Villanueva del Pinar', 'Torrealba']}
def city_src(lang):
    if R.random() < 0.6: return R.choice(CITY[lang]), 'lexicon'
    return R.choice(HAND_CITIES[lang]), 'handwritten'
ORGS = ['Northwind Logistics', 'Halvorsen & Pike LLP', 'Bluefield Community Hospital', 'Cardinal Mutual Insurance', 'Brightwater Bank',
        'Meridian Health Partners', 'Quarry Lane Software', 'Saint Brigid Medical Center', 'Kestrel Analytics GmbH', 'Alder Creek Credit Union']
POSTAL = {'en': lambda: '%05d' % R.randint(10001, 98999), 'de': lambda: '%05d' % R.randint(10115, 99998), 'fr': lambda: '%05d' % R.randint(75001, 95999), 'es': lambda: '%05d' % R.randint(28001, 50999)}
MONTHS = {'en': ['January', 'March', 'June', 'September', 'November'], 'de': ['Januar', 'März', 'Juni', 'September', 'November'], 'fr': ['janvier', 'mars', 'juin', 'septembre', 'novembre'], 'es': ['enero', 'marzo', 'junio', 'septiembre', 'noviembre']}
def date(lang):
    d, m, y = R.randint(1, 28), R.randint(1, 12), R.randint(1935, 2005)
    styles = {'en': ['%02d/%02d/%d' % (m, d, y), '%d-%02d-%02d' % (y, m, d), '%d %s %d' % (d, R.choice(MONTHS['en']), y)],
              'de': ['%02d.%02d.%d' % (d, m, y), '%d. %s %d' % (d, R.choice(MONTHS['de']), y)],
              'fr': ['%02d/%02d/%d' % (d, m, y), '%d %s %d' % (d, R.choice(MONTHS['fr']), y)],
              'es': ['%02d/%02d/%d' % (d, m, y), '%d de %s de %d' % (d, R.choice(MONTHS['es']), y)]}
    return R.choice(styles[lang])
def mrn(): return R.choice(['%07d' % R.randint(100000, 9999999), 'A%07d' % R.randint(0, 9999999), '%08d' % R.randint(0, 99999999)])
def plan_id(): return R.choice(['%s%09d' % (R.choice(['XGH', 'W', 'ZQ', 'MBR']), R.randint(0, 999999999)), '%d%s%04d' % (R.randint(100, 999), R.choice(string.ascii_uppercase), R.randint(0, 9999))])
def acct(): return '%0*d' % (R.randint(8, 12), R.randint(10**7, 10**11))
def passport(): return R.choice(['%09d' % R.randint(10**8, 10**9 - 1), 'C%08d' % R.randint(0, 10**8 - 1)])
def dl(): return R.choice(['D%07d' % R.randint(0, 10**7), 'S%03d-%04d-%04d' % (R.randint(0, 999), R.randint(0, 9999), R.randint(0, 9999))])
def email(lang):
    n = person(lang).lower().replace(' ', R.choice(['.', '_', ''])).encode('ascii', 'ignore').decode()
    return n + R.choice(['@example.com', '@mail.example.org', '@hospital.example.net', '@correo.example.es', '@web.example.de'])
def url(): return R.choice(['https://portal.example.com/patients/%d' % R.randint(1000, 9999), 'http://www.example.org/records?id=%d' % R.randint(100, 999), 'https://example.de/kunden/%d/konto' % R.randint(1, 99)])

# ---------- hard negatives (must not be redacted) ----------
def order_id(): return R.choice(['ORD-%d' % R.randint(10**6, 10**7), '#%d' % R.randint(10**5, 10**9), 'INV-2024-%05d' % R.randint(0, 99999)])
def version(): return R.choice(['v%d.%d.%d' % (R.randint(0, 9), R.randint(0, 30), R.randint(0, 99)), '%d.%d.%d.%d' % (R.randint(1, 20), R.randint(0, 9), R.randint(0, 999), R.randint(0, 9999)), '2.%d.%d' % (R.randint(0, 20), R.randint(0, 9))])
# Every calendar date is a DATE now; times of day and epoch seconds are not.
def timestamp(): return R.choice(['%02d:%02d:%02d' % (R.randint(0, 23), R.randint(0, 59), R.randint(0, 59)), '%d' % R.randint(1700000000, 1800000000)])
def sha(): return hashlib.sha1(str(R.random()).encode()).hexdigest() if R.random() < 0.5 else hashlib.sha256(str(R.random()).encode()).hexdigest()[:40]
def uuid(): return '%08x-%04x-4%03x-%04x-%012x' % (R.getrandbits(32), R.getrandbits(16), R.getrandbits(12), 0x8000 | R.getrandbits(14), R.getrandbits(48))
def amount(): return R.choice(['$%d.%02d' % (R.randint(1, 9999), R.randint(0, 99)), '%d,%02d €' % (R.randint(1, 9999), R.randint(0, 99)), 'EUR %d' % R.randint(100, 99999)])
def bad_iban(): return iban(bad=True)
def bad_ssn(): return ssn(bad=True)
def bad_nhs(): return nhs(bad=True)
def digits_run(): return str(R.randint(10**9, 10**12))
def tracking(): return '1Z%s' % ''.join(R.choice(string.ascii_uppercase + string.digits) for _ in range(16))

# ---------- templates ----------
# {T:key} slots are filled and labeled with type T; {N:key} slots are negatives (unlabeled).
GEN = {'CREDIT_CARD': card, 'IBAN': iban, 'US_SSN': ssn, 'US_ITIN': itin, 'US_NPI': npi, 'US_DEA': dea, 'UK_NHS': nhs, 'UK_NINO': nino,
       'DE_TAX_ID': steuer_id, 'FR_NIR': nir, 'ES_DNI': dni, 'IT_FISCAL_CODE': codice, 'US_BANK_ROUTING': routing, 'CRYPTO_WALLET': lambda: R.choice([btc(), eth()]),
       'IP_ADDRESS': ip, 'SECRET': secret, 'MEDICAL_RECORD_NUMBER': mrn, 'HEALTH_PLAN_ID': plan_id, 'BANK_ACCOUNT': acct, 'US_PASSPORT': passport,
       'US_DRIVER_LICENSE': dl, 'URL': url}
LGEN = {'PERSON': person_src, 'PHONE': phone, 'EMAIL': email, 'ADDRESS': address_src, 'POSTAL_CODE': lambda l: POSTAL[l](), 'DATE_OF_BIRTH': date, 'DATE': date,
        'LOCATION': city_src, 'ORGANIZATION': lambda l: R.choice(ORGS)}
NEG = {'order': order_id, 'version': version, 'ts': timestamp, 'sha': sha, 'uuid': uuid, 'amount': amount, 'badiban': bad_iban, 'badssn': bad_ssn,
       'badnhs': bad_nhs, 'badcard': bad_card, 'digits': digits_run, 'tracking': tracking}

T = {
 'en': {
  'chat': [
   "My kid {PERSON} has had a rash since [[DATE:Monday]], is that normal?",
   "User: hi, I'm {PERSON} and I moved to {LOCATION} last month, how do I update my address?",
   "{PERSON} from {ORGANIZATION} said the claim was approved.",
   "We drove from {LOCATION} to {LOCATION} to see [[TITLE:Dr.]] {PERSON} at {ORGANIZATION}.",
   "New mailing address: {ADDRESS}, {LOCATION} {POSTAL_CODE}",
   "Please send the statement to\n{PERSON}\n{ADDRESS}\n{LOCATION} {POSTAL_CODE}",
   "Thanks,\n{PERSON}\n{ORGANIZATION}",
  ],
  'clinicalneg': [
   "BP 120/80, HR 72, RR 16, SpO2 97% on room air, T 37.2.",
   "ABG 7.35/42/88 on 2 L nasal cannula; lactate 1.8.",
   "Start heparin drip, titrate to aPTT 60-80 s; INR target 2.0-3.0.",
   "Ondansetron 4-8 mg IV q8h PRN nausea; morphine 2-4 mg IV q4h PRN pain.",
   "Na 138 (135-145), K 4.1 (3.5-5.1), creatinine 1.1 mg/dL, eGFR 68.",
   "GCS 15, APGAR 8/9, pain score 3/10, BMI 27.4 kg/m2.",
   "Hemoglobin 13.2 g/dL, WBC 7.8, platelets 245, glucose 5.6-7.8 mmol/L.",
   "Amoxicillin 500 mg PO TID x 7 days; recheck in 10-14 days.",
   "Fluids at 125 mL/h; urine output 0.5 mL/kg/h; weight 72.5 kg.",
   "Echo: EF 55-60%, mild MR; LVEDD 48 mm.",
  ],

  'clinical': [
   "Patient: {PERSON} (DOB {DATE_OF_BIRTH}), MRN {MEDICAL_RECORD_NUMBER}. Presented with chest pain; troponin negative. Follow up in 2 weeks.",
   "Discharge summary for {PERSON}. Admitted {DATE} for pneumonia, treated with ceftriaxone. Contact number {PHONE}.",
   "Referral from [[TITLE:Dr.]] {PERSON}, NPI {US_NPI}, DEA {US_DEA}. Please review the MRI and call {PHONE}.",
   "{PERSON} lives at {ADDRESS}, {LOCATION}, [[LOCATION:IL]] {POSTAL_CODE}. Insurance member ID {HEALTH_PLAN_ID}.",
   "Nurse note: spoke with {PERSON}'s daughter at {EMAIL}; she confirmed allergies to penicillin.",
   "SSN on file {US_SSN}; patient prefers contact via {EMAIL}. BP 132/84, HR 76.",
   "Lab order {N:order} for patient id {MEDICAL_RECORD_NUMBER}, collected at {N:ts}. Result portal: {URL}",
   "NHS number {UK_NHS} for {PERSON}, GP surgery notified. National Insurance {UK_NINO}.",
  ],
  'bank': [
   "Hi, I'm {PERSON}. My card {CREDIT_CARD} was declined at the pharmacy yesterday, can you check?",
   "Please wire the refund to IBAN {IBAN}, account holder {PERSON}.",
   "Routing number {US_BANK_ROUTING}, account number {BANK_ACCOUNT}. Amount {N:amount}, reference {N:order}.",
   "My ITIN is {US_ITIN} and I want to open a savings account. Call me at {PHONE}.",
   "Send it to my wallet {CRYPTO_WALLET} please, not the old one.",
   "Customer {PERSON} disputes transaction {N:order} of {N:amount}; card ending shown in app. Email {EMAIL}.",
  ],
  'loan': [
   "Loan application: Name: {PERSON}; Date of birth: {DATE_OF_BIRTH}; SSN: {US_SSN}; Address: {ADDRESS}, {LOCATION}, [[LOCATION:TX]] {POSTAL_CODE}.",
   "Applicant passport number {US_PASSPORT}, driver's license {US_DRIVER_LICENSE}, phone {PHONE}.",
   "Co-applicant {PERSON}, employer verified. Annual income {N:amount}. Contact {EMAIL}.",
  ],
  'support': [
   "Our app v{N:version} crashes on login. Request id {N:uuid}, commit {N:sha}. Logged from IP {IP_ADDRESS}.",
   "Here is my config: api_key={SECRET} and it still fails with 401.",
   "The token {SECRET} was pasted by mistake, please rotate it. Ticket {N:order}.",
   "User {PERSON} ({EMAIL}) cannot reset the password; last seen {N:ts} from {IP_ADDRESS}.",
  ],
  'negative': [
   "Build {N:version} shipped at {N:ts}; checksum {N:sha}. Order {N:order} total {N:amount}.",
   "Tracking number {N:tracking} for order {N:order}; reference {N:uuid}.",
   "The test card {N:badcard} is rejected as expected. Invoice {N:order}.",
   "IBAN check failed for {N:badiban}; please correct the check digits.",
   "Placeholder SSN {N:badssn} is not valid and must be rejected by the form.",
   "Run id {N:digits} finished at {N:ts} with version {N:version}.",
   "The NHS-style number {N:badnhs} failed its checksum and was ignored.",
   "Metformin 500 mg twice daily, Lisinopril 10 mg once daily; HbA1c 7.2% at {N:ts}.",
   "Release notes for version {N:version}: fixed a memory leak in the scheduler, see build {N:digits}.",
   "Meeting at Conference Room B after lunch, agenda item {N:order}, budget {N:amount}.",
  ],
 },
 'de': {
  'clinical': [
   "Patient: {PERSON}, geb. {DATE_OF_BIRTH}, Patientennummer {MEDICAL_RECORD_NUMBER}. Aufnahme wegen Dyspnoe.",
   "Arztbrief für [[TITLE:Frau]] {PERSON}, wohnhaft {ADDRESS}, {POSTAL_CODE} {LOCATION}. Telefon {PHONE}.",
   "Entlassung am {DATE}. Rückfragen an {EMAIL}. Versichertennummer {HEALTH_PLAN_ID}.",
  ],
  'bank': [
   "Bitte überweisen Sie den Betrag auf IBAN {IBAN}, Kontoinhaber {PERSON}.",
   "Meine Steuer-ID ist {DE_TAX_ID}, meine Kreditkarte {CREDIT_CARD}.",
   "Rückruf bitte unter {PHONE}, Auftragsnummer {N:order}, Betrag {N:amount}.",
  ],
  'support': [
   "Version {N:version} stürzt ab, Fehler-ID {N:uuid}, Zeitstempel {N:ts}. Nutzer {EMAIL}.",
  ],
  'negative': [
   "Lieferung {N:order} wurde am {N:ts} versendet, Sendungsnummer {N:tracking}.",
   "Die IBAN {N:badiban} ist ungültig, bitte Prüfziffer korrigieren.",
   "Software-Version {N:version}, Prüfsumme {N:sha}, Betrag {N:amount}.",
  ],
 },
 'fr': {
  'clinical': [
   "Patient : M. {PERSON}, né le {DATE_OF_BIRTH}, numéro de sécurité sociale {FR_NIR}.",
   "Compte rendu pour [[TITLE:Mme]] {PERSON}, domiciliée au {ADDRESS}, {POSTAL_CODE} {LOCATION}. Téléphone {PHONE}.",
   "Hospitalisée le {DATE} ; contact {EMAIL}. Numéro de dossier {MEDICAL_RECORD_NUMBER}.",
  ],
  'bank': [
   "Merci de virer le remboursement sur l'IBAN {IBAN} au nom de {PERSON}.",
   "Ma carte {CREDIT_CARD} a été débitée deux fois, commande {N:order}.",
  ],
  'support': [
   "Erreur dans la version {N:version}, identifiant {N:uuid}, adresse IP {IP_ADDRESS}.",
  ],
  'negative': [
   "Commande {N:order} expédiée le {N:ts}, montant {N:amount}, suivi {N:tracking}.",
   "Version {N:version} publiée, empreinte {N:sha}.",
  ],
 },
 'es': {
  'clinical': [
   "Paciente: {PERSON}, fecha de nacimiento {DATE_OF_BIRTH}, DNI {ES_DNI}. Historia clínica {MEDICAL_RECORD_NUMBER}.",
   "Informe de alta de {PERSON}, domicilio {ADDRESS}, {POSTAL_CODE} {LOCATION}. Teléfono {PHONE}.",
   "Ingreso el {DATE}; correo {EMAIL}; póliza {HEALTH_PLAN_ID}.",
  ],
  'bank': [
   "Por favor transfiera a la cuenta IBAN {IBAN}, titular {PERSON}.",
   "Mi tarjeta {CREDIT_CARD} fue rechazada, pedido {N:order}. Llámeme al {PHONE}.",
   "Codice fiscale del cliente italiano: {IT_FISCAL_CODE}.",
  ],
  'support': [
   "La versión {N:version} falla con el error {N:uuid}; IP {IP_ADDRESS}.",
  ],
  'negative': [
   "Pedido {N:order} enviado el {N:ts}, importe {N:amount}, seguimiento {N:tracking}.",
   "La versión {N:version} tiene la suma {N:sha}.",
  ],
 },
}

NONLATIN = [
 ("zh", "患者联系电话 {PHONE}，邮箱 {EMAIL}，银行卡 {CREDIT_CARD}。"),
 ("ja", "お問い合わせは {EMAIL} まで。カード番号 {CREDIT_CARD} は無効です。"),
 ("ru", "Пациент: {PERSON_RU}, телефон {PHONE}, почта {EMAIL}."),
 ("ar", "رقم البطاقة {CREDIT_CARD} والبريد الإلكتروني {EMAIL}."),
 ("el", "Τηλέφωνο επικοινωνίας {PHONE}, IBAN {IBAN}."),
 ("zh", "订单号 {N:order}，版本 {N:version}，时间 {N:ts}。"),
 ("ru", "Заказ {N:order}, сумма {N:amount}, версия {N:version}."),
]
RU_NAMES = ['Иван Петров', 'Анна Смирнова', 'Сергей Иванов', 'Мария Кузнецова', 'Дмитрий Соколов']

import re
SLOT = re.compile(r'\{([A-Z_]+|N):?([a-z]*)\}')

def fill(template, lang):
    out, spans, pos = '', [], 0
    for m in SLOT.finditer(template):
        out += template[pos:m.start()]
        kind, key = m.group(1), m.group(2)
        if kind == 'N':
            out += NEG[key]()
        else:
            if kind == 'PERSON_RU': val, typ = R.choice(RU_NAMES), 'PERSON'
            elif kind in GEN: val, typ = GEN[kind](), kind
            else: val, typ = LGEN[kind]('en' if lang not in LAST else lang), kind
            src = 'lexicon'
            if isinstance(val, tuple): val, src = val
            span = {'type': typ, 'start': len(out.encode()), 'end': len((out + val).encode())}
            if typ in ('PERSON', 'ADDRESS', 'LOCATION'): span['src'] = src
            spans.append(span)
            out += val
        pos = m.end()
    out += template[pos:]
    # Literal labels written into a template: [[TYPE:value]].
    while '[[' in out:
        i = out.index('[['); j = out.index(']]', i); typ, val = out[i + 2:j].split(':', 1)
        shift = len(val.encode()) - len(out[i:j + 2].encode())
        start = len(out[:i].encode())
        for sp in spans:
            if sp['start'] > start: sp['start'] += shift; sp['end'] += shift
        spans.append({'type': typ, 'start': start, 'end': start + len(val.encode())})
        out = out[:i] + val + out[j + 2:]
    spans.sort(key=lambda sp: sp['start'])
    return out, merge_addresses(out, spans)

def merge_addresses(text, spans):
    """An address is one span from the street to the country: a postal code or place that follows an address,
    separated only by a comma, spaces or a line break, belongs to it."""
    b = text.encode()
    out = []
    for sp in spans:
        if out and out[-1]['type'] == 'ADDRESS' and sp['type'] in ('POSTAL_CODE', 'LOCATION') and \
                b[out[-1]['end']:sp['start']].decode().strip(' ,\n') == '':
            out[-1]['end'] = sp['end']
            continue
        out.append(dict(sp))
    return out

cases = []
i = 0
for rep in range(10):
    for lang, domains in T.items():
        for domain, temps in domains.items():
            for t in temps:
                text, spans = fill(t, lang)
                cases.append({'id': 'c%04d' % i, 'lang': lang, 'domain': domain, 'text': text, 'spans': spans, 'hard_negative': not spans})
                i += 1
for rep in range(8):
    for lang, t in NONLATIN:
        text, spans = fill(t, lang)
        cases.append({'id': 'c%04d' % i, 'lang': lang, 'domain': 'nonlatin', 'text': text, 'spans': spans, 'hard_negative': not spans})
        i += 1
for c in cases:
    print(json.dumps(c, ensure_ascii=False))
