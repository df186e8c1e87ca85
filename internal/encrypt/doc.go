// Package encrypt encrypts values to their readers on the client, with age
// (filippo.io/age, age-encryption.org/v1), so that a chain, whose every
// node holds every byte, stores only ciphertext of what its writers want
// kept private.
//
// # Keys
//
// A reader is named by a recipient (ParseRecipients): the hex Ed25519
// public key 'qbc keys public' prints, the same key as an
// "ssh-ed25519 AAAA..." line, or an age X25519 recipient ("age1...").
// Ed25519 keys are converted to X25519 as age's ssh-ed25519 recipients do
// (agessh), so a key made by 'qbc keys new' both signs and reads. A reader
// decrypts with an identity (LoadIdentity): a qbc key file or an age
// identity file ("AGE-SECRET-KEY-1...").
//
// # Formats
//
// A whole value is encrypted to an age file in its binary form (Encrypt),
// stored as a transaction's bytes payload; IsEncrypted recognises one by
// its header. A field of a JSON document, named by a JSON pointer (RFC
// 6901, "/patient/name"), is encrypted in place (EncryptFields): its value,
// as compact JSON, is encrypted to an age file and replaced by the JSON
// string "age:" + the standard base64 of that file. The rest of the
// document stays readable, so a chain's schema can check it.
// DecryptFields decrypts every such string the identities can open.
// Package envelope holds the part a node needs (pointers, the field form,
// the structural header check) without any cryptography, so that a node
// does not import age.
//
// # Threat model
//
// A node operator, or anyone who reads a node's disk, logs, metrics or
// API, sees an encrypted value's ciphertext, its size (within age's 64 KiB
// chunks: exact length), and each recipient stanza: for ssh-ed25519
// recipients a 4-byte tag of the reader's public key (so readers of
// different values can be linked by whoever knows their keys); the number
// of readers; which fields are encrypted, and everything not encrypted
// (the transaction's signer, time, chain). They cannot read the value or
// change it unnoticed (age authenticates the payload; a signed transaction
// also covers the ciphertext). A reader can read every value encrypted to
// it, forever: there is no revocation, and a key that leaks opens every
// value ever encrypted to it. Encryption is not signing: anyone can
// encrypt to a reader, so who wrote a value is the transaction's
// signature's to say. The node checks that a chain's listed fields are
// encrypted (envelope.CheckFields), which stops a client that forgot to
// encrypt, not a writer who chooses to leak its own data.
//
// Every decoder here is bounded: recipient and identity files by size,
// pointers by length and depth, documents by size and nesting
// (envelope.MaxDocSize, envelope.MaxDepth), age files by the caller's
// buffer and age's own limits.
package encrypt
