/*
 * The baseline of the command benchmark: a Nest app on the Fastify adapter
 * with the service's ValidationPipe options and one POST route taking the
 * case request's fields, and nothing behind it (no guard, no event store).
 * Run in its own process (`node -r scripts/register-aliases.js
 * dist/bench/support/bare-app.js`, PORT from the environment) so that it,
 * like the service, does not share an event loop with the load generator.
 */
import 'reflect-metadata';
import { Body, Controller, Module, Post, ValidationPipe } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayNotEmpty,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  IsUrl,
  Matches,
  MaxLength,
  Min,
  ValidateNested,
} from 'class-validator';
import { randomUUID } from 'node:crypto';
import { CASE_KINDS, CASE_REASONS, CHANNELS } from '@aftersales/domain';

// The service's own pipe factory lives in apps/, which bench/ may not import
// (.dependency-cruiser.js, nothing-imports-apps); these are its options.
const ID = /^[A-Za-z0-9_-]{1,64}$/;

class BareLineDto {
  @IsString()
  @Matches(ID)
  lineId!: string;

  @IsInt()
  @Min(1)
  quantity!: number;
}

class BareRequestCaseDto {
  @IsString()
  @Matches(ID)
  orderId!: string;

  @IsIn(CASE_KINDS)
  kind!: string;

  @IsIn(CASE_REASONS)
  reason!: string;

  @IsOptional()
  @IsString()
  @MaxLength(2000)
  description?: string;

  @IsArray()
  @ArrayNotEmpty()
  @ValidateNested({ each: true })
  @Type(() => BareLineDto)
  lines!: BareLineDto[];

  @IsOptional()
  @IsInt()
  @Min(1)
  requestedAmount?: number;

  @IsOptional()
  @IsArray()
  @ArrayMaxSize(9)
  @IsUrl({ protocols: ['http', 'https'], require_protocol: true }, { each: true })
  evidence?: string[];

  @IsOptional()
  @IsIn(CHANNELS)
  channel?: string;

  @IsOptional()
  @IsBoolean()
  pickup?: boolean;
}

@Controller('v1/cases')
class BareCasesController {
  @Post()
  request(@Body() body: BareRequestCaseDto): { caseId: string; orderId: string; status: string } {
    return { caseId: randomUUID(), orderId: body.orderId, status: 'pending_merchant' };
  }
}

@Module({ controllers: [BareCasesController] })
class BareModule {}

async function main(): Promise<void> {
  const app = await NestFactory.create<NestFastifyApplication>(BareModule, new FastifyAdapter(), { logger: ['error', 'warn'] });
  app.useGlobalPipes(
    new ValidationPipe({
      whitelist: true,
      forbidNonWhitelisted: true,
      forbidUnknownValues: true,
      transform: true,
      validationError: { target: false, value: false },
    }),
  );
  await app.listen(Number(process.env.PORT ?? 3001), '127.0.0.1');
  process.stdout.write('bare app listening\n');
  process.once('SIGTERM', () => void app.close().then(() => process.exit(0)));
}

if (require.main === module) {
  main().catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  });
}
