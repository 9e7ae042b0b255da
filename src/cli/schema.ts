/* `npm run schema`: regenerates schema.graphql from the resolver classes. */
import 'reflect-metadata';
import { schemaFilePath, writeSchemaFile } from '../schema';

const changed = writeSchemaFile();
process.stdout.write(`${schemaFilePath()} ${changed ? 'updated' : 'unchanged'}\n`);
