// Package router is where the IM core meets its transports.
//
// It declares the small Session interface every transport implements (c2s
// today; WebSocket and server-to-server later), the Core interface every
// transport hands its sessions and stanzas to, and the Registry of bound
// sessions the core routes with. It knows nothing of the event log or of
// any transport's wire: a transport is a Session plus a reader that calls
// Core.
//
// Tiers: router imports only stanza and events (for the vocabulary of a
// session's end); im, and every transport, import router.
package router
