// Package keystore is the embedded key store: the keys that seal each
// account's personal content (events.SealPersonal), one random 256-bit key
// per account and month, in a small SQLite file of their own (keys.db
// beside the log, never inside it). Destroying an account's keys makes
// everything sealed under them unreadable in every copy of the log
// (crypto-shredding, issue 13).
//
// Keys are never logged, and never leave this package but to seal or open.
package keystore
