package content

import "errors"

// parseText reads a plain-text article. (Stub: being written.)
func parseText(text string) (Parsed, error) { return Parsed{}, errors.New("plain text: not yet") }
