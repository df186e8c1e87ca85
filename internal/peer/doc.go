// Package peer connects QBC nodes into a network: node identity (an
// Ed25519 key in the data directory), signed envelopes with time and replay
// protection for every node-to-node message, discovery and liveness of
// peers, gossip of transactions and quants, and sync of the heaviest chain.
//
// Nodes talk over HTTP (POST /p2p/v1 on the node's API address): the body
// is an envelope signed by the sender and addressed to the receiver, and so
// is the answer. Nothing a peer sends is trusted before the envelope checks
// pass, and its content is given to the node (Host), which validates it as
// it would a client's. See docs/security.md for the threat model.
package peer
