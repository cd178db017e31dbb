package tmpl

import (
	"strings"
	"unicode/utf8"
)

// The lexer reproduces the jison lexer of handlebars.js 4.7 (its rules in
// src/handlebars.l): the same states (INITIAL, mu, emu, com), the same rules
// tried in the same order, first match wins. Reproducing it rule by rule,
// rather than writing a tidier tokenizer, is what makes odd inputs ("{{a.0}}",
// "\\{{", "{{else-x}}") behave as they do in handlebars.js.

type tokKind uint8

const (
	tEOF tokKind = iota
	tContent
	tComment
	tOpenSexpr        // (
	tCloseSexpr       // )
	tOpenRawBlock     // {{{{
	tCloseRawBlock    // }}}}
	tOpenPartial      // {{>
	tOpenPartialBlock // {{#>
	tOpenBlock        // {{#  {{#*
	tOpenEndBlock     // {{/
	tInverse          // {{^}}  {{else}}
	tOpenInverse      // {{^
	tOpenInverseChain // {{else
	tOpenUnescaped    // {{{
	tOpen             // {{  {{&  {{*
	tEquals
	tID
	tSep
	tCloseUnescaped // }}}
	tClose          // }}
	tString
	tData // @
	tBoolean
	tUndefined
	tNull
	tNumber
	tOpenBlockParams  // as |
	tCloseBlockParams // |
	tInvalid
)

var tokNames = [...]string{
	tEOF: "end of template", tContent: "text", tComment: "comment",
	tOpenSexpr: "'('", tCloseSexpr: "')'", tOpenRawBlock: "'{{{{'", tCloseRawBlock: "'}}}}'",
	tOpenPartial: "'{{>'", tOpenPartialBlock: "'{{#>'", tOpenBlock: "'{{#'", tOpenEndBlock: "'{{/'",
	tInverse: "'{{else}}'", tOpenInverse: "'{{^'", tOpenInverseChain: "'{{else'",
	tOpenUnescaped: "'{{{'", tOpen: "'{{'", tEquals: "'='", tID: "name", tSep: "separator",
	tCloseUnescaped: "'}}}'", tClose: "'}}'", tString: "string", tData: "'@'",
	tBoolean: "boolean", tUndefined: "undefined", tNull: "null", tNumber: "number",
	tOpenBlockParams: "'as |'", tCloseBlockParams: "'|'", tInvalid: "invalid character",
}

func (k tokKind) String() string { return tokNames[k] }

type token struct {
	kind tokKind
	text string // the token's value (content with escapes applied, unquoted string, ...)
	raw  string // the matched source text
	pos  int    // byte offset in the source
}

type lexState uint8

const (
	sInitial lexState = iota
	sMu
	sEmu
	sCom
)

type lexer struct {
	src    string
	pos    int
	states []lexState // the stack; empty means INITIAL
	done   bool
	err    *Error
}

func (l *lexer) state() lexState {
	if len(l.states) == 0 {
		return sInitial
	}
	return l.states[len(l.states)-1]
}

func (l *lexer) push(s lexState) { l.states = append(l.states, s) }

func (l *lexer) pop() {
	if len(l.states) > 0 {
		l.states = l.states[:len(l.states)-1]
	}
}

// next returns the next token. A lexical error is reported as a tInvalid
// token with l.err set.
func (l *lexer) next() token {
	for {
		if l.err != nil || l.done {
			return token{kind: tEOF, pos: len(l.src)}
		}
		t, ok := l.scan()
		if ok {
			return t
		}
	}
}

func (l *lexer) tok(kind tokKind, n int) token {
	t := token{kind: kind, text: l.src[l.pos : l.pos+n], raw: l.src[l.pos : l.pos+n], pos: l.pos}
	l.pos += n
	return t
}

func (l *lexer) fail(msg string) (token, bool) {
	l.err = errorAt(l.src, l.pos, msg)
	return token{kind: tInvalid, pos: l.pos}, true
}

// scan applies one lexer rule; ok is false when the rule produced no token.
func (l *lexer) scan() (token, bool) {
	rest := l.src[l.pos:]
	switch l.state() {
	case sInitial:
		if rest == "" {
			l.done = true
			return token{kind: tEOF, pos: l.pos}, true
		}
		open := strings.Index(rest, "{{")
		nul := strings.IndexByte(rest, 0)
		if open >= 0 && (nul < 0 || nul > open) {
			// [^\x00]*?(?=({{)): text up to the first "{{". A backslash
			// before it escapes the mustache; two backslashes print one.
			start := l.pos
			text := rest[:open]
			l.pos += open
			switch {
			case strings.HasSuffix(text, `\\`):
				text = text[:len(text)-1]
				l.push(sMu)
			case strings.HasSuffix(text, `\`):
				text = text[:len(text)-1]
				l.push(sEmu)
			default:
				l.push(sMu)
			}
			if text == "" {
				return token{}, false
			}
			return token{kind: tContent, text: text, raw: rest[:open], pos: start}, true
		}
		if nul == 0 {
			return l.fail("NUL character in template text")
		}
		if nul < 0 {
			nul = len(rest)
		}
		return l.tok(tContent, nul), true

	case sEmu:
		// [^\x00]{2,}?(?=({{|\\{{|\\\\{{|$)): the escaped "{{" and the
		// text after it, up to the next mustache or escape.
		for n := 2; n <= len(rest); n++ {
			if rest[n-1] == 0 {
				break
			}
			r := rest[n:]
			if r == "" || strings.HasPrefix(r, "{{") || strings.HasPrefix(r, `\{{`) || strings.HasPrefix(r, `\\{{`) {
				l.pop()
				return l.tok(tContent, n), true
			}
		}
		return l.fail("NUL character in template text")

	case sCom:
		// [\s\S]*?--(~)?}}
		for k := 0; k < len(rest); k++ {
			if strings.HasPrefix(rest[k:], "--}}") {
				l.pop()
				return l.tok(tComment, k+4), true
			}
			if strings.HasPrefix(rest[k:], "--~}}") {
				l.pop()
				return l.tok(tComment, k+5), true
			}
		}
		return l.fail("unclosed comment: '{{!--' needs a closing '--}}'")
	}
	return l.scanMu(rest)
}

// scanMu applies the rules of the "mu" state, inside a mustache.
func (l *lexer) scanMu(rest string) (token, bool) {
	if rest == "" {
		return token{kind: tEOF, pos: l.pos}, true
	}
	switch {
	case rest[0] == '(':
		return l.tok(tOpenSexpr, 1), true
	case rest[0] == ')':
		return l.tok(tCloseSexpr, 1), true
	case strings.HasPrefix(rest, "{{{{"):
		return l.tok(tOpenRawBlock, 4), true
	case strings.HasPrefix(rest, "}}}}"):
		l.pop()
		return l.tok(tCloseRawBlock, 4), true
	}
	if strings.HasPrefix(rest, "{{") {
		j := 2
		if len(rest) > 2 && rest[2] == '~' {
			j = 3
		}
		after := rest[j:]
		switch {
		case strings.HasPrefix(after, ">"):
			return l.tok(tOpenPartial, j+1), true
		case strings.HasPrefix(after, "#>"):
			return l.tok(tOpenPartialBlock, j+2), true
		case strings.HasPrefix(after, "#*"):
			return l.tok(tOpenBlock, j+2), true
		case strings.HasPrefix(after, "#"):
			return l.tok(tOpenBlock, j+1), true
		case strings.HasPrefix(after, "/"):
			return l.tok(tOpenEndBlock, j+1), true
		}
		if strings.HasPrefix(after, "^") {
			// \^\s*(~)?}}
			k := j + 1 + jsSpaceLen(rest[j+1:])
			if n := closeLen(rest[k:]); n > 0 {
				l.pop()
				return l.tok(tInverse, k+n), true
			}
		}
		// \s*else\s*(~)?}}
		k := j + jsSpaceLen(after)
		if strings.HasPrefix(rest[k:], "else") {
			m := k + 4 + jsSpaceLen(rest[k+4:])
			if n := closeLen(rest[m:]); n > 0 {
				l.pop()
				return l.tok(tInverse, m+n), true
			}
		}
		if strings.HasPrefix(after, "^") {
			return l.tok(tOpenInverse, j+1), true
		}
		// \s*else\b
		if strings.HasPrefix(rest[k:], "else") && (len(rest) == k+4 || !isWordByte(rest[k+4])) {
			return l.tok(tOpenInverseChain, k+4), true
		}
		switch {
		case strings.HasPrefix(after, "{"):
			return l.tok(tOpenUnescaped, j+1), true
		case strings.HasPrefix(after, "&"):
			return l.tok(tOpen, j+1), true
		case strings.HasPrefix(after, "!--"):
			l.pop()
			l.push(sCom)
			return token{}, false
		case strings.HasPrefix(after, "!"):
			if e := strings.Index(rest[j+1:], "}}"); e >= 0 {
				l.pop()
				return l.tok(tComment, j+1+e+2), true
			}
		}
		if strings.HasPrefix(after, "*") {
			return l.tok(tOpen, j+1), true
		}
		return l.tok(tOpen, j), true
	}
	c := rest[0]
	switch {
	case c == '=':
		return l.tok(tEquals, 1), true
	case strings.HasPrefix(rest, ".."):
		return l.tok(tID, 2), true
	case c == '.' && len(rest) > 1 && isIDFollow(rest[1:]):
		return l.tok(tID, 1), true
	case c == '.' || c == '/':
		return l.tok(tSep, 1), true
	}
	if n := jsSpaceLen(rest); n > 0 {
		l.pos += n
		return token{}, false
	}
	if strings.HasPrefix(rest, "}}}") || strings.HasPrefix(rest, "}~}}") {
		n := 3
		if rest[1] == '~' {
			n = 4
		}
		l.pop()
		return l.tok(tCloseUnescaped, n), true
	}
	if n := closeLen(rest); n > 0 {
		l.pop()
		return l.tok(tClose, n), true
	}
	if c == '"' || c == '\'' {
		if n := quotedLen(rest, c, c); n > 0 {
			t := l.tok(tString, n)
			t.text = strings.ReplaceAll(t.text[1:n-1], `\`+string(c), string(c))
			return t, true
		}
	}
	if c == '@' {
		return l.tok(tData, 1), true
	}
	for _, kw := range [...]struct {
		word string
		kind tokKind
	}{{"true", tBoolean}, {"false", tBoolean}, {"undefined", tUndefined}, {"null", tNull}} {
		if strings.HasPrefix(rest, kw.word) && len(rest) > len(kw.word) && isLiteralFollow(rest[len(kw.word):]) {
			return l.tok(kw.kind, len(kw.word)), true
		}
	}
	if n := numberLen(rest); n > 0 {
		return l.tok(tNumber, n), true
	}
	if strings.HasPrefix(rest, "as") {
		if n := jsSpaceLen(rest[2:]); n > 0 && strings.HasPrefix(rest[2+n:], "|") {
			return l.tok(tOpenBlockParams, 2+n+1), true
		}
	}
	if c == '|' {
		return l.tok(tCloseBlockParams, 1), true
	}
	if n := idLen(rest); n > 0 && isIDFollow(rest[n:]) {
		return l.tok(tID, n), true
	}
	if c == '[' {
		if n := quotedLen(rest, '[', ']'); n > 0 {
			t := l.tok(tID, n)
			t.text = unescapeBracket(t.text)
			return t, true
		}
	}
	return l.fail("unexpected character " + quoteRune(rest))
}

// closeLen matches (~)?}} at the start of s.
func closeLen(s string) int {
	if strings.HasPrefix(s, "}}") {
		return 2
	}
	if strings.HasPrefix(s, "~}}") {
		return 3
	}
	return 0
}

// quotedLen matches open (\\close | [^close])* close, with the regexp
// engine's backtracking: the string ends at the first unescaped close, or,
// when there is none, at the last escaped one.
func quotedLen(s string, open, close byte) int {
	lastEscaped := -1
	for i := 1; i < len(s); i++ {
		switch {
		case s[i] == '\\' && i+1 < len(s) && s[i+1] == close:
			lastEscaped = i + 1
			i++
		case s[i] == close:
			return i + 1
		}
	}
	if lastEscaped > 0 {
		return lastEscaped + 1
	}
	return 0
}

// unescapeBracket applies handlebars' replace(/\\([\\\]])/g, '$1').
func unescapeBracket(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) && (s[i+1] == '\\' || s[i+1] == ']') {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// numberLen matches -?[0-9]+(\.[0-9]+)?(?=[~}\s)]).
func numberLen(s string) int {
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	d := i
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i == d {
		return 0
	}
	if i+1 < len(s) && s[i] == '.' && s[i+1] >= '0' && s[i+1] <= '9' {
		i++
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
	}
	if i < len(s) && isLiteralFollow(s[i:]) {
		return i
	}
	return 0
}

// isLiteralFollow is the lookahead (?=[~}\s)]) of literals.
func isLiteralFollow(s string) bool {
	switch s[0] {
	case '~', '}', ')':
		return true
	}
	return jsSpaceLen(s) > 0
}

// isIDFollow is the lookahead (?=[=~}\s/.)|]) of identifiers.
func isIDFollow(s string) bool {
	if s == "" {
		return false
	}
	switch s[0] {
	case '=', '~', '}', '/', '.', ')', '|':
		return true
	}
	return jsSpaceLen(s) > 0
}

// idLen matches [^\s!"#%-,\.\/;->@\[-\^`\{-~]+.
func idLen(s string) int {
	i := 0
	for i < len(s) {
		c := s[i]
		if c < utf8.RuneSelf {
			if isIDExcluded(c) {
				break
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if isJSSpace(r) {
			break
		}
		i += n
	}
	return i
}

func isIDExcluded(c byte) bool {
	switch {
	case c == '!' || c == '"' || c == '#':
		return true
	case c >= '%' && c <= ',':
		return true
	case c == '.' || c == '/':
		return true
	case c >= ';' && c <= '>':
		return true
	case c == '@':
		return true
	case c >= '[' && c <= '^':
		return true
	case c == '`':
		return true
	case c >= '{' && c <= '~':
		return true
	}
	return isJSSpace(rune(c))
}

func isWordByte(c byte) bool {
	return c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// isJSSpace reports whether r matches JavaScript's \s: WhiteSpace and
// LineTerminator (ECMA-262), the Zs characters included.
func isJSSpace(r rune) bool {
	switch r {
	case '\t', '\n', '\v', '\f', '\r', ' ', 0xA0, 0x1680, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000, 0xFEFF:
		return true
	}
	return r >= 0x2000 && r <= 0x200A
}

// jsSpaceLen returns the length of the run of \s at the start of s.
func jsSpaceLen(s string) int {
	i := 0
	for i < len(s) {
		c := s[i]
		if c < utf8.RuneSelf {
			if !isJSSpace(rune(c)) {
				return i
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if !isJSSpace(r) {
			return i
		}
		i += n
	}
	return i
}

// trailingJSSpaceLen returns the length of the run of \s at the end of s.
func trailingJSSpaceLen(s string) int {
	i := len(s)
	for i > 0 {
		c := s[i-1]
		if c < utf8.RuneSelf {
			if !isJSSpace(rune(c)) {
				break
			}
			i--
			continue
		}
		r, n := utf8.DecodeLastRuneInString(s[:i])
		if !isJSSpace(r) {
			break
		}
		i -= n
	}
	return len(s) - i
}

func quoteRune(s string) string {
	r, _ := utf8.DecodeRuneInString(s)
	switch r {
	case '\n':
		return "newline"
	case 0:
		return "NUL"
	}
	return "'" + string(r) + "'"
}
