import { applyDecorators } from '@nestjs/common';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { ApiProperty, ApiResponse, DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { BODY_LIMIT_BYTES } from '../common/error-response';
import { DomainError, InvalidJsonError, PayloadTooLargeError, UnsupportedMediaTypeError, ValidationFailedError } from '../common/errors';

/** The contract's error body, as the OpenAPI document shows it. */
export class ErrorBody {
  @ApiProperty({ example: 409 })
  statusCode: number;

  @ApiProperty({ example: 'insufficient_stock', description: 'Stable machine code.' })
  error: string;

  @ApiProperty({ example: 'Only 3 units are available.' })
  message: string;
}

/** What any route with a JSON body can answer before its own rules run (the contract's order). */
export const BODY_ERRORS: DomainError[] = [
  new PayloadTooLargeError(BODY_LIMIT_BYTES),
  new UnsupportedMediaTypeError(),
  new InvalidJsonError(),
  new ValidationFailedError([]),
];

/**
 * Documents a route's error answers from the very error classes it throws, so the document names
 * the same status and `error` code the exception filter sends. Errors sharing a status are listed
 * together.
 */
export function ApiErrors(...errors: DomainError[]): MethodDecorator & ClassDecorator {
  const byStatus = new Map<number, DomainError[]>();
  for (const e of errors) byStatus.set(e.status, [...(byStatus.get(e.status) ?? []), e]);
  return applyDecorators(
    ...[...byStatus].map(([status, list]) =>
      ApiResponse({
        status,
        description: list.map((e) => `\`${e.code}\`: ${e.message}`).join(' | '),
        type: ErrorBody,
        example: { statusCode: status, error: list[0].code, message: list[0].message, ...list[0].extra },
      }),
    ),
  );
}

/** GET /docs (Swagger UI) and GET /docs-json (the OpenAPI document), generated from the code. */
export function setUpApiDocs(app: NestFastifyApplication): void {
  const config = new DocumentBuilder()
    .setTitle('Flash-sale checkout')
    .setDescription(
      'Sells a limited stock to a burst of buyers without overselling: holds, orders, payment webhook. The contract, with every status and error code, is docs/API.md in the repository.',
    )
    .setVersion('1')
    .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'ADMIN_TOKEN' }, 'admin')
    .build();
  const document = SwaggerModule.createDocument(app, config);
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs-json', raw: ['json'] });
}
