package store

import (
	"errors"
	"log/slog"
	"time"
)

// DefaultCacheSize is the block cache size used when Options.CacheSize is 0.
const DefaultCacheSize = 64 << 20

// minCacheSize is the smallest block cache Validate accepts.
const minCacheSize = 1 << 20

// Options configures a DB. EnsureDefaults fills zero fields; Validate names
// the bad field.
type Options struct {
	// Dir is the directory the database lives in. Required. It is created
	// unless ReadOnly is set.
	Dir string
	// Logger receives the store's logs and Pebble's, the latter at debug
	// level (errors at error level). Default slog.Default().
	Logger *slog.Logger
	// CacheSize is Pebble's block cache size in bytes. Default 64 MiB.
	CacheSize int64
	// ReadOnly opens an existing database without writing to it (for
	// `qbc verify`). Save, Connect and Reorg then fail.
	ReadOnly bool

	// syncEvery is how often the fsync loop passes (tests set it);
	// default tipSyncInterval.
	syncEvery time.Duration
}

// EnsureDefaults fills the fields left zero.
func (o *Options) EnsureDefaults() {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.CacheSize == 0 {
		o.CacheSize = DefaultCacheSize
	}
	if o.syncEvery == 0 {
		o.syncEvery = tipSyncInterval
	}
}

// Validate reports the first bad field.
func (o *Options) Validate() error {
	switch {
	case o.Dir == "":
		return errors.New("store: options: Dir: must be set")
	case o.Logger == nil:
		return errors.New("store: options: Logger: must be set")
	case o.CacheSize < minCacheSize:
		return errors.New("store: options: CacheSize: must be at least 1 MiB")
	}
	return nil
}
