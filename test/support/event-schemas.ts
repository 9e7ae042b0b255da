import fs from 'node:fs';
import path from 'node:path';
import Ajv from 'ajv';

/** docs/events.schema.json: one JSON Schema per event type's payload. */
export const EVENT_SCHEMA = JSON.parse(fs.readFileSync(path.resolve(__dirname, '../../docs/events.schema.json'), 'utf8')) as { definitions: Record<string, object> };

// Strict: the schema is ours. Formats named here rather than by a plugin: the two the schema uses.
const ajv = new Ajv({ strict: true, allowUnionTypes: true, allErrors: true });
ajv.addFormat('uuid', /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i);
ajv.addFormat('date-time', /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/);

/** A validator per event type. */
export const eventValidators = new Map(Object.entries(EVENT_SCHEMA.definitions).map(([type, schema]) => [type, ajv.compile(schema)]));

/** Each event whose payload its type's schema refuses (or whose type has none), with why: empty when all are valid. */
export function invalidEvents(events: Array<{ type: string; seq?: number; payload: unknown }>): string[] {
  return events.flatMap((e) => {
    const validate = eventValidators.get(e.type);
    if (!validate) return [`${e.type}: no schema`];
    return validate(e.payload) ? [] : [`${e.type} #${e.seq ?? '?'}: ${ajv.errorsText(validate.errors)}`];
  });
}
