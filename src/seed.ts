/**
 * `npm run seed`: migrate the configured database (environment and .env, as the service reads
 * them) and seed the demo product if none exists.
 */
import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { AppConfigModule } from './config/config.module';
import { ProductSeeder } from './product/product.seeder';
import { dataSourceOptions } from './database/data-source';
import { ensureDatabase, migrateAndSeed } from './database/prepare-database';

async function main(): Promise<void> {
  const { config } = await AppConfigModule.fromEnvironment();
  const dataSource = new DataSource(dataSourceOptions(config, await ensureDatabase(config)));
  await dataSource.initialize();
  try {
    await migrateAndSeed(dataSource, config, (ds) => new ProductSeeder(ds, config).run());
  } finally {
    await dataSource.destroy();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`Seeding failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
