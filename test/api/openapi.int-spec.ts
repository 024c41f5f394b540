import SwaggerParser from '@apidevtools/swagger-parser';
import { startCommandApp, type CommandApp } from '../commands/support/app';

jest.setTimeout(60_000);

// /docs-json, as the service serves it, must pass a standard OpenAPI
// validator: client generators give up on a document that does not.
describe('OpenAPI document at /docs-json', () => {
  let service: CommandApp;
  let document: Record<string, any>;

  beforeAll(async () => {
    service = await startCommandApp();
    const response = await service.call('get', '/docs-json');
    expect(response.status).toBe(200);
    document = response.body;
  });

  afterAll(async () => {
    await service?.close();
  });

  it('passes swagger-parser validation (schema and spec)', async () => {
    // validate() dereferences in place, so it gets a copy.
    const outcome = await SwaggerParser.validate(structuredClone(document) as never).then(
      () => 'valid',
      (error: Error) => error.message,
    );
    expect(outcome).toBe('valid');
  });

  it.each([
    ['/v1/orders/{orderId}', 'put', 'OrderLineDto'],
    ['/v1/cases', 'post', 'RequestedLineDto'],
  ])('describes the lines of %s %s as %s', (path, method, lineSchema) => {
    const body = document.paths[path][method].requestBody.content['application/json'].schema;
    const name = String(body.$ref).replace('#/components/schemas/', '');
    expect(document.components.schemas[name].properties.lines.items).toEqual({ $ref: `#/components/schemas/${lineSchema}` });
    expect(document.components.schemas[lineSchema].properties.lineId).toBeDefined();
  });
});
