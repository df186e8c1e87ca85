// Package store keeps QBC chains on disk, in Pebble. It is the only package
// that imports Pebble.
//
// A DB holds any number of chains; Chain returns a cheap handle on one of
// them, and DeleteChain removes one (its keys, its entry in the chains
// list and its committed-tip record). Each chain keeps every quant it is given (main chain and side
// branches), a main chain (a height index and a tip), and an index from
// transaction id to where the transaction sits on the main chain.
//
// The chain package owns the domain types and the interfaces: *Chain
// implements chain.Reader, chain.Writer (so chain.Store) and chain.Stored,
// and takes and returns chain.Entry, chain.Meta and chain.Location. Lookups
// of what is not stored return an error wrapping chain.ErrNotFound (this
// package's ErrNotFound is the same value). This package keeps the
// encodings of those types (the key layout below); store imports chain,
// never the other way round.
//
// # Durability
//
// Everything Connect and Reorg change is written in one Pebble batch that is
// committed with Sync (the write-ahead log is fsynced before they return).
// After a crash at any moment a reopened DB is at the tip of the last Connect
// or Reorg that returned, or of one that was under way: never between two,
// with nothing committed lost and nothing half written visible. Save writes
// one batch without Sync: the quant is either wholly stored or not at all,
// and it becomes durable at the next synced commit. Writes to one chain are
// serialized; Pebble fsyncs the commits of different chains together.
//
// A chain whose commits are kept durably elsewhere (a Raft chain: its log
// is fsynced first and replayed after a crash) may DeferSync: its Connect
// and Reorg are then written without Sync, a crash can take the last of
// them away (never half of one), and they become durable at its owner's
// Sync, at the DB's own sync about once a second, or at Close.
//
// A damaged write-ahead log can take commits away unseen by Pebble: it
// cannot tell a flipped bit in its newest log from a crash's torn tail, and
// drops what follows. So each Connect and Reorg also counts itself (the 'c'
// key, in the same batch), and the count and the tip are written after the
// commit to a small file per chain outside Pebble, DIR/committed/<chain id>.
// Open compares the two: a chain whose store holds fewer commits than its
// record is logged at error level, reported by CheckCommitted as a
// *LostError (ErrLost), and refused further commits. committed.go explains
// the design and what it guarantees after a crash or a power loss; the
// record adds no fsync to a commit.
//
// The store checks linkage (a connected quant's parent is the tip, a reorg's
// lists join up) and shape (a meta's height is its header's, a header's
// transaction count is its body's) but not consensus rules: the chain package
// validates quants before it gives them here. In particular the store does
// not check that transaction ids are unique on the main chain; the chain must
// (quant.CodeDuplicate). A duplicate would leave the index pointing at the
// later copy (lookups return the newest entry when a duplicate lands in
// another epoch).
//
// # Key layout
//
// All integers are big-endian unless marked uvarint. H is a 32-byte quant
// hash, C a 32-byte chain id (the hash of the chain's bang), T a 32-byte
// transaction id.
//
//	0x00                     store format version: uvarint (4)
//	0x01 C                   a chain with a stored bang: empty value
//	0x02 C 'q' H             quant record: u8 version (1), uvarint txs (on the branch), uvarint len(work),
//	                         work (big-endian magnitude), uvarint len(header),
//	                         canonical header, then for a bang its rules
//	0x02 C 'p' u64(height) H u32(i)
//	                         a page of quant H at height: its transactions up to the
//	                         i-th (from 0), from the one after the page before, each a
//	                         uvarint length and the canonical encoding, about 32 KiB of
//	                         them (pages.go); height first,
//	                         so that a growing chain appends its transactions at the
//	                         end of the key space. Format versions 1 to 3 kept one
//	                         transaction per key ('t'; version 1 without the height);
//	                         upgrade.go moves such keys into pages
//	0x02 C 'n' u64(height)   main chain: hash at height: H (from the bang's height: 0,
//	                         or a fork's fork point height)
//	0x02 C 'x' u32(epoch) T  main chain: where transaction T is: uvarint height, uvarint
//	                         index (epoch: the count of transactions on the chain before
//	                         its quant, >> 20, so that new entries sort together; a lookup
//	                         by id tries each epoch, newest first; format version 2 had
//	                         no epoch, upgrade.go moves such keys)
//	0x02 C 'z'               main chain tip: H
//	0x02 C 'c'               main chain commits (Connects and Reorgs) so far: u64
//
// A quant's transactions are stored in pages of about 32 KiB, so fetching
// one transaction by id reads the index entry, the height entry and the one
// page that holds it, never the whole quant, while a transaction costs
// Pebble little more than one key (its index entry) to write, flush and
// compact. Pebble stores the prefix that sorted keys share once per run of
// keys, and compresses blocks, so on disk a transaction costs about its
// canonical encoding plus its index entry: the 32-byte id, a few bytes of
// location and framing, and a bloom filter (BenchmarkStorageOverhead: 328
// bytes per signed transaction of 200 payload bytes, whose encoding is 351,
// as pages compress better than single transactions did (356); the index
// 40 of them).
//
// Full pages are kept apart from the tables, in Pebble's blob files
// (value separation, db.go): a flush writes a page once and compactions
// move only its key and a reference, so the pages, most of a chain's
// bytes, are not rewritten level after level as the index is.
//
// Records are immutable once written: a quant's record and transactions,
// keyed by its hash, are never changed or deleted (a Reorg only rewrites the
// 'n', 'x' and 'z' keys). That is why a lookup by hash needs no snapshot.
//
// # Byte slices
//
// Pebble returns buffers that are valid only until they are released. Every
// value read here is copied before it is decoded, so nothing this package
// returns aliases Pebble memory: a returned Quant, Header or Tx belongs to the
// caller. The transactions of one returned quant share a few buffers. Values
// given to Save, Connect and Reorg are encoded into the batch (copied); the
// store keeps no reference to them.
package store
