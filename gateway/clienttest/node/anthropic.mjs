// @anthropic-ai/sdk against Custos: only the base URL (and the app key) change.
import { env, recordingFetch, run } from './lib.mjs';
import Anthropic from '@anthropic-ai/sdk';

const client = new Anthropic({ baseURL: env.origin, apiKey: env.key, fetch: recordingFetch, maxRetries: 0, timeout: 10_000 });
const request = () => ({
  model: env.model,
  max_tokens: 256,
  system: 'Be brief.',
  messages: [{ role: 'user', content: env.prompt }],
});

run({
  async 'messages.create'() {
    const m = await client.messages.create(request());
    return { content: text(m), usage: usage(m.usage), sdk_request_id: m._request_id };
  },

  async 'messages.stream'() {
    const stream = client.messages.stream(request());
    const m = await stream.finalMessage();
    return { content: text(m), usage: usage(m.usage), sdk_request_id: stream.request_id };
  },

  async 'messages.countTokens'() {
    const { max_tokens, ...params } = request();
    const r = await client.messages.countTokens(params);
    return { usage: { input: r.input_tokens, output: 0 }, sdk_request_id: r._request_id };
  },

  async 'models.list'() {
    const { data: page, request_id } = await client.models.list().withResponse();
    return { models: page.data.map((m) => m.id), listed: page.data.map(modelInfo), sdk_request_id: request_id };
  },

  async 'models.retrieve'() {
    const m = await client.models.retrieve(env.model);
    return { model: modelInfo(m), sdk_request_id: m._request_id };
  },
});

function text(m) {
  return m.content.filter((b) => b.type === 'text').map((b) => b.text).join('');
}

function usage(u) {
  return { input: u.input_tokens, output: u.output_tokens };
}

function modelInfo(m) {
  return { id: m.id, type: m.type, display_name: m.display_name, created_at: m.created_at };
}
