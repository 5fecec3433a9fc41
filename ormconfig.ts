/**
 * The TypeORM data source for the CLI (`npm run migration:run`, `npm run migration:generate`).
 * It is built by the same function as the app's (src/database/data-source.ts) from the same
 * environment variables; the server type (MySQL or MariaDB) is asked of the server unless DB_TYPE says.
 * In the app each module registers its own entities; here they are found by file name.
 */
import 'reflect-metadata';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { loadConfig } from './src/config/config';
import { dataSourceOptions } from './src/database/data-source';
import { ensureDatabase } from './src/database/prepare-database';

const config = loadConfig(process.env);

export default ensureDatabase(config).then((type) => new DataSource({ ...dataSourceOptions(config, type), entities: [join(__dirname, 'src', '**', '*.entity.{ts,js}')] }));
