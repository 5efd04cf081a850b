package content

import "sync"

// HoldEvents makes w's inotify collector read no event until release is
// called, so that a test can make the kernel's event queue overflow for
// real. Call it before Open.
func HoldEvents(w *Watcher) (release func()) {
	w.hold = make(chan struct{})
	return sync.OnceFunc(func() { close(w.hold) })
}

// SetScanWorkers sets how many goroutines l's scans load files with.
func SetScanWorkers(l *Library, n int) {
	l.workers = n
}
