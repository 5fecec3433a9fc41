import { DynamicModule, Inject, Module, OnModuleInit } from '@nestjs/common';
import { InjectDataSource, TypeOrmModule } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { APP_CONFIG, AppConfig, DbType } from '../config/config';
import { configureSessions, dataSourceOptions } from './data-source';

@Module({})
export class DatabaseModule implements OnModuleInit {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  static forRoot(config: AppConfig, type: DbType): DynamicModule {
    return {
      module: DatabaseModule,
      imports: [TypeOrmModule.forRoot({ ...dataSourceOptions(config, type), retryAttempts: 0 })],
    };
  }

  async onModuleInit(): Promise<void> {
    await configureSessions(this.dataSource, this.config);
  }
}
