export { MIGRATIONS, type Migration, migrate, SCHEMA_VERSION, schemaVersion } from './migrations.js';
export { sqliteError } from './sqlite-errors.js';
export {
  type BackupProgress,
  checkBackupFile,
  MAINTENANCE_TASKS,
  type MaintenanceReport,
  type MaintenanceTask,
  type ModuleExport,
  openWriterConnection,
  type Pruner,
  STORE_ACTOR,
  Store,
  type StoreMessage,
  type StoreOptions,
  StoreReader,
  type StoreStats,
  storeActorSpec,
  type WriteHandler,
  type WritersFactory,
} from './store.js';
