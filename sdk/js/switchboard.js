/*
 * Switchboard's browser SDK: run a Switchboard server's commands from a web
 * page with a session token (never an API key), and run cards written for
 * the seed platform's Cards SDK unchanged.
 *
 *   const sb = Switchboard.connect({ server: "https://switchboard.example.com", token });
 *   const run = await sb.command.run("ecommstore.store.refundOrder", { body, urlArgs });
 *
 * No dependencies, no build step. This one file is valid both as a classic
 * script and as an ES module: it has no import or export statement and
 * defines globalThis.Switchboard either way (a classic script cannot parse
 * `export`). switchboard.mjs, beside it, re-exports the same functions as
 * named exports for `import { connect } from ".../switchboard.mjs"`.
 * See README.md beside this file.
 */
(function (root) {
  "use strict";

  /** The SDK's version (the path's v1 is its API's major version). */
  const version = "1.0.0";

  /** A token is asked for anew when it expires within this many milliseconds. */
  const refreshEarlyMs = 30000;

  /**
   * The `err` of every rejection: an Error with a machine-readable code and
   * the HTTP status that goes with it.
   *
   * code is the problem document's code when Switchboard refused the run
   * (status: the HTTP status), "upstream_status" when the upstream answered
   * non-2xx (status: the upstream's status), or one of the SDK's own, with
   * status 0: "network", "aborted", "token_unavailable", "invalid_input";
   * "unexpected_response" (status: the HTTP status) when the answer is not
   * one Switchboard gives.
   */
  class SwitchboardError extends Error {
    /**
     * @param {string} message
     * @param {string} code
     * @param {number} status
     * @param {{cause?: unknown}} [options]
     */
    constructor(message, code, status, options) {
      super(message, options);
      this.name = "SwitchboardError";
      /** @type {string} */
      this.code = code;
      /** @type {number} */
      this.status = status;
    }
  }

  /**
   * @typedef {{token: string, expiresAt?: string | number | Date}} TokenInfo
   * @typedef {{
   *   server: string,
   *   token?: string,
   *   expiresAt?: string | number | Date,
   *   getToken?: () => string | TokenInfo | Promise<string | TokenInfo>,
   * }} ConnectOptions
   * @typedef {{
   *   body?: unknown,
   *   headers?: Record<string, string>,
   *   urlArgs?: Record<string, string>,
   *   args?: Record<string, string>,
   *   signal?: AbortSignal,
   * }} RunOptions
   * @typedef {{
   *   status: number,
   *   headers: Record<string, string>,
   *   body: unknown,
   *   cache: "none" | "miss" | "hit" | "stale",
   *   cacheFallback: boolean,
   *   readonly statusCode: number,
   *   readonly responseHeaders: Record<string, string>,
   *   readonly responseBody: unknown,
   * }} RunDocument
   * @typedef {{
   *   type: string, title: string, status: number, detail?: string, code: string,
   *   errors?: {message: string, location?: string}[],
   * }} Problem
   */

  /**
   * Connects to a Switchboard server.
   *
   * @param {ConnectOptions} options
   * @returns {{server: string, command: {run(name: string, options?: RunOptions): Promise<RunDocument>}}}
   */
  function connect(options) {
    if (!options || typeof options.server !== "string" || options.server === "") {
      throw new TypeError("Switchboard.connect: options.server is required: the Switchboard server's URL, such as https://switchboard.example.com");
    }
    const getToken = options.getToken;
    if (getToken !== undefined && typeof getToken !== "function") {
      throw new TypeError("Switchboard.connect: options.getToken must be a function that returns a token or {token, expiresAt}");
    }
    if (!options.token && !getToken) {
      throw new TypeError("Switchboard.connect: give options.token (a session token from POST /v1/sessions) or options.getToken");
    }
    const server = options.server.replace(/\/+$/, "");

    /** @type {{token: string, expiresAt: number | undefined} | null} */
    let current = options.token ? { token: String(options.token), expiresAt: toTime(options.expiresAt) } : null;
    /** The getToken call in flight, which every run that needs a token waits for. */
    let pending = null;

    function refresh() {
      if (!pending) {
        pending = Promise.resolve()
          .then(() => getToken())
          .then(normalizeToken)
          .then(
            (t) => {
              current = t;
              return t;
            },
            (e) => {
              throw [new SwitchboardError("getToken did not give a token: " + describe(e), "token_unavailable", 0, { cause: e }), null];
            },
          )
          .finally(() => {
            pending = null;
          });
      }
      return pending;
    }

    /** The token to send: the current one, unless it is missing or about to expire and getToken can replace it. */
    function tokenFor(signal) {
      if (current && (!getToken || current.expiresAt === undefined || current.expiresAt - Date.now() > refreshEarlyMs)) {
        return Promise.resolve(current);
      }
      return abortable(refresh(), signal);
    }

    /**
     * Runs a command. Resolves with the run document when the upstream
     * answered 2xx; rejects with [err, data] otherwise.
     *
     * @param {string} name
     * @param {RunOptions} [opts]
     * @returns {Promise<RunDocument>}
     */
    async function run(name, opts) {
      opts = opts || {};
      const signal = opts.signal;
      if (typeof name !== "string" || name === "") {
        throw [new SwitchboardError("command.run: the command's name is required, such as \"ecommstore.store.refundOrder\"", "invalid_input", 0), null];
      }
      if (signal && signal.aborted) {
        throw [aborted(signal), null];
      }
      /** @type {Record<string, unknown>} */
      const request = { body: opts.body, headers: opts.headers, urlArgs: opts.urlArgs };
      if (opts.args !== undefined) {
        request.args = opts.args; // the server takes both spellings and merges them
      }
      let payload;
      try {
        payload = JSON.stringify(request);
      } catch (e) {
        throw [new SwitchboardError("command.run: the run request cannot be sent as JSON: " + describe(e), "invalid_input", 0, { cause: e }), null];
      }
      const url = server + "/v1/commands/" + encodeURIComponent(name) + "/run";

      const sent = await tokenFor(signal);
      let answer = await send(url, sent.token, payload, signal);
      if (answer.status === 401 && getToken) {
        // The token expired or was revoked: one fresh token, one retry. A
        // token another run fetched in the meantime is used as it is.
        const next = current && current !== sent && !pending ? current : await abortable(refresh(), signal);
        answer = await send(url, next.token, payload, signal);
      }
      return settle(name, answer);
    }

    return { server, command: { run } };
  }

  /**
   * Sends one run request and reads its answer; rejects with [err, null]
   * only when no answer arrived.
   */
  async function send(url, token, payload, signal) {
    try {
      const response = await fetch(url, {
        method: "POST",
        headers: { authorization: "Bearer " + token, "content-type": "application/json", accept: "application/json" },
        body: payload,
        credentials: "omit",
        signal,
      });
      const text = await response.text();
      let doc = null;
      if (text !== "") {
        try {
          doc = JSON.parse(text);
        } catch (e) {
          doc = null;
        }
      }
      return { status: response.status, doc };
    } catch (e) {
      if (signal && signal.aborted) {
        throw [aborted(signal), null];
      }
      throw [new SwitchboardError("no answer to POST " + url + ": " + describe(e) +
        " (the server is unreachable, or it does not allow this page's origin)", "network", 0, { cause: e }), null];
    }
  }

  /** Turns an answer into the run document, or throws [err, data]. */
  function settle(name, answer) {
    const { status, doc } = answer;
    if (status >= 200 && status < 300) {
      if (!doc || typeof doc !== "object" || typeof doc.status !== "number") {
        throw [new SwitchboardError("the server answered " + status + " without a run document", "unexpected_response", status), doc];
      }
      withSeedNames(doc);
      if (doc.status >= 200 && doc.status < 300) {
        return doc;
      }
      throw [new SwitchboardError("command " + name + ": the upstream answered " + doc.status, "upstream_status", doc.status), doc];
    }
    if (doc && typeof doc === "object" && typeof doc.code === "string") {
      throw [new SwitchboardError(doc.detail || doc.title || "the server answered " + status, doc.code, status), doc];
    }
    throw [new SwitchboardError("the server answered " + status + " without a problem document", "unexpected_response", status), doc];
  }

  /**
   * Lets a run document answer to the seed platform's names too. They are
   * non-enumerable, so that JSON.stringify and Object.keys show the
   * document exactly as the server sent it.
   */
  function withSeedNames(doc) {
    Object.defineProperties(doc, {
      statusCode: { get() { return this.status; }, configurable: true },
      responseHeaders: { get() { return this.headers; }, configurable: true },
      responseBody: { get() { return this.body; }, configurable: true },
    });
    if (!Object.prototype.hasOwnProperty.call(doc, "cacheFallback")) {
      Object.defineProperty(doc, "cacheFallback", { value: false, writable: true, configurable: true });
    }
    return doc;
  }

  /** getToken may give a token string or {token, expiresAt}, such as POST /v1/sessions answers. */
  function normalizeToken(v) {
    if (typeof v === "string" && v !== "") {
      return { token: v, expiresAt: undefined };
    }
    if (v && typeof v === "object" && typeof v.token === "string" && v.token !== "") {
      return { token: v.token, expiresAt: toTime(v.expiresAt) };
    }
    throw new TypeError("getToken must give a token string or {token, expiresAt}, not " + describe(v));
  }

  /** An expiry as milliseconds since the epoch: from an RFC 3339 string, a Date or a number of milliseconds. */
  function toTime(v) {
    let ms;
    if (v instanceof Date) {
      ms = v.getTime();
    } else if (typeof v === "number") {
      ms = v;
    } else if (typeof v === "string") {
      ms = Date.parse(v);
    }
    return typeof ms === "number" && isFinite(ms) ? ms : undefined;
  }

  function aborted(signal) {
    return new SwitchboardError("the run was aborted", "aborted", 0, { cause: signal.reason });
  }

  /** p, unless signal aborts first: then a rejection with [aborted, null]. */
  function abortable(p, signal) {
    if (!signal) {
      return p;
    }
    if (signal.aborted) {
      return Promise.reject([aborted(signal), null]);
    }
    return new Promise((resolve, reject) => {
      const onAbort = () => reject([aborted(signal), null]);
      signal.addEventListener("abort", onAbort, { once: true });
      p.then(
        (v) => {
          signal.removeEventListener("abort", onAbort);
          resolve(v);
        },
        (e) => {
          signal.removeEventListener("abort", onAbort);
          reject(e);
        },
      );
    });
  }

  function describe(v) {
    if (v instanceof Error) {
      return v.message;
    }
    if (Array.isArray(v) && v[0] instanceof Error) {
      return v[0].message;
    }
    try {
      return JSON.stringify(v) || String(v);
    } catch (e) {
      return String(v);
    }
  }

  /**
   * The seed platform's Cards SDK on a Switchboard client: cards keep their
   * calls after `const Kustomer = Switchboard.kustomer(sb)`.
   *
   * command.run(name, {body, headers, urlArgs}) returns the promise of
   * sb.command.run (it rejects with [err, data]); with a callback it returns
   * nothing and calls callback(null, response) or callback(err, data).
   *
   * @param {ReturnType<typeof connect>} sb
   */
  function kustomer(sb) {
    if (!sb || !sb.command || typeof sb.command.run !== "function") {
      throw new TypeError("Switchboard.kustomer: pass the client that Switchboard.connect returned");
    }
    return {
      command: {
        run(name, options, callback) {
          if (typeof options === "function" && callback === undefined) {
            callback = options;
            options = undefined;
          }
          const p = sb.command.run(name, options);
          if (typeof callback !== "function") {
            return p;
          }
          // The callback runs outside the promise chain, so that an error it
          // throws is reported as uncaught rather than lost in a rejection.
          p.then(
            (response) => queueMicrotask(() => callback(null, response)),
            (rejection) => {
              const [err, data] = Array.isArray(rejection) ? rejection : [rejection, null];
              queueMicrotask(() => callback(err, data === undefined ? null : data));
            },
          );
          return undefined;
        },
      },
    };
  }

  root.Switchboard = Object.freeze({ connect, kustomer, SwitchboardError, version });
})(globalThis);
