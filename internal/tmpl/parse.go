package tmpl

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// The parser follows the grammar of handlebars.js 4.7 (src/handlebars.yy)
// by recursive descent and builds the same AST, so that the whitespace
// control pass (whitespace.go) can be a line-by-line port of the original.

// Error is a template syntax error, located by a 1-based line and a 1-based
// column counted in Unicode code points (runes) from the start of the line.
type Error struct {
	Line, Column int
	Message      string
	Offset       int // byte offset of the error in the source
}

func (e *Error) Error() string {
	return fmt.Sprintf("line %d, column %d: %s", e.Line, e.Column, e.Message)
}

func errorAt(src string, off int, msg string) *Error {
	if off > len(src) {
		off = len(src)
	}
	line := 1 + strings.Count(src[:off], "\n")
	col := 1 + utf8.RuneCountInString(src[strings.LastIndexByte(src[:off], '\n')+1:off])
	return &Error{Line: line, Column: col, Message: msg, Offset: off}
}

// maxNesting bounds how deeply blocks and sub-expressions may nest, so that
// neither the parser nor the renderer can exhaust the stack. handlebars.js
// has no such limit; no real template comes near it.
const maxNesting = 100

type stripFlags struct{ open, close bool }

// stripOf is handlebars' stripFlags(open, close): a '~' after the opening
// "{{" or before the closing "}}".
func stripOf(open, close string) stripFlags {
	return stripFlags{
		open:  len(open) > 2 && open[2] == '~',
		close: len(close) >= 3 && close[len(close)-3] == '~',
	}
}

type astNode interface{ astNode() }

type astProgram struct {
	body        []astNode
	chained     bool
	blockParams []string
	hasParams   bool // block params were declared (as |...|)
}

type astContent struct {
	original, value             string
	leftStripped, rightStripped bool
	pos                         int
}

type astComment struct {
	strip stripFlags
	pos   int
	end   int
}

type astMustache struct {
	sexpr    *astSexpr
	escaped  bool
	strip    stripFlags
	pos, end int
}

type astBlock struct {
	sexpr                               *astSexpr
	program, inverse                    *astProgram
	openStrip, inverseStrip, closeStrip stripFlags
	inverted                            bool // {{^x}}: program and inverse swapped
	blockParamsPos                      int
	pos, end                            int
}

func (*astProgram) astNode()  {}
func (*astContent) astNode()  {}
func (*astComment) astNode()  {}
func (*astMustache) astNode() {}
func (*astBlock) astNode()    {}

// astSexpr is a helper call or a value: a path (or literal) with params and
// a hash, as in a mustache, a block opening or a sub-expression.
type astSexpr struct {
	path   *astExpr
	params []*astExpr
	hash   []astHashPair
	isSub  bool
	pos    int
}

type astHashPair struct {
	key   string
	value *astExpr
}

type exprType uint8

const (
	xPath exprType = iota
	xString
	xNumber
	xBool
	xNull
	xUndefined
	xSub
)

type astExpr struct {
	typ      exprType
	data     bool     // @-path
	depth    int      // number of ../
	parts    []string // path segments, without this/./..
	original any      // path text as handlebars builds it, or the literal's value
	str      string   // string literal
	num      float64  // number literal
	b        bool     // boolean literal
	sub      *astSexpr
	pos      int
}

type parser struct {
	src     string
	lex     lexer
	buf     [2]token
	nbuf    int
	nesting int
}

func (p *parser) peek() token { return p.peekN(0) }

func (p *parser) peekN(n int) token {
	for p.nbuf <= n {
		p.buf[p.nbuf] = p.lex.next()
		p.nbuf++
	}
	return p.buf[n]
}

func (p *parser) next() token {
	t := p.peek()
	p.buf[0] = p.buf[1]
	p.nbuf--
	return t
}

// parseError is raised by panic inside the parser and recovered by parse.
type parseError struct{ err *Error }

func (p *parser) failAt(pos int, format string, args ...any) {
	if p.lex.err != nil && p.lex.err.Offset <= pos {
		panic(parseError{p.lex.err})
	}
	panic(parseError{errorAt(p.src, pos, fmt.Sprintf(format, args...))})
}

func (p *parser) unexpected(t token, want string) {
	if t.kind == tInvalid && p.lex.err != nil {
		panic(parseError{p.lex.err})
	}
	what := t.kind.String()
	if t.kind != tEOF && t.kind != tContent && t.raw != "" && len(t.raw) < 40 {
		what = fmt.Sprintf("%q", t.raw)
	}
	p.failAt(t.pos, "unexpected %s, expected %s", what, want)
}

func (p *parser) expect(kind tokKind, want string) token {
	t := p.next()
	if t.kind != kind {
		p.unexpected(t, want)
	}
	return t
}

func (p *parser) enter(pos int) {
	p.nesting++
	if p.nesting > maxNesting {
		p.failAt(pos, "blocks and sub-expressions nest more than %d deep", maxNesting)
	}
}

func (p *parser) leave() { p.nesting-- }

// parse parses src to handlebars' AST, whitespace control not yet applied.
func parse(src string) (prog *astProgram, err error) {
	p := &parser{src: src, lex: lexer{src: src}}
	defer func() {
		if r := recover(); r != nil {
			pe, ok := r.(parseError)
			if !ok {
				panic(r)
			}
			prog, err = nil, pe.err
		}
	}()
	prog = p.parseProgram()
	t := p.next()
	switch t.kind {
	case tEOF:
		if p.lex.err != nil {
			return nil, p.lex.err
		}
		return prog, nil
	case tOpenEndBlock:
		p.failAt(t.pos, "closing tag %s without an opening block", strings.TrimSpace(tagText(src, t.pos)))
	case tInverse, tOpenInverseChain:
		p.failAt(t.pos, "%s outside a block", strings.TrimSpace(tagText(src, t.pos)))
	}
	p.unexpected(t, "text or a mustache")
	return nil, nil
}

// tagText returns the source of the tag starting at pos, for messages.
func tagText(src string, pos int) string {
	s := src[pos:]
	if i := strings.Index(s, "}}"); i >= 0 && i < 60 {
		return s[:i+2]
	}
	if len(s) > 20 {
		s = s[:20] + "..."
	}
	return s
}

func (p *parser) parseProgram() *astProgram {
	prog := &astProgram{}
	for {
		t := p.peek()
		switch t.kind {
		case tContent:
			p.next()
			prog.body = append(prog.body, &astContent{original: t.text, value: t.text, pos: t.pos})
		case tComment:
			p.next()
			prog.body = append(prog.body, &astComment{strip: stripOf(t.raw, t.raw), pos: t.pos, end: t.pos + len(t.raw)})
		case tOpen, tOpenUnescaped:
			prog.body = append(prog.body, p.parseMustache())
		case tOpenBlock, tOpenInverse:
			prog.body = append(prog.body, p.parseBlock())
		case tOpenPartial, tOpenPartialBlock:
			p.failAt(t.pos, "partials are not supported: %s", tagText(p.src, t.pos))
		case tOpenRawBlock:
			p.failAt(t.pos, "raw blocks ({{{{...}}}}) are not supported")
		case tInvalid:
			p.unexpected(t, "")
		default:
			return prog
		}
	}
}

func (p *parser) parseMustache() *astMustache {
	open := p.next()
	if strings.HasSuffix(open.raw, "*") {
		p.failAt(open.pos, "decorators are not supported: %s", tagText(p.src, open.pos))
	}
	s := p.parseSexprBody(open.pos, false)
	var close token
	if open.kind == tOpenUnescaped {
		close = p.expect(tCloseUnescaped, "'}}}'")
	} else {
		close = p.expect(tClose, "'}}'")
	}
	// handlebars: escapeFlag = open.charAt(3) || open.charAt(2)
	var flag byte
	if len(open.raw) > 3 {
		flag = open.raw[3]
	} else if len(open.raw) > 2 {
		flag = open.raw[2]
	}
	return &astMustache{
		sexpr:   s,
		escaped: flag != '{' && flag != '&',
		strip:   stripOf(open.raw, close.raw),
		pos:     open.pos,
		end:     close.pos + len(close.raw),
	}
}

// openInfo is an opening tag of a block: {{#x}}, {{^x}} or {{else x}}.
type openInfo struct {
	sexpr       *astSexpr
	blockParams []string
	hasParams   bool
	paramsPos   int
	strip       stripFlags
	pos         int
}

func (p *parser) parseOpen() openInfo {
	open := p.next()
	if strings.HasSuffix(open.raw, "*") {
		p.failAt(open.pos, "decorators are not supported: %s", tagText(p.src, open.pos))
	}
	info := openInfo{pos: open.pos}
	info.sexpr = p.parseSexprBody(open.pos, false)
	if t := p.peek(); t.kind == tOpenBlockParams {
		p.next()
		info.hasParams = true
		info.paramsPos = t.pos
		for p.peek().kind == tID {
			info.blockParams = append(info.blockParams, id(p.next().text))
		}
		if len(info.blockParams) == 0 {
			p.unexpected(p.peek(), "a block parameter name")
		}
		p.expect(tCloseBlockParams, "'|'")
	}
	close := p.expect(tClose, "'}}'")
	info.strip = stripOf(open.raw, close.raw)
	return info
}

// inverseInfo is what follows a block's program: {{else}} with its program,
// or a chain of {{else x}}.
type inverseInfo struct {
	strip   stripFlags
	program *astProgram
	chain   bool
}

func (p *parser) parseBlock() *astBlock {
	start := p.peek()
	p.enter(start.pos)
	defer p.leave()
	inverted := start.kind == tOpenInverse
	open := p.parseOpen()
	program := p.parseProgram()
	var inv *inverseInfo
	switch t := p.peek(); t.kind {
	case tInverse:
		inv = p.parseInverseAndProgram()
	case tOpenInverseChain:
		if inverted {
			p.failAt(t.pos, "{{else x}} is not allowed in an inverted block {{^...}}")
		}
		inv = p.parseInverseChain()
	}
	t := p.next()
	if t.kind != tOpenEndBlock {
		if t.kind == tEOF {
			p.failAt(open.pos, "unclosed block %s", tagText(p.src, open.pos))
		}
		p.unexpected(t, "the closing tag of "+tagText(p.src, open.pos))
	}
	closePath := p.parseHelperName()
	closeTok := p.expect(tClose, "'}}'")
	if closePath.original != open.sexpr.path.original {
		p.failAt(t.pos, "%s doesn't match %s", originalString(open.sexpr.path.original), originalString(closePath.original))
	}
	b := p.prepareBlock(open, program, inv, stripOf(t.raw, closeTok.raw), true, inverted)
	b.end = closeTok.pos + len(closeTok.raw)
	return b
}

func (p *parser) parseInverseAndProgram() *inverseInfo {
	t := p.next()
	return &inverseInfo{strip: stripOf(t.raw, t.raw), program: p.parseProgram()}
}

func (p *parser) parseInverseChain() *inverseInfo {
	start := p.peek()
	p.enter(start.pos)
	defer p.leave()
	open := p.parseOpen()
	program := p.parseProgram()
	var next *inverseInfo
	switch p.peek().kind {
	case tInverse:
		next = p.parseInverseAndProgram()
	case tOpenInverseChain:
		next = p.parseInverseChain()
	}
	// As handlebars: prepareBlock($1, $2, $3, $3, false): the chained
	// block's provisional close strip is that of what follows it.
	var closeStrip stripFlags
	hasClose := next != nil
	if hasClose {
		closeStrip = next.strip
	}
	inner := p.prepareBlock(open, program, next, closeStrip, hasClose, false)
	inner.end = p.peek().pos
	return &inverseInfo{strip: open.strip, program: &astProgram{body: []astNode{inner}, chained: true}, chain: true}
}

func (p *parser) prepareBlock(open openInfo, program *astProgram, inv *inverseInfo, closeStrip stripFlags, hasClose, inverted bool) *astBlock {
	program.blockParams = open.blockParams
	program.hasParams = open.hasParams
	b := &astBlock{sexpr: open.sexpr, openStrip: open.strip, pos: open.pos, blockParamsPos: open.paramsPos}
	var inverse *astProgram
	if inv != nil {
		if inv.chain && hasClose {
			inv.program.body[0].(*astBlock).closeStrip = closeStrip
		}
		b.inverseStrip = inv.strip
		inverse = inv.program
	}
	if inverted {
		program, inverse = inverse, program
	}
	b.program, b.inverse, b.inverted = program, inverse, inverted
	b.closeStrip = closeStrip
	return b
}

// parseSexprBody parses helperName param* hash?.
func (p *parser) parseSexprBody(pos int, isSub bool) *astSexpr {
	s := &astSexpr{pos: pos, isSub: isSub}
	s.path = p.parseHelperName()
	for {
		t := p.peek()
		if t.kind == tID && p.peekN(1).kind == tEquals {
			break
		}
		if !startsParam(t.kind) {
			break
		}
		s.params = append(s.params, p.parseParam())
	}
	for p.peek().kind == tID && p.peekN(1).kind == tEquals {
		key := p.next()
		p.next()
		s.hash = append(s.hash, astHashPair{key: id(key.text), value: p.parseParam()})
	}
	return s
}

func startsParam(k tokKind) bool {
	switch k {
	case tID, tData, tString, tNumber, tBoolean, tUndefined, tNull, tOpenSexpr:
		return true
	}
	return false
}

func (p *parser) parseParam() *astExpr {
	t := p.peek()
	if t.kind != tOpenSexpr {
		return p.parseHelperName()
	}
	p.enter(t.pos)
	defer p.leave()
	p.next()
	s := p.parseSexprBody(t.pos, true)
	p.expect(tCloseSexpr, "')'")
	return &astExpr{typ: xSub, sub: s, pos: t.pos}
}

// parseHelperName parses path | dataName | STRING | NUMBER | BOOLEAN |
// UNDEFINED | NULL.
func (p *parser) parseHelperName() *astExpr {
	t := p.next()
	switch t.kind {
	case tString:
		return &astExpr{typ: xString, str: t.text, original: t.text, pos: t.pos}
	case tNumber:
		f, _ := strconv.ParseFloat(t.text, 64)
		return &astExpr{typ: xNumber, num: f, original: f, pos: t.pos}
	case tBoolean:
		return &astExpr{typ: xBool, b: t.text == "true", original: t.text == "true", pos: t.pos}
	case tUndefined:
		return &astExpr{typ: xUndefined, original: undefined, pos: t.pos}
	case tNull:
		return &astExpr{typ: xNull, original: nil, pos: t.pos}
	case tData:
		seg := p.expect(tID, "a name after '@'")
		return p.parsePath(true, t.pos, seg)
	case tID:
		return p.parsePath(false, t.pos, t)
	}
	p.unexpected(t, "a name or a literal")
	return nil
}

type pathSeg struct {
	part, original, sep string
}

// parsePath parses pathSegments (ID (SEP ID)*) and applies handlebars'
// preparePath.
func (p *parser) parsePath(data bool, pos int, first token) *astExpr {
	segs := []pathSeg{{part: id(first.text), original: first.text}}
	for p.peek().kind == tSep {
		sep := p.next()
		seg := p.expect(tID, "a name after '"+sep.text+"'")
		segs = append(segs, pathSeg{part: id(seg.text), original: seg.text, sep: sep.text})
	}
	e := &astExpr{typ: xPath, data: data, pos: pos}
	original := ""
	if data {
		original = "@"
	}
	for _, s := range segs {
		isLiteral := s.original != s.part
		original += s.sep + s.part
		if !isLiteral && (s.part == ".." || s.part == "." || s.part == "this") {
			if len(e.parts) > 0 {
				p.failAt(pos, "invalid path: %s", original)
			} else if s.part == ".." {
				e.depth++
			}
		} else {
			e.parts = append(e.parts, s.part)
		}
	}
	e.original = original
	return e
}

// id is handlebars' yy.id: a [bracketed] segment loses its brackets, unless
// it spans lines (its regexp /^\[.*\]$/ does not cross line terminators).
func id(tok string) string {
	if len(tok) >= 2 && tok[0] == '[' && tok[len(tok)-1] == ']' {
		inner := tok[1 : len(tok)-1]
		if !strings.ContainsAny(inner, "\n\r\u2028\u2029") {
			return inner
		}
	}
	return tok
}

func originalString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case nil:
		return "null"
	}
	return toJSString(v)
}
