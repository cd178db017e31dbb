// Package sdk embeds Switchboard's browser SDK (sdk/js), which the server
// serves at /sdk/v1/. The JavaScript files are the source; this package
// only carries them into the binary.
package sdk

import _ "embed"

// JS is switchboard.js: the SDK's code, valid both as a classic script and
// as an ES module, defining globalThis.Switchboard.
//
//go:embed js/switchboard.js
var JS []byte

// MJS is switchboard.mjs: an ES module that loads ./switchboard.js and
// re-exports its members as named exports.
//
//go:embed js/switchboard.mjs
var MJS []byte

// DTS is switchboard.d.ts: the TypeScript declarations of both.
//
//go:embed js/switchboard.d.ts
var DTS []byte
