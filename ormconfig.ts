/**
 * The TypeORM data source for the CLI (`npm run migration:run`, `npm run migration:generate`).
 * It is built by the same function as the app's (src/database/data-source.ts) from the same
 * environment variables; the server type (MySQL or MariaDB) is asked of the server unless DB_TYPE says.
 */
import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { loadConfig } from './src/config/config';
import { dataSourceOptions } from './src/database/data-source';
import { ensureDatabase } from './src/database/prepare-database';

const config = loadConfig(process.env);

export default ensureDatabase(config).then((type) => new DataSource(dataSourceOptions(config, type)));
