import type { ArgumentMetadata } from '@nestjs/common';
import { Type } from 'class-transformer';
import { IsArray, IsInt, IsString, Min, ValidateNested } from 'class-validator';
import { ProblemException } from './problem';
import { createValidationPipe } from './validation';

class Line {
  @IsString()
  lineId!: string;

  @IsInt()
  @Min(1)
  quantity!: number;
}

class Request {
  @IsString()
  reason!: string;

  @IsArray()
  @ValidateNested({ each: true })
  @Type(() => Line)
  lines!: Line[];
}

const metadata: ArgumentMetadata = { type: 'body', metatype: Request, data: undefined };

async function refusal(value: unknown): Promise<ProblemException> {
  const error = await createValidationPipe()
    .transform(value, metadata)
    .then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(ProblemException);
  return error as ProblemException;
}

describe('the edge ValidationPipe', () => {
  it('returns an instance of the DTO for a valid body', async () => {
    const value = await createValidationPipe().transform({ reason: 'damaged', lines: [{ lineId: 'l1', quantity: 1 }] }, metadata);
    expect(value).toBeInstanceOf(Request);
    expect(value.lines[0]).toBeInstanceOf(Line);
  });

  it('lists nested failures as dotted paths', async () => {
    const { problem } = await refusal({ reason: 'x', lines: [{ lineId: 'l1', quantity: 1 }, { lineId: 7, quantity: 0 }] });
    expect(problem).toMatchObject({ status: 400, title: 'Bad Request' });
    expect(problem.errors).toEqual([
      { field: 'lines.1.lineId', message: 'lineId must be a string' },
      { field: 'lines.1.quantity', message: 'quantity must not be less than 1' },
    ]);
  });

  it('refuses unknown fields by name instead of dropping them', async () => {
    const { problem } = await refusal({ reason: 'x', lines: [], refundTo: 'elsewhere' });
    expect(problem.errors).toEqual([{ field: 'refundTo', message: 'refundTo is not a known field' }]);
  });

  it('does not convert types on the way', async () => {
    const { problem } = await refusal({ reason: 'x', lines: [{ lineId: 'l1', quantity: '2' }] });
    expect(problem.errors?.[0]?.field).toBe('lines.0.quantity');
  });

  it('refuses a body that is not an object', async () => {
    for (const value of [[{ reason: 'x', lines: [] }], 'text', 42]) {
      const { problem } = await refusal(value);
      expect(problem.status).toBe(400);
      expect(problem.errors?.length).toBeGreaterThan(0);
    }
  });
});
