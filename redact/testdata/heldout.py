#!/usr/bin/env python3
"""Converts the hand-written cases (inline [[TYPE:value]] labels, one case per line) to JSONL with byte offsets:
heldout.txt → heldout.jsonl (domain "heldout") and organizations.txt → organizations.jsonl (domain "orgdev").
Run from the repository root: python3 redact/testdata/heldout.py"""
import re, json


def convert(src, dst, domain, prefix):
    out = []
    for n, line in enumerate(open(src, encoding='utf-8')):
        line = line.rstrip('\n')
        if not line or line.startswith('#'):
            continue
        text, spans, pos = '', [], 0
        for m in re.finditer(r'\[\[([A-Z_]+):(.*?)\]\]', line):
            text += line[pos:m.start()]
            typ, val = m.group(1), m.group(2)
            if typ == 'DATE' and val.startswith('admission on '):
                text += 'admission on '
                val = val[len('admission on '):]
            spans.append({'type': typ, 'start': len(text.encode()), 'end': len((text + val).encode())})
            text += val
            pos = m.end()
        text += line[pos:]
        merged = []
        for sp in spans:  # an address is one span from the street to the country
            if merged and merged[-1]['type'] == 'ADDRESS' and sp['type'] in ('POSTAL_CODE', 'LOCATION') and \
                    text.encode()[merged[-1]['end']:sp['start']].decode().strip(' ,') == '':
                merged[-1]['end'] = sp['end']
            else:
                merged.append(sp)
        spans = merged
        out.append({'id': '%s%03d' % (prefix, n), 'lang': 'mixed', 'domain': domain, 'text': text, 'spans': spans,
                    'hard_negative': not spans})
    with open(dst, 'w') as f:
        for c in out:
            f.write(json.dumps(c, ensure_ascii=False) + '\n')


convert('redact/testdata/heldout.txt', 'redact/testdata/heldout.jsonl', 'heldout', 'h')
convert('redact/testdata/organizations.txt', 'redact/testdata/organizations.jsonl', 'orgdev', 'o')
