// Package envelope is what a node needs to know of encrypted values,
// without any cryptography: JSON pointers (RFC 6901) naming fields of a
// transaction's JSON data, the form an encrypted field takes ("age:" and
// the base64 of an age file), a structural check of an age file's header,
// and the bounded decoding of JSON documents these work on.
//
// A node checks that the fields a chain's rules list are encrypted
// (CheckFields) and applies the chain's schema to the rest (Strip); it can
// never decrypt them, so this package holds no keys and imports no
// cryptographic library. The encryption itself is package encrypt's, on
// the client.
//
// The check is structural: a value that passes looks like an age file (the
// version line, at least one recipient stanza, a MAC line, a payload at
// least as long as the smallest age payload). It cannot tell whether the
// writer encrypted the field to anyone who can read it, or hid plaintext
// in a stanza's arguments: the writer of a field decides who may read it,
// and a writer who wants to leak its own data can always do so. What the
// check stops is the honest mistake, a client that forgot to encrypt.
package envelope
