import { DynamicModule, Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { APP_CONFIG, AppConfig, loadConfig } from './config';

/**
 * The configuration, through @nestjs/config: the environment, plus a `.env` file in the working
 * directory when there is one (a variable set in the environment wins over `.env`), validated by
 * loadConfig into one typed AppConfig, provided as APP_CONFIG to every module. A bad value rejects
 * with a ConfigError naming the variable; main.ts turns that into one line on stderr and exit 1.
 */
@Module({})
export class AppConfigModule {
  /** Reads and validates the environment and `.env`; the typed config comes back with the module. */
  static async fromEnvironment(envFilePath = '.env'): Promise<{ module: DynamicModule; config: AppConfig }> {
    let config: AppConfig | undefined;
    const configModule = await ConfigModule.forRoot({
      isGlobal: true,
      envFilePath,
      validate: (raw) => {
        config = loadConfig(raw as Record<string, string | undefined>);
        return raw;
      },
    });
    if (!config) throw new Error('configuration was not validated');
    return { module: AppConfigModule.withConfig(config, configModule), config };
  }

  /**
   * A module providing an already validated config (the tests build one per application; several
   * applications with different settings can live in one process).
   */
  static withConfig(config: AppConfig, configModule?: DynamicModule): DynamicModule {
    return {
      module: AppConfigModule,
      global: true,
      imports: configModule ? [configModule] : [],
      providers: [{ provide: APP_CONFIG, useValue: config }],
      exports: [APP_CONFIG],
    };
  }
}
