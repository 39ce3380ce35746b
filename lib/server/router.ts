/** Routes: path → method → handler, with 404 for an unknown path and 405 (and Allow) for a wrong method. */
import { HttpError } from './errors.js';
import type { Handler } from './exchange.js';

export interface Route {
  /** Whether the route needs the API key (the model endpoints; /health and /metrics stay open, as in vLLM). */
  auth: boolean;
  /** Whether the route runs a model and so takes a queue slot. */
  queued: boolean;
  /** Whether a JSON body is read. */
  body: boolean;
  handler: Handler;
}

export type Routes = Record<string, Partial<Record<'GET' | 'POST', Route>>>;

export function route(routes: Routes, method: string | undefined, url: string | undefined): { path: string; route: Route } {
  const path = (url ?? '/').split('?')[0]!;
  const byMethod = Object.hasOwn(routes, path) ? routes[path]! : undefined;
  if (byMethod === undefined) throw new HttpError(404, `No route for ${path}`, 'not_found_error', null, 'route_not_found');
  const r = (byMethod as Record<string, Route | undefined>)[method ?? 'GET'];
  if (r === undefined) {
    const allow = Object.keys(byMethod).join(', ');
    throw new HttpError(405, `${path} takes ${allow}, not ${method}`, 'invalid_request_error', null, 'method_not_allowed', { allow });
  }
  return { path, route: r };
}
