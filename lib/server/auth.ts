/** Bearer API keys, compared in constant time (both sides hashed first, so lengths never leak). */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { HttpError } from './errors.js';

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

export function apiKeyCheck(apiKey: string | undefined): (req: IncomingMessage) => void {
  if (apiKey === undefined) return () => {};
  const want = digest(apiKey);
  return (req) => {
    const header = req.headers.authorization;
    const got = typeof header === 'string' && /^Bearer /i.test(header) ? header.slice(7).trim() : undefined;
    if (got === undefined || !timingSafeEqual(digest(got), want)) {
      throw new HttpError(
        401,
        got === undefined ? 'Missing API key: send `Authorization: Bearer <key>`' : 'Incorrect API key provided',
        'authentication_error',
        null,
        'invalid_api_key',
        { 'www-authenticate': 'Bearer' },
      );
    }
  };
}
