// Writes the name, place, street and company lists of every locale of npm @faker-js/faker (MIT) as JSON on
// stdout, the input of the build command: node dump-faker.mjs > faker.json (run where the package is installed).
import { allLocales } from '@faker-js/faker';
const out = {};
const flat = (v) => {
  if (v == null) return [];
  if (typeof v === 'string') return [v];
  if (Array.isArray(v)) return v.flatMap(flat);
  if (typeof v === 'object') return Object.values(v).flatMap(flat);
  return [];
};
for (const [name, loc] of Object.entries(allLocales)) {
  const o = {};
  const p = loc.person || {}, l = loc.location || {}, c = loc.company || {};
  o.first = flat(p.first_name); o.last = flat(p.last_name); o.middle = flat(p.middle_name);
  o.prefix = flat(p.prefix);
  o.city = flat(l.city_name); o.city_prefix = flat(l.city_prefix); o.city_suffix = flat(l.city_suffix);
  o.street_suffix = flat(l.street_suffix); o.street_prefix = flat(l.street_prefix); o.street_name = flat(l.street_name);
  o.state = flat(l.state); o.state_abbr = flat(l.state_abbr); o.county = flat(l.county); o.country = flat(l.country);
  o.secondary = flat(l.secondary_address); o.postcode = flat(l.postcode); o.building = flat(l.building_number);
  o.street_pattern = flat(l.street_pattern); o.street_address = flat(l.street_address);
  o.company_suffix = flat(c.suffix); o.company_name = flat(c.name); o.company_pattern = flat(c.name_pattern);
  o.company_legal = flat(c.legal_entity_type);
  o.words = flat(loc.word).concat(flat((loc.animal || {}).type), flat((loc.color || {}).human), flat((loc.commerce || {}).department));
  out[name] = o;
}
process.stdout.write(JSON.stringify(out));
