// The OpenAI Agents SDK against Custos: its default OpenAI client gets the
// base URL (and the app key); tracing export is off.
import { env, recordingFetch, run as runScenario } from './lib.mjs';
import OpenAI from 'openai';
import { Agent, run, tool, setDefaultOpenAIClient, setOpenAIAPI, setTracingDisabled } from '@openai/agents';
import { z } from 'zod';

setTracingDisabled(true);
setDefaultOpenAIClient(new OpenAI({ baseURL: env.baseURL, apiKey: env.key, fetch: recordingFetch, maxRetries: 0, timeout: 10_000 }));

const getWardStatus = tool({
  name: 'get_ward_status',
  description: 'Current bed occupancy of a ward',
  parameters: z.object({ ward: z.string() }),
  execute: async ({ ward }) => JSON.stringify({ ward, beds_free: 3 }),
});

async function runWithTool() {
  const agent = new Agent({ name: 'Ward assistant', instructions: 'Be brief.', model: env.model, tools: [getWardStatus] });
  const result = await run(agent, env.prompt, { maxTurns: 4 });
  const calls = result.newItems
    .filter((item) => item.type === 'tool_call_item')
    .map((item) => ({ name: item.rawItem.name, arguments: item.rawItem.arguments }));
  const u = result.state.usage;
  return {
    content: String(result.finalOutput),
    usage: { input: u.inputTokens, output: u.outputTokens },
    tool_calls: calls,
    sdk_request_id: result.rawResponses.at(-1)?.requestId ?? '',
  };
}

runScenario({
  // The SDK's default: the Responses API.
  'run.tool': () => runWithTool(),
  'run.tool.chat': () => {
    setOpenAIAPI('chat_completions');
    return runWithTool();
  },
});
