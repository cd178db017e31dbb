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

const text = fs.readFileSync(casesPath, 'utf8');
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
fs.writeFileSync(goldenPath, '[\n' + lines.join(',\n') + '\n]\n');
console.log('wrote ' + lines.length + ' cases to ' + path.relative(process.cwd(), goldenPath) + ' with handlebars ' + Handlebars.VERSION);
