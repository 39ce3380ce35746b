/** What went wrong in a call to an inference server. */
export type RemoteFailure =
  /** The server answered with an HTTP error status. */
  | 'http'
  /** No response within the request timeout. */
  | 'timeout'
  /** No connection, or the connection broke (refused, reset, closed mid-response). */
  | 'network'
  /** The server answered 2xx with a body that is not the wire format (not JSON, missing fields). */
  | 'protocol';

/**
 * A call to a remote inference server failed. The message names the server, the endpoint, the HTTP
 * status and the server's own message: `POST http://gpu1:8000/v1/completions: HTTP 400: This model's
 * maximum context length is 4096 tokens…`.
 */
export class RemoteBackendError extends Error {
  override name = 'RemoteBackendError';
  constructor(
    readonly failure: RemoteFailure,
    /** The server's base URL, e.g. `http://127.0.0.1:8000`. */
    readonly server: string,
    /** Method and path, e.g. `POST /v1/completions`. */
    readonly endpoint: string,
    /** The HTTP status, or null when no response came. */
    readonly status: number | null,
    /** The server's message (OpenAI error body), or what the client saw. */
    readonly serverMessage: string,
    /** Attempts made, retries included. */
    readonly attempts: number,
    options?: { cause?: unknown },
  ) {
    const [method, path] = endpoint.split(' ');
    const where = `${method} ${server}${path}`;
    const what = status === null ? serverMessage : `HTTP ${status}: ${serverMessage}`;
    const tries = attempts > 1 ? ` (after ${attempts} attempts)` : '';
    super(`${where}: ${what}${tries}`, options);
  }
}
