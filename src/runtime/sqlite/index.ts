export { openSqliteState, SqliteState, DEFAULT_HISTORY_LIMIT } from './sqlite-state.js';
export type { SqliteStateOptions } from './sqlite-state.js';
export { MIGRATIONS, SCHEMA_VERSION, migrate, schemaVersion } from './schema.js';
