package tmpl

import "strings"

// This file is a line-by-line port of handlebars.js 4.7's
// compiler/whitespace-control.js: '~' stripping and the removal of
// "standalone" lines (a block tag, {{else}} or comment alone on its line).
// Its quirks are kept on purpose, since templates are written against them.

// wsResult is what visiting a statement tells its program about stripping.
type wsResult struct {
	set                                               bool
	open, close                                       bool
	openStandalone, closeStandalone, inlineStandalone bool
}

type whitespace struct{ rootSeen bool }

func (w *whitespace) program(prog *astProgram) {
	isRoot := !w.rootSeen
	w.rootSeen = true
	body := prog.body
	for i, current := range body {
		strip := w.accept(current)
		if !strip.set {
			continue
		}
		prevWS := isPrevWhitespace(body, i, isRoot, true)
		nextWS := isNextWhitespace(body, i, isRoot, true)
		openStandalone := strip.openStandalone && prevWS
		closeStandalone := strip.closeStandalone && nextWS
		inlineStandalone := strip.inlineStandalone && prevWS && nextWS

		if strip.close {
			omitRight(body, i, true, true)
		}
		if strip.open {
			omitLeft(body, i, true, true)
		}
		if inlineStandalone {
			omitRight(body, i, true, false)
			omitLeft(body, i, true, false)
		}
		if openStandalone {
			b := current.(*astBlock)
			p := b.program
			if p == nil {
				p = b.inverse
			}
			omitRight(p.body, 0, false, false)
			omitLeft(body, i, true, false)
		}
		if closeStandalone {
			omitRight(body, i, true, false)
			b := current.(*astBlock)
			p := b.inverse
			if p == nil {
				p = b.program
			}
			omitLeft(p.body, 0, false, false)
		}
	}
}

func (w *whitespace) accept(n astNode) wsResult {
	switch n := n.(type) {
	case *astMustache:
		return wsResult{set: true, open: n.strip.open, close: n.strip.close}
	case *astComment:
		return wsResult{set: true, inlineStandalone: true, open: n.strip.open, close: n.strip.close}
	case *astBlock:
		return w.block(n)
	}
	return wsResult{}
}

func (w *whitespace) block(block *astBlock) wsResult {
	if block.program != nil {
		w.program(block.program)
	}
	if block.inverse != nil {
		w.program(block.inverse)
	}

	// Find the inverse program that is involved with whitespace stripping.
	program := block.program
	if program == nil {
		program = block.inverse
	}
	var inverse *astProgram
	if block.program != nil {
		inverse = block.inverse
	}
	firstInverse, lastInverse := inverse, inverse
	if inverse != nil && inverse.chained {
		firstInverse = inverse.body[0].(*astBlock).program
		// Walk the inverse chain to find the last inverse that is actually in the chain.
		for lastInverse.chained {
			lastInverse = lastInverse.body[len(lastInverse.body)-1].(*astBlock).program
		}
	}

	closeBody := program.body
	if firstInverse != nil {
		closeBody = firstInverse.body
	}
	strip := wsResult{
		set:   true,
		open:  block.openStrip.open,
		close: block.closeStrip.close,
		// Flag our content as possibly standalone, so that our parent can
		// determine whether we actually are.
		openStandalone:  isNextWhitespace(program.body, 0, false, false),
		closeStandalone: isPrevWhitespace(closeBody, 0, false, false),
	}

	if block.openStrip.close {
		omitRight(program.body, 0, false, true)
	}

	if inverse != nil {
		inverseStrip := block.inverseStrip
		if inverseStrip.open {
			omitLeft(program.body, 0, false, true)
		}
		if inverseStrip.close {
			omitRight(firstInverse.body, 0, false, true)
		}
		if block.closeStrip.open {
			omitLeft(lastInverse.body, 0, false, true)
		}
		// Find standalone else statements.
		if isPrevWhitespace(program.body, 0, false, false) && isNextWhitespace(firstInverse.body, 0, false, false) {
			omitLeft(program.body, 0, false, false)
			omitRight(firstInverse.body, 0, false, false)
		}
	} else if block.closeStrip.open {
		omitLeft(program.body, 0, false, true)
	}
	return strip
}

// isPrevWhitespace: hasI false means handlebars' i === undefined (the end
// of body) and isRoot undefined.
func isPrevWhitespace(body []astNode, i int, isRoot, hasI bool) bool {
	if !hasI {
		i = len(body)
	}
	if i-1 < 0 || i-1 >= len(body) {
		return isRoot
	}
	prev, ok := body[i-1].(*astContent)
	if !ok {
		return false
	}
	hasSibling := i-2 >= 0
	if hasSibling || !isRoot {
		return endsWithNewlineSpace(prev.original)
	}
	// /(^|\r?\n)\s*?$/
	return trailingJSSpaceLen(prev.original) == len(prev.original) || endsWithNewlineSpace(prev.original)
}

func isNextWhitespace(body []astNode, i int, isRoot, hasI bool) bool {
	if !hasI {
		i = -1
	}
	if i+1 >= len(body) {
		return isRoot
	}
	next, ok := body[i+1].(*astContent)
	if !ok {
		return false
	}
	hasSibling := i+2 < len(body)
	if hasSibling || !isRoot {
		return startsWithSpaceNewline(next.original)
	}
	// /^\s*?(\r?\n|$)/
	return jsSpaceLen(next.original) == len(next.original) || startsWithSpaceNewline(next.original)
}

// endsWithNewlineSpace is /\r?\n\s*?$/: the trailing white space holds a
// line feed.
func endsWithNewlineSpace(s string) bool {
	n := trailingJSSpaceLen(s)
	return strings.IndexByte(s[len(s)-n:], '\n') >= 0
}

// startsWithSpaceNewline is /^\s*?\r?\n/: the leading white space holds a
// line feed.
func startsWithSpaceNewline(s string) bool {
	n := jsSpaceLen(s)
	return strings.IndexByte(s[:n], '\n') >= 0
}

// omitRight marks the node right of position i (or the first node when
// hasI is false) as omitted: with multiple, all leading white space goes;
// otherwise only the rest of the line, /^[ \t]*\r?\n?/.
func omitRight(body []astNode, i int, hasI, multiple bool) {
	idx := 0
	if hasI {
		idx = i + 1
	}
	if idx >= len(body) {
		return
	}
	current, ok := body[idx].(*astContent)
	if !ok || (!multiple && current.rightStripped) {
		return
	}
	original := current.value
	if multiple {
		current.value = current.value[jsSpaceLen(current.value):]
	} else {
		v := current.value
		k := 0
		for k < len(v) && (v[k] == ' ' || v[k] == '\t') {
			k++
		}
		if k < len(v) && v[k] == '\r' {
			k++
		}
		if k < len(v) && v[k] == '\n' {
			k++
		}
		current.value = v[k:]
	}
	current.rightStripped = current.value != original
}

// omitLeft marks the node left of position i (or the last node when hasI is
// false) as omitted: with multiple, all trailing white space goes;
// otherwise the spaces and tabs that end the line, /[ \t]+$/.
func omitLeft(body []astNode, i int, hasI, multiple bool) bool {
	idx := len(body) - 1
	if hasI {
		idx = i - 1
	}
	if idx < 0 || idx >= len(body) {
		return false
	}
	current, ok := body[idx].(*astContent)
	if !ok || (!multiple && current.leftStripped) {
		return false
	}
	original := current.value
	if multiple {
		current.value = current.value[:len(current.value)-trailingJSSpaceLen(current.value)]
	} else {
		v := current.value
		k := len(v)
		for k > 0 && (v[k-1] == ' ' || v[k-1] == '\t') {
			k--
		}
		current.value = v[:k]
	}
	current.leftStripped = current.value != original
	return current.leftStripped
}
