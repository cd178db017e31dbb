// gen.js renders every case of cases.json with handlebars.js (the version
// pinned in package.json) and writes ../golden.json, which golden_test.go
// compares the Go package against. Run it after changing cases.json:
//
//	cd internal/tmpl/testdata/gen && npm ci && node gen.js
//
// Each case is {name, template, data, diverge?}. The output records
// Handlebars.compile(template)(data), or "error": true when compiling or
// rendering throws. "diverge" marks a case where the Go package deliberately
// differs from handlebars.js (it rejects the template at parse time); its
// reason is kept in golden.json and the Go test expects a parse error.
//
// The data of each case is copied into golden.json as written in
// cases.json, not re-serialized, so that number text such as 1.0 or 1e21
// reaches the Go test unchanged (JSON.parse here reads the same text).
'use strict';

const fs = require('fs');
const path = require('path');
const Handlebars = require('handlebars');

const casesPath = path.join(__dirname, 'cases.json');
const goldenPath = path.join(__dirname, '..', 'golden.json');

// rawValues returns, for the top-level array of objects in text, the source
// text of the member `key` of each object (or undefined where absent).
function rawValues(text, key) {
  let i = 0;
  const ws = () => {
    while (i < text.length && ' \t\r\n'.includes(text[i])) i++;
  };
  const skipString = () => {
    const start = i++;
    while (text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
    i++;
    return JSON.parse(text.slice(start, i));
  };
  const skipValue = () => {
    ws();
    const start = i;
    const c = text[i];
    if (c === '"') {
      skipString();
    } else if (c === '{' || c === '[') {
      const close = c === '{' ? '}' : ']';
      i++;
      ws();
      while (text[i] !== close) {
        if (c === '{') {
          skipString();
          ws();
          i++; // :
        }
        skipValue();
        ws();
        if (text[i] === ',') i++;
        ws();
      }
      i++;
    } else {
      while (i < text.length && !',]} \t\r\n'.includes(text[i])) i++;
    }
    return text.slice(start, i);
  };
  const out = [];
  ws();
  i++; // [
  ws();
  while (text[i] !== ']') {
    ws();
    i++; // {
    ws();
    let raw;
    while (text[i] !== '}') {
      const k = skipString();
      ws();
      i++; // :
      const v = skipValue();
      if (k === key) raw = v.trim();
      ws();
      if (text[i] === ',') i++;
      ws();
    }
    i++;
    out.push(raw);
    ws();
    if (text[i] === ',') i++;
    ws();
  }
  return out;
}

// --random N [--seed S] [--out FILE]: instead of cases.json, render N
// random templates (structured ones and token soup) and write their golden
// file to FILE (default /tmp/tmpl-random-golden.json), for a differential
// run: TMPL_GOLDEN=FILE go test -run TestExternalGolden ./internal/tmpl
const argv = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : dflt;
};
let text;
let outPath = goldenPath;
if (argv.includes('--random')) {
  text = randomCases(Number(opt('--random')), Number(opt('--seed', '1')));
  outPath = opt('--out', '/tmp/tmpl-random-golden.json');
} else {
  text = fs.readFileSync(casesPath, 'utf8');
}
const cases = JSON.parse(text);
const raws = rawValues(text, 'data');
if (raws.length !== cases.length) throw new Error('cases.json: could not find the data of every case');

// The log helper and handlebars' prototype-access warnings write to the
// console; keep the generator's output clean.
const quiet = {};
for (const m of ['log', 'info', 'warn', 'error', 'debug']) {
  quiet[m] = console[m];
  console[m] = () => {};
}

const names = new Set();
const lines = cases.map((c, n) => {
  if (names.has(c.name)) throw new Error('duplicate case name ' + c.name);
  names.add(c.name);
  const raw = raws[n] === undefined ? 'null' : raws[n];
  const data = JSON.parse(raw);
  let result;
  try {
    result = { output: Handlebars.compile(c.template)(data) };
  } catch (e) {
    result = { error: true, message: String(e.message).split('\n')[0] };
  }
  let line = '{"name":' + JSON.stringify(c.name) + ',"template":' + JSON.stringify(c.template) + ',"data":' + raw;
  if ('output' in result) line += ',"output":' + JSON.stringify(result.output);
  else line += ',"error":true,"message":' + JSON.stringify(result.message);
  if (c.diverge) line += ',"diverge":' + JSON.stringify(c.diverge);
  return line + '}';
});

for (const m of Object.keys(quiet)) console[m] = quiet[m];
fs.writeFileSync(outPath, '[\n' + lines.join(',\n') + '\n]\n');
console.log('wrote ' + lines.length + ' cases to ' + path.relative(process.cwd(), outPath) + ' with handlebars ' + Handlebars.VERSION);

// randomCases returns the text of a cases file of n random templates: half
// built from blocks, mustaches and whitespace, half token soup.
function randomCases(n, seed) {
  let state = seed >>> 0 || 1;
  const rnd = () => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state / 4294967296;
  };
  const pick = (a) => a[Math.floor(rnd() * a.length)];
  const TEXT = ['a', ' ', '  ', '\n', '\r\n', '\t', 'x y', '\n  ', '  \n', '\u00a0', 'b\n', '\\', '\\\\', '}', '{', '\r', '=', '<'];
  const VALS = ['n', 'z', 't', 'f', 'num', 'log', 'x', 'a.b', 'e', 'l', 'o', 'this', '.', '../x', '../../t', '@index', '@key',
    '@first', '@last', '@root.x', 's', 'l.length', 's.length', 'o.k', 'a', 'empty', '[w k]', 'l.[1]', 'nul', 'missing', '@../index'];
  const COND = ['t', 'f', 'z', 'e', 'l', 'o', 'empty', 'nul', 'missing', 'x', 'a', 'this', '@first', '@last', '@index', 'a.b', 'n', 'obj'];
  const ITER = ['l', 'o', 'empty', 'a', 'n', 's', 'nul', 'objs', 'nested', 'this', 'obj'];
  const BHM = ['t', 'f', 'l', 'o', 'empty', 'z', 'e', 'obj', 'nul', 's', 'this.o', '../o', '@first', 'numo', 'a.b'];
  const tilde = () => (rnd() < 0.25 ? '~' : '');
  const textPiece = () => {
    let s = '';
    for (let i = 1 + Math.floor(rnd() * 3); i > 0; i--) s += pick(TEXT);
    return s;
  };
  const mustache = () => {
    const v = pick(VALS);
    switch (Math.floor(rnd() * 10)) {
      case 0: return '{{' + tilde() + '{' + v + '}' + tilde() + '}}';
      case 1: return '{{' + tilde() + '&' + v + tilde() + '}}';
      case 2: return '{{' + tilde() + 'lookup ' + pick(['o', 'a', 'l', 'this', 's']) + " '" + pick(['k', 'b', '0', 'length', 'x']) + "'" + tilde() + '}}';
      case 3: return pick(['\\{{x}}', '\\\\{{x}}', '{{! c }}', '{{!-- c --}}', '{{~! c ~}}', '{{!-- c --~}}', '{{~!-- c --}}']);
    }
    return '{{' + tilde() + v + tilde() + '}}';
  };
  const block = (d) => {
    const kind = pick(['if', 'unless', 'each', 'with', 'bhm', 'inv', 'if', 'each']);
    let open, close;
    if (kind === 'bhm' || kind === 'inv') {
      const name = pick(BHM);
      open = (kind === 'bhm' ? '#' : '^') + name;
      close = '/' + name;
    } else {
      let extra = '';
      if (kind === 'each' && rnd() < 0.2) extra = ' as |it i|';
      if ((kind === 'if' || kind === 'unless') && rnd() < 0.2) extra = ' includeZero=true';
      open = '#' + kind + ' ' + pick(kind === 'each' || kind === 'with' ? ITER : COND) + extra;
      close = '/' + kind;
    }
    let s = '{{' + tilde() + open + tilde() + '}}' + body(d + 1);
    const r = rnd();
    if (kind !== 'inv' && kind !== 'bhm' && r < 0.25) s += '{{' + tilde() + 'else if ' + pick(COND) + tilde() + '}}' + body(d + 1);
    if (r < 0.5) s += '{{' + tilde() + pick(['else', '^', ' else ']) + tilde() + '}}' + body(d + 1);
    return s + '{{' + tilde() + close + tilde() + '}}';
  };
  const body = (d) => {
    let s = '';
    for (let i = Math.floor(rnd() * 5); i > 0; i--) {
      const r = rnd();
      s += r < 0.45 ? textPiece() : r < 0.75 || d >= 3 ? mustache() : block(d);
    }
    return s;
  };
  const TOK = ['{{', '{{', '{{', '}}', '}}', '}}', '~', '#', '/', '^', 'else', ' else ', '!', '--', '&', '@', '.', '..', '[', ']',
    '"', "'", '=', '|', 'as |', '(', ')', '\\', 'a', 'b', 'if', 'each', 'with', 'this', ' ', '\n', '1', '-1', 'true', 'null',
    '{', '}', '*', '>', 'lookup', 'x', '\r\n', 'a.b', '../', './', '[a b]', '{{{', '}}}', '0', 'includeZero=true', 'log', 'unless'];
  const soup = () => {
    let s = '';
    for (let i = 2 + Math.floor(rnd() * 11); i > 0; i--) s += pick(TOK);
    return s;
  };
  const data = '{"x":"X<","a":{"b":"AB","k":"K"},"t":true,"f":false,"z":0,"e":"","l":[1,"two",null],' +
    '"o":{"k":"v","1":"one","j":0},"n":3.5,"s":"str","empty":[],"nul":null,"w k":"W","obj":{},' +
    '"objs":[{"x":"o1","b":1},{"x":"o2"}],"nested":[[1,2],[]],"num":7,"numo":{"n":2},"if":"IF","this":"T","a b":"sp"}';
  const out = [];
  for (let i = 0; i < n; i++) {
    const t = i % 2 ? soup() : body(0);
    out.push('{"name":' + JSON.stringify('random/' + seed + '-' + i) + ',"template":' + JSON.stringify(t) + ',"data":' + data + '}');
  }
  return '[\n' + out.join(',\n') + '\n]\n';
}
