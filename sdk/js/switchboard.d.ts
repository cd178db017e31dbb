// Type declarations of Switchboard's browser SDK, served at
// /sdk/v1/switchboard.d.ts. They describe the named exports of
// switchboard.mjs and, through `export as namespace`, the global
// `Switchboard` that switchboard.js defines when loaded as a script.

export as namespace Switchboard;

/** The SDK's version. */
export declare const version: string;

/** Connects to a Switchboard server. Throws a TypeError when options lack server, or both token and getToken. */
export declare function connect(options: ConnectOptions): Client;

/**
 * The seed platform's Cards SDK on a Switchboard client, so that a card's
 * code keeps its calls after `const Kustomer = Switchboard.kustomer(sb)`.
 */
export declare function kustomer(client: Client): Kustomer;

export interface ConnectOptions {
  /** The Switchboard server's URL, such as "https://switchboard.example.com" (a trailing slash is ignored). */
  server: string;
  /** A session token (sbs_...) from POST /v1/sessions. Optional when getToken is given: the first run asks for one. */
  token?: string;
  /** When token expires: an RFC 3339 string (as POST /v1/sessions answers), a Date, or milliseconds since the epoch. */
  expiresAt?: string | number | Date;
  /**
   * Gives a fresh token: a string, or {token, expiresAt} (the session
   * document of POST /v1/sessions will do), or a promise of either. Called
   * when a run starts within 30 seconds of the known expiry, and once after
   * the server answers 401 (the run is then retried once). Concurrent runs
   * share one call.
   */
  getToken?: () => string | TokenInfo | Promise<string | TokenInfo>;
}

export interface TokenInfo {
  token: string;
  expiresAt?: string | number | Date;
}

export interface Client {
  /** The server's URL, without a trailing slash. */
  readonly server: string;
  readonly command: {
    /**
     * Runs a command (POST /v1/commands/{name}/run). Resolves with the run
     * document when the upstream answered 2xx; otherwise rejects with
     * `[err, data]` (see {@link RunRejection}).
     */
    run(name: string, options?: RunOptions): Promise<RunDocument>;
  };
}

export interface RunOptions {
  body?: unknown;
  headers?: Record<string, string>;
  /** The command's args (its permittedUrlArgs / permittedArgs). */
  urlArgs?: Record<string, string>;
  /** A synonym of urlArgs, as the REST API names them; the server merges both. */
  args?: Record<string, string>;
  /** Aborts the run (and a token refresh it waits for): it rejects with code "aborted". */
  signal?: AbortSignal;
}

/** The run document of POST /v1/commands/{name}/run. */
export interface RunDocument {
  /** The upstream's status. */
  status: number;
  /** The upstream's response headers, names in lower case. */
  headers: Record<string, string>;
  /** The upstream's body: a JSON value, or the text. */
  body: unknown;
  cache: "none" | "miss" | "hit" | "stale";
  /** True when a stale response was served in Cache Fallback Mode; false (non-enumerable) when the server left it out. */
  cacheFallback: boolean;
  /** The seed platform's name of status (a non-enumerable getter). */
  readonly statusCode: number;
  /** The seed platform's name of headers (a non-enumerable getter). */
  readonly responseHeaders: Record<string, string>;
  /** The seed platform's name of body (a non-enumerable getter). */
  readonly responseBody: unknown;
}

/** An RFC 9457 problem document: the server refused the run. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail?: string;
  code: string;
  errors?: { message: string; location?: string }[];
}

/**
 * What a run rejects with, as the Cards SDK does: `const [err, data] = e`.
 * data is the run document when the upstream answered non-2xx
 * (err.code "upstream_status", err.status the upstream's status), the
 * problem document when Switchboard refused (err.code its code, err.status
 * the HTTP status), and null when nothing usable came back.
 */
export type RunRejection = [SwitchboardError, RunDocument | Problem | null];

export declare class SwitchboardError extends Error {
  constructor(message: string, code: string, status: number, options?: { cause?: unknown });
  readonly name: "SwitchboardError";
  /**
   * A problem document's code ("unauthorized", "not_found", ...), or
   * "upstream_status", or the SDK's own: "network", "aborted",
   * "token_unavailable", "invalid_input", "unexpected_response".
   */
  code: string;
  /** The HTTP status, the upstream's status for "upstream_status", 0 when there was no answer. */
  status: number;
}

export interface Kustomer {
  readonly command: {
    /** As Kustomer.command.run: a promise that rejects with [err, data]. */
    run(name: string, options?: RunOptions): Promise<RunDocument>;
    /** With a Node-style callback: called with (null, response) or (err, data); returns nothing. */
    run(name: string, options: RunOptions | undefined, callback: KustomerCallback): void;
    run(name: string, callback: KustomerCallback): void;
  };
}

export type KustomerCallback = (err: SwitchboardError | null, response: RunDocument | Problem | null) => void;
