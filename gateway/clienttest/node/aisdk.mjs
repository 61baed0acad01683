// The Vercel AI SDK against Custos: the providers' base URL (and the app key)
// change. openai(...) is the Responses API, openai.chat(...) chat
// completions, anthropic(...) the Messages API.
import { env, recordingFetch, run } from './lib.mjs';
import { generateText, streamText } from 'ai';
import { createOpenAI } from '@ai-sdk/openai';
import { createAnthropic } from '@ai-sdk/anthropic';

globalThis.AI_SDK_LOG_WARNINGS = false;

const openai = createOpenAI({ baseURL: env.baseURL, apiKey: env.key, fetch: recordingFetch });
const anthropic = createAnthropic({ baseURL: env.baseURL, apiKey: env.key, fetch: recordingFetch });
const models = {
  openai: () => openai(env.model),
  'openai.chat': () => openai.chat(env.model),
  anthropic: () => anthropic(env.model),
};

async function generate(model) {
  const r = await generateText({ model: models[model](), system: 'Be brief.', prompt: env.prompt, maxRetries: 0 });
  return { content: r.text, usage: usage(r.usage), sdk_request_id: requestID(r.response.headers) };
}

async function stream(model) {
  let failure;
  const r = streamText({
    model: models[model](),
    system: 'Be brief.',
    prompt: env.prompt,
    maxRetries: 0,
    onError: ({ error }) => { failure = error; },
  });
  let content = '';
  for await (const part of r.textStream) content += part;
  if (failure) throw failure;
  const response = await r.response;
  return { content, usage: usage(await r.usage), sdk_request_id: requestID(response.headers) };
}

run({
  'openai.generateText': () => generate('openai'),
  'openai.streamText': () => stream('openai'),
  'openai.chat.generateText': () => generate('openai.chat'),
  'openai.chat.streamText': () => stream('openai.chat'),
  'anthropic.generateText': () => generate('anthropic'),
  'anthropic.streamText': () => stream('anthropic'),
});

function usage(u) {
  return { input: u.inputTokens, output: u.outputTokens };
}

// requestID is the id the SDK hands its user: the response headers it
// exposes, under the provider's name for them.
function requestID(headers = {}) {
  return headers['x-request-id'] ?? headers['request-id'] ?? '';
}
