import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { printApiSchema, schemaFilePath } from '../../src/schema';

describe('schema.graphql', () => {
  it('is what the code generates (run `npm run schema` after changing resolvers, inputs or entities)', () => {
    const checkedIn = fs.readFileSync(schemaFilePath(), 'utf8');
    expect(printApiSchema()).toBe(checkedIn);
  });

  it('declares the Month and DateTime scalars and the userErrors payload convention', () => {
    const sdl = printApiSchema();
    expect(sdl).toContain('scalar Month');
    expect(sdl).toContain('scalar DateTime');
    expect(sdl).toMatch(/type DepartmentPayload \{\n\s+department: Department\n\s+userErrors: \[UserError!\]!\n\}/);
  });
});
