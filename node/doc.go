// Package node is the storage node: an HTTP server (Server) exposing a
// store.Store over the protocol of package store/remote, the node's
// lifecycle (Run: open drives, serve, register and heartbeat to the
// metadata service, scrub), the background Scrubber, and the "objd node"
// command line (Main).
package node
