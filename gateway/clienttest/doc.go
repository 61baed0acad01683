// Package clienttest holds the end-to-end suite that runs real client
// libraries from npm (openai-node, @anthropic-ai/sdk, the Vercel AI SDK, the
// OpenAI Agents SDK, LangChain), at the versions pinned in node/
// package-lock.json, against a real gateway in front of the provider
// simulators, all on the loopback interface. Each scenario runs one Node
// script that uses its library as that library documents, with only the
// base URL and key changed, and the Go test checks what the client saw
// (content, usage, request id) against what the simulator scripted and what
// Custos recorded, and what the simulator received (no PII).
//
// It needs node_modules: run `npm ci` in node/. A missing dependency fails
// the suite. The package has no API; it must never reach beyond 127.0.0.1
// (the scripts load a guard that refuses any other connection).
package clienttest
