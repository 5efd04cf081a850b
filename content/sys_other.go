//go:build !linux

package content

import "os"

// openForWriting cannot tell on this system whether a file is still open
// for writing; the watcher falls back to timing alone.
func openForWriting(string) (writing, ok bool) { return false, false }

// readFile is a file open for reading.
type readFile = *os.File

// openRead opens the file at abs for reading.
func openRead(abs string) (readFile, error) { return os.Open(abs) }

// writingNow is openForWriting for a file already open; it cannot tell either.
func writingNow(readFile) (writing, ok bool) { return false, false }

// fileKey identifies a file on its device where the system says so; here it
// does not, so renames are found by content alone.
type fileKey struct {
	dev, ino uint64
}

func keyOf(os.FileInfo) fileKey { return fileKey{} }
