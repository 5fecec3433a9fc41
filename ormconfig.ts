/**
 * The TypeORM data source for the CLI (`npm run migration:run`, `npm run migration:generate`).
 * It is built by the same function as the app's (src/database/data-source.ts) from the same
 * environment variables; the server type (MySQL or MariaDB) is asked of the server unless DB_TYPE says.
 * In the app each module registers its own entities; here they are found by file name.
 */
import 'reflect-metadata';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { AppConfigModule } from './src/config/config.module';
import { dataSourceOptions } from './src/database/data-source';
import { ensureDatabase } from './src/database/prepare-database';

async function cliDataSource(): Promise<DataSource> {
  const { config } = await AppConfigModule.fromEnvironment();
  const type = await ensureDatabase(config);
  return new DataSource({ ...dataSourceOptions(config, type), entities: [join(__dirname, 'src', '**', '*.entity.{ts,js}')] });
}

export default cliDataSource();
