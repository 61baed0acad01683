// LangChain's ChatOpenAI against Custos: the client configuration's base URL
// (and the app key) change. Tracing is off (LANGSMITH_TRACING=false).
import { env, exchanges, recordingFetch, run } from './lib.mjs';
import { ChatOpenAI } from '@langchain/openai';

function chat(useResponsesApi) {
  return new ChatOpenAI({
    model: env.model,
    apiKey: env.key,
    maxRetries: 0,
    useResponsesApi,
    configuration: { baseURL: env.baseURL, fetch: recordingFetch },
  });
}

async function invoke(useResponsesApi) {
  const msg = await chat(useResponsesApi).invoke([['system', 'Be brief.'], ['human', env.prompt]]);
  const u = msg.usage_metadata;
  return {
    content: msg.text,
    usage: u ? { input: u.input_tokens, output: u.output_tokens } : undefined,
    // LangChain hands its user no request id: this is the header its
    // client received.
    sdk_request_id: exchanges.at(-1)?.x_request_id ?? '',
  };
}

// stream concatenates the chunks, as LangChain's docs show; the last
// carries the usage.
async function stream(useResponsesApi) {
  let acc;
  for await (const chunk of await chat(useResponsesApi).stream([['system', 'Be brief.'], ['human', env.prompt]])) {
    acc = acc ? acc.concat(chunk) : chunk;
  }
  const u = acc.usage_metadata;
  return {
    content: acc.text,
    usage: u ? { input: u.input_tokens, output: u.output_tokens } : undefined,
    sdk_request_id: exchanges.at(-1)?.x_request_id ?? '',
  };
}

run({
  'chat.invoke': () => invoke(false),
  'chat.stream': () => stream(false),
  'responses.invoke': () => invoke(true),
});
