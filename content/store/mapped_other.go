//go:build !linux

package store

import bolt "go.etcd.io/bbolt"

// releaseMapped does nothing here: outside Linux the mapped pages are left
// to the kernel.
func releaseMapped(*bolt.Tx) {}
