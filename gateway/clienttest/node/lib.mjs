// What every scenario script shares: its settings from the environment, a
// fetch that records the ids Custos answered with, and the one JSON line of
// what the script observed.
import './guard.mjs';

export const env = {
  baseURL: must('BASE_URL'), // Custos, with /v1
  key: must('KEY'),
  model: process.env.MODEL ?? '',
  prompt: process.env.PROMPT ?? '',
  scenario: must('SCENARIO'),
};

// origin is Custos without /v1, for the Anthropic SDK (it appends /v1).
env.origin = env.baseURL.replace(/\/v1\/?$/, '');

function must(name) {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
}

// exchanges holds, per HTTP exchange the library made, what its response
// headers said.
export const exchanges = [];

// recordingFetch is handed to each library as its fetch.
export async function recordingFetch(input, init) {
  const res = await fetch(input, init);
  const url = new URL(typeof input === 'string' || input instanceof URL ? input : input.url);
  exchanges.push({
    method: (init?.method ?? input?.method ?? 'GET').toUpperCase(),
    path: url.pathname,
    status: res.status,
    custos_request_id: res.headers.get('x-custos-request-id') ?? '',
    x_request_id: res.headers.get('x-request-id') ?? '',
    request_id: res.headers.get('request-id') ?? '',
  });
  return res;
}

// run runs the scenario named by SCENARIO from scenarios (name → async
// function returning the observation) and prints one JSON line; an
// exception is printed as the line's error and exits non-zero.
export async function run(scenarios) {
  const fn = scenarios[env.scenario];
  try {
    if (!fn) throw new Error(`unknown scenario ${env.scenario}`);
    const obs = await fn();
    emit({ ...obs, exchanges });
  } catch (e) {
    emit({ error: `${e?.name ?? 'Error'}: ${e?.message ?? e}`, status: e?.status ?? 0, exchanges });
    process.exitCode = 1;
  }
}

function emit(obj) {
  obj.refused = globalThis.__custosGuard.refused;
  process.stdout.write(JSON.stringify(obj) + '\n');
}
