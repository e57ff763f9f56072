// The emulator's internal contracts: every REST request and answer of the scheduler and the bank,
// and the scheduler → bank escrow operations, as zod schemas imported by both the serving and the
// calling side; OpenAPI documents are generated from them.
export * from './bank';
export * from './bank-escrow';
export { bankOpenApi } from './bank-openapi';
export { address, decimalAmount, errorBody } from './common';
export * from './faults';
export { type OpenApiSpec, openApiDocument, type Route } from './openapi';
export * from './scheduler';
export { schedulerOpenApi } from './scheduler-openapi';
