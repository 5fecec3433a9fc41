import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Products, holds and orders. product_id carries no foreign key on purpose: InnoDB would take a
 * shared lock on the (hot) product row for every hold and order insert. Products are never deleted.
 */
export class CheckoutCore1764000000000 implements MigrationInterface {
  name = 'CheckoutCore1764000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE products (
        id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
        name VARCHAR(200) NOT NULL,
        price DECIMAL(12,2) NOT NULL,
        stock BIGINT UNSIGNED NOT NULL,
        reserved BIGINT UNSIGNED NOT NULL DEFAULT 0,
        created_at DATETIME(3) NOT NULL,
        updated_at DATETIME(3) NOT NULL,
        PRIMARY KEY (id)
      ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`);
    await queryRunner.query(`
      CREATE TABLE holds (
        id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
        product_id BIGINT UNSIGNED NOT NULL,
        qty INT UNSIGNED NOT NULL,
        status ENUM('active','expired','converted') NOT NULL DEFAULT 'active',
        expires_at DATETIME(3) NOT NULL,
        created_at DATETIME(3) NOT NULL,
        PRIMARY KEY (id),
        KEY idx_holds_product_status_expires (product_id, status, expires_at, qty),
        KEY idx_holds_status_expires (status, expires_at)
      ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`);
    await queryRunner.query(`
      CREATE TABLE orders (
        id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
        hold_id BIGINT UNSIGNED NOT NULL,
        product_id BIGINT UNSIGNED NOT NULL,
        qty INT UNSIGNED NOT NULL,
        unit_price DECIMAL(12,2) NOT NULL,
        total DECIMAL(14,2) NOT NULL,
        status ENUM('pending','paid','cancelled') NOT NULL DEFAULT 'pending',
        created_at DATETIME(3) NOT NULL,
        updated_at DATETIME(3) NOT NULL,
        PRIMARY KEY (id),
        UNIQUE KEY uq_orders_hold_id (hold_id),
        KEY idx_orders_status_id (status, id),
        KEY idx_orders_product_id (product_id, id),
        CONSTRAINT fk_orders_hold FOREIGN KEY (hold_id) REFERENCES holds (id)
      ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE orders');
    await queryRunner.query('DROP TABLE holds');
    await queryRunner.query('DROP TABLE products');
  }
}
