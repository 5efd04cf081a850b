//go:build unix

package main

import "syscall"

// flushWrites makes the kernel write back every dirty page now. The bench
// calls it after writing a corpus, so that the writeback of hundreds of
// megabytes it just wrote, which the kernel starts some 30 s later in
// waves every 5 s, does not fall in the middle of a measurement and stall
// the server's fsyncs behind it.
func flushWrites() { syscall.Sync() }
