/** `GET /v1/models` as vLLM serves it. */
import { eachOf, FieldReader } from './validate.js';

export interface ModelCard {
  id: string;
  object: 'model';
  created: number;
  owned_by: string;
  /** vLLM extras: the served model's path or repo id, and its context length. */
  root?: string | null;
  parent?: string | null;
  max_model_len?: number | null;
}

export interface ModelList {
  object: 'list';
  data: ModelCard[];
}

export function parseModelList(body: unknown): ModelList {
  const r = FieldReader.of(body, '');
  const data = eachOf(r.array('data'), 'data', (m): ModelCard => {
    const card: ModelCard = {
      id: m.string('id'),
      object: 'model',
      created: m.optNumber('created') ?? 0,
      owned_by: m.optString('owned_by') ?? '',
    };
    if (m.has('root')) card.root = m.string('root');
    if (m.has('parent')) card.parent = m.string('parent');
    if (m.has('max_model_len')) card.max_model_len = m.number('max_model_len', { integer: true, min: 1 });
    return card;
  });
  return { object: 'list', data };
}
