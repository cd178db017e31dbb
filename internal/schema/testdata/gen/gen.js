// gen.js runs every case of cases.json through real Ajv 8 with the options
// the platform's reference implementation uses ({coerceTypes: true,
// allErrors: true}) and writes ../golden.json, which the Go tests read.
//
//   cd internal/schema/testdata/gen && npm ci && node gen.js
//
// Method. Ajv coerces in place: a coerced value is written back into its
// parent object or array. At the root there is no parent, so the coerced
// root value is lost (validate(data) cannot change the caller's variable).
// To observe it, every case is validated wrapped: data D becomes {"v": D}
// and schema S becomes {"type": "object", "properties": {"v": S}}; the
// converted value is then wrapper.v, and every error's instancePath starts
// with "/v", which is cut off. As a check on the method, each case is also
// validated unwrapped, and the script fails if validity or errors differ.
//
// Data is kept as JSON text in cases.json and golden.json so that number
// text such as 1.0, -0 and 1e21 reaches the Go side as written. The data
// after Ajv ran ("after") is written with JSON.stringify, so every number in
// it is JavaScript's printing of the double (String(n)); a non-finite number,
// which JSON cannot hold, is written as {"$nonFinite": "Infinity"} (or
// "-Infinity", "NaN").
//
// cases.json holds "cases" (one schema and one datum each) and "matrix"
// blocks (every value against every schema), expanded here in order.
"use strict"

const fs = require("fs")
const path = require("path")
const Ajv = require("ajv")
const ajvVersion = require("ajv/package.json").version

const options = {coerceTypes: true, allErrors: true}

// Ajv's strictTypes default ("log") prints a warning for union types and
// for object keywords without "type"; warnings do not change validation.
const warnings = []
const ajv = new Ajv({...options, logger: {log() {}, warn: (m) => warnings.push(String(m)), error: console.error}})

const casesFile = path.join(__dirname, "cases.json")
const outFile = path.join(__dirname, "..", "golden.json")
const input = JSON.parse(fs.readFileSync(casesFile, "utf8"))

function expand(input) {
  const out = []
  for (const c of input.cases || []) out.push(c)
  for (const m of input.matrix || []) {
    for (const s of m.schemas) {
      for (const d of m.values) {
        out.push({name: `${m.name}: ${JSON.stringify(s)} <- ${d}`, schema: s, data: d})
      }
    }
  }
  return out
}

function tagged(v) {
  return JSON.parse(
    JSON.stringify(v, (k, x) => (typeof x == "number" && !isFinite(x) ? {$nonFinite: String(x)} : x))
  )
}

function errorsOf(errs, cut) {
  return (errs || []).map((e) => {
    let p = e.instancePath
    if (cut) {
      if (p !== "/v" && !p.startsWith("/v/")) throw new Error("unexpected instancePath " + p)
      p = p.slice(2)
    }
    return {instancePath: p, keyword: e.keyword, params: e.params, message: e.message}
  })
}

const seen = new Set()
const results = []
for (const c of expand(input)) {
  if (seen.has(c.name)) throw new Error("duplicate case name: " + c.name)
  seen.add(c.name)
  if (typeof c.data != "string") throw new Error(`${c.name}: data must be JSON text`)

  const wrapped = JSON.parse(`{"v":${c.data}}`)
  const validate = ajv.compile({type: "object", properties: {v: c.schema}})
  const valid = validate(wrapped)
  const errors = errorsOf(validate.errors, true)

  // The same case unwrapped must give the same verdict and errors.
  const plain = JSON.parse(c.data)
  const validatePlain = ajv.compile(c.schema)
  const validPlain = validatePlain(plain)
  const errorsPlain = errorsOf(validatePlain.errors, false)
  if (validPlain !== valid || JSON.stringify(errorsPlain) !== JSON.stringify(errors)) {
    throw new Error(`${c.name}: wrapped and unwrapped validation differ`)
  }

  const r = {name: c.name, schema: c.schema, data: c.data, valid, after: tagged(wrapped.v), errors}
  if (c.note) r.note = c.note
  if (c.divergent) r.divergent = c.divergent
  results.push(r)
}

const out = {
  generator: "internal/schema/testdata/gen/gen.js",
  ajv: ajvVersion,
  options,
  cases: results,
}
// One case a line, so that a change of Ajv's behaviour shows as a small diff.
const head = JSON.stringify({...out, cases: []}).slice(0, -3)
const body = results.map((r) => JSON.stringify(r)).join(",\n")
fs.writeFileSync(outFile, `${head}[\n${body}\n]}\n`)
console.error(`${results.length} cases written to ${path.relative(process.cwd(), outFile)} (ajv ${ajvVersion}, ${warnings.length} strict-mode warnings)`)
