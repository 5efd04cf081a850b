//go:build !linux

package main

// replaceDir puts the folder tmp in out's place and removes the old out.
// Without Linux's renameat2(RENAME_EXCHANGE), out is moved aside and tmp
// renamed in its place: out is never half written, but is missing for
// the moment between the two renames.
func replaceDir(tmp, out string) error {
	return replaceByRenames(tmp, out)
}
