// openai-node against Custos: only the base URL (and the app key) change.
import { env, recordingFetch, run } from './lib.mjs';
import OpenAI from 'openai';

const client = new OpenAI({ baseURL: env.baseURL, apiKey: env.key, fetch: recordingFetch, maxRetries: 0, timeout: 10_000 });
const system = 'Be brief.';

const wardTool = {
  type: 'function',
  name: 'get_ward_status',
  description: 'Current bed occupancy of a ward',
  parameters: { type: 'object', properties: { ward: { type: 'string' } }, required: ['ward'], additionalProperties: false },
  strict: true,
};

const wardSchema = {
  type: 'object',
  properties: { ward: { type: 'string' }, beds_free: { type: 'integer' } },
  required: ['ward', 'beds_free'],
  additionalProperties: false,
};

run({
  async 'chat.completions'() {
    const c = await client.chat.completions.create({
      model: env.model,
      messages: [{ role: 'system', content: system }, { role: 'user', content: env.prompt }],
    });
    return { content: c.choices[0].message.content, usage: chatUsage(c.usage), sdk_request_id: c._request_id };
  },

  async 'chat.completions.stream'() {
    const { data: stream, request_id } = await client.chat.completions
      .create({
        model: env.model,
        messages: [{ role: 'system', content: system }, { role: 'user', content: env.prompt }],
        stream: true,
        stream_options: { include_usage: true },
      })
      .withResponse();
    let content = '';
    let usage;
    for await (const chunk of stream) {
      content += chunk.choices[0]?.delta?.content ?? '';
      if (chunk.usage) usage = chatUsage(chunk.usage);
    }
    return { content, usage, sdk_request_id: request_id };
  },

  async 'models.list'() {
    const { data: page, request_id } = await client.models.list().withResponse();
    return { models: page.data.map((m) => m.id), sdk_request_id: request_id };
  },

  async 'models.retrieve'() {
    const m = await client.models.retrieve(env.model);
    return { model: { id: m.id, object: m.object, owned_by: m.owned_by }, sdk_request_id: m._request_id };
  },

  async 'responses.create'() {
    const r = await client.responses.create({ model: env.model, instructions: system, input: env.prompt });
    return { content: r.output_text, usage: responsesUsage(r.usage), sdk_request_id: r._request_id };
  },

  async 'responses.stream'() {
    const { data: stream, request_id } = await client.responses
      .create({ model: env.model, instructions: system, input: env.prompt, stream: true })
      .withResponse();
    let content = '';
    let usage;
    const events = [];
    for await (const ev of stream) {
      if (!events.includes(ev.type)) events.push(ev.type);
      if (ev.type === 'response.output_text.delta') content += ev.delta;
      if (ev.type === 'response.completed') usage = responsesUsage(ev.response.usage);
      if (ev.type === 'error' || ev.type === 'response.failed') throw new Error(`stream event ${ev.type}`);
    }
    return { content, usage, events, sdk_request_id: request_id };
  },

  async 'responses.tool'() {
    const input = [{ role: 'user', content: env.prompt }];
    const first = await client.responses.create({ model: env.model, instructions: system, input, tools: [wardTool] });
    const call = first.output.find((item) => item.type === 'function_call');
    if (!call) throw new Error('the first response called no function');
    const output = JSON.stringify({ ward: JSON.parse(call.arguments).ward, beds_free: 3 });
    const second = await client.responses.create({
      model: env.model,
      instructions: system,
      input: [...input, ...first.output, { type: 'function_call_output', call_id: call.call_id, output }],
      tools: [wardTool],
    });
    return {
      content: second.output_text,
      usage: responsesUsage(second.usage),
      tool_calls: [{ name: call.name, arguments: call.arguments }],
      sdk_request_id: second._request_id,
    };
  },

  async 'responses.json_schema'() {
    const r = await client.responses.create({
      model: env.model,
      instructions: system,
      input: env.prompt,
      text: { format: { type: 'json_schema', name: 'ward_status', schema: wardSchema, strict: true } },
    });
    JSON.parse(r.output_text); // the answer must be the JSON the schema asked for
    return { content: r.output_text, usage: responsesUsage(r.usage), sdk_request_id: r._request_id };
  },

  // PROMPT is a JSON list of calls, each a list of inputs.
  async 'embeddings.create'() {
    const embeddings = [];
    let e;
    for (const input of JSON.parse(env.prompt)) {
      e = await client.embeddings.create({ model: env.model, input });
      embeddings.push(...e.data.map((d) => Array.from(d.embedding)));
    }
    return {
      embeddings,
      usage: { input: e.usage.prompt_tokens, output: e.usage.total_tokens - e.usage.prompt_tokens },
      sdk_request_id: e._request_id,
    };
  },
});

function chatUsage(u) {
  return u ? { input: u.prompt_tokens, output: u.completion_tokens } : undefined;
}

function responsesUsage(u) {
  return u ? { input: u.input_tokens, output: u.output_tokens } : undefined;
}
