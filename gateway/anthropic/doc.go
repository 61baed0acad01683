// Package anthropic owns the Anthropic Messages wire format as Custos speaks
// it: translating OpenAI chat completion requests to Messages requests and
// their answers back (plain and streamed, tool calls included) for Anthropic
// endpoints, and the reverse for apps that call Custos's /v1/messages with
// the Anthropic SDK. Custos's pipeline works on the OpenAI form; this package
// converts at the edges.
//
// It must never log or put request or answer text into an error.
package anthropic
