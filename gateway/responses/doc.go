// Package responses owns the OpenAI Responses API (POST /v1/responses) as
// Custos speaks it:
//
//   - FromDoc checks a request tree (the one strict jsondoc parse) and reads
//     the facts the pipeline and the policy need: model, stream, store, the
//     references to provider-side state (previous_response_id, conversation,
//     item_reference, stored prompts), tools, text format, reasoning.
//   - Rules tell the jsondoc walker what every field of the tree is, so that
//     every string, number and key is inspected: function call arguments
//     and JSON tool outputs are walked as documents of their own, encrypted
//     reasoning and base64 files are counted uninspectable, media parts
//     likewise, and a case variant of a known key is refused.
//   - ToChat translates a redacted request into a chat completions body for
//     endpoints that do not serve the Responses API; FromChat and
//     StreamFromChat turn their chat answers back into a response object and
//     the typed stream events, in the order the real API sends them.
//   - ReadUsage and StreamRestorer serve endpoints that answer the Responses
//     API natively: token counts from a response or its final event, and
//     pseudonyms restored in typed events, text split across deltas
//     included.
//
// Decisions worth knowing: reasoning items pass to native endpoints; their
// summaries are inspected as text and their encrypted_content is counted
// uninspectable (it is readable only by the provider). ToChat drops
// reasoning items, which chat cannot carry. References to provider-side
// state are facts here, refused by the caller per policy (StateError) and
// always refused by ToChat, since a chat endpoint cannot resolve them.
// Background mode is refused outright: Custos serves no route to fetch a
// response later.
//
// The package keeps no state between requests and never sees sessions:
// restoration goes through the small Restorer interface. It must never log,
// and never put request or answer text into an error: errors name fields
// (as this package spells them, with indices) and known enum values, never
// a value or a key the caller chose.
package responses
